"""Payment gateways behind one small interface.

``settings.PAYMENT_GATEWAY`` names the class; a real processor is another
``Gateway`` subclass. A gateway never sees the database and the store never
keeps a card number: a ``Charge`` carries only the brand and last four digits
back.
"""
import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Card:
    number: str = field(repr=False)  # digits only; kept out of reprs, so out of logs and error reports
    exp_month: int
    exp_year: int
    cvc: str = field(repr=False)

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @property
    def brand(self) -> str:
        if self.number.startswith("4"):
            return "Visa"
        if self.number[:2] in {"51", "52", "53", "54", "55"} or "2221" <= self.number[:4] <= "2720":
            return "Mastercard"
        if self.number[:2] in {"34", "37"}:
            return "American Express"
        return "Card"


class GatewayUnavailable(Exception):
    """The gateway could not be reached or its answer was lost: whether the card was charged is not known yet."""


@dataclass(frozen=True)
class Charge:
    succeeded: bool
    reference: str
    message: str = ""


class Gateway:
    """What checkout needs from a payment processor."""

    name = "gateway"

    def charge(self, *, amount: Decimal, currency: str, card: Card, idempotency_key: str) -> Charge:
        """Charge the card once per idempotency key: a retry returns the first answer.

        Raises GatewayUnavailable when it cannot tell whether the card was charged.
        """
        raise NotImplementedError

    def refund(self, *, amount: Decimal, currency: str, charge_reference: str, idempotency_key: str) -> Charge:
        raise NotImplementedError

    def find_charge(self, *, idempotency_key: str) -> Charge | None:
        """The answer a charge with this key got, or None if the gateway never saw one.

        How the store settles an order whose checkout stopped (a killed
        process, a lost connection) after asking for the charge and before
        recording the answer.
        """
        raise NotImplementedError


class TestGateway(Gateway):
    """A card processor's test mode: fixed card numbers give fixed answers.

    Like a processor it keeps its answers (in the cache, for a week), so a
    retried charge returns the first answer and ``find_charge`` can look one
    up. Without the cache it forgets them: a test mode's records are not money.
    """

    name = "test"
    SUCCEEDS = "4242424242424242"
    DECLINED = "4000000000000002"
    INSUFFICIENT_FUNDS = "4000000000009995"
    KEPT = timedelta(days=7)

    def charge(self, *, amount, currency, card, idempotency_key):
        if (first := self.find_charge(idempotency_key=idempotency_key)) is not None:
            return first
        reference = "test_ch_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        if card.number == self.SUCCEEDS:
            answer = Charge(True, reference)
        elif card.number == self.DECLINED:
            answer = Charge(False, reference, "Your card was declined.")
        elif card.number == self.INSUFFICIENT_FUNDS:
            answer = Charge(False, reference, "Your card has insufficient funds.")
        else:
            answer = Charge(False, reference, "Your card was declined: the test gateway accepts test card numbers only.")
        cache.set(self._record_key(idempotency_key), answer, timeout=int(self.KEPT.total_seconds()))
        return answer

    def find_charge(self, *, idempotency_key):
        return cache.get(self._record_key(idempotency_key))

    @staticmethod
    def _record_key(idempotency_key: str) -> str:
        return "test-gateway:charge:" + hashlib.sha256(idempotency_key.encode()).hexdigest()

    def refund(self, *, amount, currency, charge_reference, idempotency_key):
        return Charge(True, "test_re_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24])


def get_gateway() -> Gateway:
    return import_string(settings.PAYMENT_GATEWAY)()
