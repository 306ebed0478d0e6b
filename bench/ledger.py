"""The test gateway with books of its own, for ``failover.py``: every charge it makes, one JSON line in a file.

``TestGateway`` keeps its answers in the cache, and ``failover.py`` kills the
Valkey primary; a card processor's records do not live on the store's
servers. This file plays them, so the audit can tell a charge the store lost
track of (charged, no paid order) from one it never made. Set
``PAYMENT_GATEWAY=bench.ledger.LedgerGateway`` and ``PAYMENT_LEDGER`` (the
file) in the server's environment; gunicorn runs from the repo, so ``bench``
imports.
"""
import json
import os
import time

from orders.payments import TestGateway


class LedgerGateway(TestGateway):
    def charge(self, *, amount, currency, card, idempotency_key):
        if (first := self.find_charge(idempotency_key=idempotency_key)) is not None:
            return first  # the processor answers a retry from its records: no new charge
        answer = super().charge(amount=amount, currency=currency, card=card, idempotency_key=idempotency_key)
        charge = {"key": idempotency_key, "succeeded": answer.succeeded, "amount": str(amount), "at": time.time()}
        # One short write in append mode: whole lines, whatever the number of workers writing.
        with open(os.environ["PAYMENT_LEDGER"], "a") as books:
            books.write(json.dumps(charge) + "\n")
        return answer

