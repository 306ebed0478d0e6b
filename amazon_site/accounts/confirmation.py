"""Signed links that confirm an e-mail address: no table of tokens, an expiry in the signature.

The token names the claim and its address, so a claim replaced or changed
since voids its links; it expires after ``EMAIL_CONFIRMATION_DAYS``.
"""
from django.conf import settings
from django.core import signing

from .errors import AccountError

SALT = "accounts.email-confirmation"
LINK_EXPIRED = "This confirmation link has expired. Log in and ask for a new one from your account page."
LINK_INVALID = "This confirmation link is not valid. Copy the whole link from the mail, or ask for a new one."


def max_age() -> int:
    return settings.EMAIL_CONFIRMATION_DAYS * 86400


def make_token(address) -> str:
    return signing.TimestampSigner(salt=SALT).sign_object({"id": address.pk, "email": address.email})


def read_token(token: str) -> dict:
    """The claim's id and address a token names; AccountError if it is forged, garbled or expired."""
    try:
        data = signing.TimestampSigner(salt=SALT).unsign_object(token, max_age=max_age())
    except signing.SignatureExpired:
        raise AccountError(LINK_EXPIRED) from None
    except (signing.BadSignature, ValueError, UnicodeError):
        raise AccountError(LINK_INVALID) from None
    if not isinstance(data, dict) or not isinstance(data.get("id"), int) or not isinstance(data.get("email"), str):
        raise AccountError(LINK_INVALID)
    return data
