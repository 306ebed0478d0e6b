"""Reads about shoppers' accounts and addresses."""
from django.contrib.auth import get_user_model
from django.db.models.functions import Lower

from .models import EmailAddress


def email_taken(email: str, *, exclude_user=None) -> bool:
    """Whether another account claims ``email`` or has it as its address (case-insensitively)."""
    claims = EmailAddress.objects.annotate(lower=Lower("email")).filter(lower=email.strip().lower())
    users = get_user_model().objects.filter(email__iexact=email.strip())
    if exclude_user is not None:
        claims, users = claims.exclude(user=exclude_user), users.exclude(pk=exclude_user.pk)
    return claims.exists() or users.exists()


def username_for_login(identifier: str) -> str:
    """The username an identifier typed at log-in stands for: itself, or the account's whose address it is.

    New usernames cannot hold "@", so a text with one is read as an address
    first; an address matches a claim (unique), or else one account's
    ``User.email`` (accounts from before claims; several sharing one match none).
    """
    identifier = (identifier or "").strip()
    if "@" not in identifier:
        return identifier
    claim = (
        EmailAddress.objects.annotate(lower=Lower("email"))
        .filter(lower=identifier.lower())
        .values_list("user__username", flat=True)
        .first()
    )
    if claim is not None:
        return claim
    usernames = list(get_user_model().objects.filter(email__iexact=identifier).values_list("username", flat=True)[:2])
    return usernames[0] if len(usernames) == 1 else identifier


def pending_email(user) -> EmailAddress | None:
    """The address the account claimed and has not confirmed yet, if any."""
    return EmailAddress.objects.filter(user=user, confirmed_at__isnull=True).order_by("-created_at").first()


def api_token(user):
    """The account's API token (DRF keeps one per account), or None."""
    from rest_framework.authtoken.models import Token

    return Token.objects.filter(user=user).first()
