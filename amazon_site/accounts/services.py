"""Writes to shoppers' accounts: sign-up, claiming and confirming an e-mail address."""
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from ..celery import enqueue_on_commit
from . import confirmation, emails, selectors
from .errors import AccountError
from .models import EmailAddress

EMAIL_TAKEN = "An account with this e-mail address already exists."


def sign_up(*, username: str, password: str, email: str, base_url: str):
    """Make an account with its address claimed, and mail the confirmation link once it commits.

    Raises AccountError if the address is taken (the form checks first; the
    unique index settles a race between two sign-ups).
    """
    with transaction.atomic():
        user = get_user_model().objects.create_user(username=username, password=password)
        claim(user=user, email=email, base_url=base_url)
    return user


def claim(*, user, email: str, base_url: str) -> EmailAddress:
    """Claim ``email`` for ``user`` (unconfirmed) and mail it a confirmation link after commit.

    The account's earlier unconfirmed claims go: one pending address at a time.
    Another account's claim left unconfirmed past the link's expiry is taken over.
    """
    email = email.strip()
    if user.email and user.email.lower() == email.lower():
        raise AccountError("That is already your confirmed address.")
    with transaction.atomic():
        stale = timezone.now() - timedelta(seconds=confirmation.max_age())
        claims = EmailAddress.objects.annotate(lower=Lower("email")).filter(lower=email.lower())
        EmailAddress.objects.filter(
            pk__in=claims.exclude(user=user).filter(confirmed_at__isnull=True, created_at__lt=stale).values("pk")
        ).delete()
        EmailAddress.objects.filter(user=user, confirmed_at__isnull=True).delete()
        # Accounts from before claims hold their address only in User.email, outside the index.
        if selectors.email_taken(email, exclude_user=user):
            raise AccountError(EMAIL_TAKEN)
        try:
            with transaction.atomic():
                address = EmailAddress.objects.create(user=user, email=email)
        except IntegrityError:
            raise AccountError(EMAIL_TAKEN) from None
    enqueue_on_commit(emails.confirmation_task, address.pk, base_url)
    return address


def confirm(token: str) -> EmailAddress:
    """Confirm the claim a link names: it becomes the account's address, and the old one goes."""
    data = confirmation.read_token(token)
    with transaction.atomic():
        address = EmailAddress.objects.select_for_update().select_related("user").filter(
            pk=data.get("id"), email=data.get("email")
        ).first()
        if address is None:
            raise AccountError(confirmation.LINK_INVALID)
        if address.confirmed_at is None:
            address.confirmed_at = timezone.now()
            address.save(update_fields=["confirmed_at"])
            user = address.user
            user.email = address.email
            user.save(update_fields=["email"])
            EmailAddress.objects.filter(user=user).exclude(pk=address.pk).delete()
    return address


def update_name(*, user, first_name: str, last_name: str) -> None:
    user.first_name, user.last_name = first_name.strip(), last_name.strip()
    user.save(update_fields=["first_name", "last_name"])
