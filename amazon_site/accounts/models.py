"""The e-mail addresses shoppers claim, and whether they proved they read them.

``User.email`` is the confirmed address, the one order mail goes to; it is
written only when a confirmation link is followed (or by staff in the admin,
who are trusted with it). An ``EmailAddress`` row is a claim: made at sign-up
or when a shopper changes address, confirmed through a signed link. The old
address stays in ``User.email`` until the new one is confirmed.

Uniqueness is the database's: one index on ``lower(email)`` over every claim,
so two sign-ups racing for one address cannot both win, in any process, on
SQLite and PostgreSQL alike. A claim left unconfirmed past the link's expiry
may be taken over by another sign-up (``services.claim``), so an address
cannot be held hostage by someone who does not read it.
"""
from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class EmailAddress(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_addresses")
    email = models.EmailField(max_length=254)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "e-mail addresses"
        constraints = [models.UniqueConstraint(Lower("email"), name="accounts_email_unique_ci")]

    def __str__(self):
        return f"{self.email} ({'confirmed' if self.confirmed_at else 'unconfirmed'})"
