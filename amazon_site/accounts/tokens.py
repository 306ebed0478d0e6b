"""API tokens end with the password they were obtained with.

A password reset ends the account's sessions (Django's session hash is the
password hash); the token must end too, or a thief who took it keeps the
account. The user's save is the one place every route passes through (the
password-change and reset pages, the admin, ``manage.py changepassword``,
``set_password()`` anywhere), so a receiver compares the stored hash with the
one being saved and deletes the token when it changed.
"""
from django.conf import settings
from django.db.models.signals import post_save, pre_save


def revoke_token(*, user) -> None:
    """The account's API token stops working; the next log-in for a token gets a new one."""
    from rest_framework.authtoken.models import Token  # a model: not while the apps load

    Token.objects.filter(user=user).delete()


def _note_password_change(sender, instance, raw=False, update_fields=None, **kwargs):
    instance._token_must_go = False
    if raw or instance._state.adding or (update_fields is not None and "password" not in update_fields):
        return
    # Django's own hasher upgrade at log-in saves only the password, with ``_password``
    # cleared: the same password, so not a change (as Django's password_changed treats it).
    if update_fields == frozenset({"password"}) and getattr(instance, "_password", None) is None:
        return
    stored = sender._default_manager.filter(pk=instance.pk).values_list("password", flat=True).first()
    instance._token_must_go = stored is not None and stored != instance.password


def _rotate_token(sender, instance, raw=False, **kwargs):
    if getattr(instance, "_token_must_go", False):
        instance._token_must_go = False
        revoke_token(user=instance)


def connect() -> None:
    pre_save.connect(_note_password_change, sender=settings.AUTH_USER_MODEL, dispatch_uid="tokens-note-password")
    post_save.connect(_rotate_token, sender=settings.AUTH_USER_MODEL, dispatch_uid="tokens-rotate")
