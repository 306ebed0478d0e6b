"""Log-in for people (the shop's page, the admin's) and for programs (the API token), under one set of limits;
log-out; password change and reset under limits of their own.

Every log-in counts per client IP and locks a username after repeated
failures. A locked username is refused before its password is checked, so
guesses in the window learn nothing; a successful log-in clears its failures.
A wrong current password on the password-change pages counts per account, and
reset requests per client IP and per address.
"""
from collections.abc import Callable
from typing import TypeVar

from django import forms
from django.contrib import messages
from django.contrib.admin.forms import AdminAuthenticationForm, AdminPasswordChangeForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.http import HttpResponseRedirect
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings

from ..core import ratelimit
from . import selectors, signals, tokens

TOO_MANY_LOGINS = "Too many log-in attempts from your network. Please wait {minutes} and try again."
LOCKED_OUT = (
    "Too many failed log-ins for this account. It is locked for {minutes}; "
    "please wait and try again."
)
TOO_MANY_PASSWORD_CHANGES = "Too many wrong current passwords. Please wait {minutes} and try again."
TOO_MANY_RESETS = "Too many password reset requests from your network. Please wait {minutes} and try again."

T = TypeVar("T")


def minutes(seconds: int) -> str:
    count = max(1, round(seconds / 60))
    return f"{count} minute{'s' if count != 1 else ''}"


class LoginRefused(Exception):
    def __init__(self, message: str, code: str, retry_after: int):
        super().__init__(message)
        self.code = code
        self.retry_after = retry_after


def guarded(request, username, check: Callable[[], T]) -> T:
    """Run ``check`` (which raises for wrong credentials) under the limits.

    Raises LoginRefused, without calling ``check``, when the client's address
    is over its limit or the username is locked.
    """
    username = (username or "").strip().lower()
    by_ip = ratelimit.limit("login-ip", ratelimit.client_ip(request), "RATELIMIT_LOGIN_IP")
    if not by_ip.hit():
        wait = by_ip.retry_after()
        raise LoginRefused(TOO_MANY_LOGINS.format(minutes=minutes(wait)), "rate_limited", wait)
    failures = ratelimit.limit("login-failures", username, "RATELIMIT_LOGIN_FAILURES")
    # Counted as a failure before the password is checked: parallel guesses each
    # take a slot, so no more than the limit are ever checked.
    if username and not failures.hit():
        wait = failures.retry_after()
        raise LoginRefused(LOCKED_OUT.format(minutes=minutes(wait)), "locked_out", wait)
    result = check()  # wrong credentials raise: the failure stays counted
    if username:
        failures.reset()
    return result


class RateLimitedAuthenticationForm(AuthenticationForm):
    """Log-in by username or e-mail address; both count against the account's one lock-out."""

    rate_limited = False

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = "Username or e-mail"

    def clean(self):
        # Resolved first: an address and its username are one account, with one count of failures.
        if self.cleaned_data.get("username") is not None:
            self.cleaned_data["username"] = selectors.username_for_login(self.cleaned_data["username"])
        try:
            return guarded(self.request, self.cleaned_data.get("username"), super().clean)
        except LoginRefused as refused:
            self.rate_limited = True
            raise forms.ValidationError(str(refused), code=refused.code) from None


class RateLimitedAdminAuthenticationForm(RateLimitedAuthenticationForm, AdminAuthenticationForm):
    """The admin's log-in (staff only), under the same limits as the shop's."""


class RefusedIs429:
    """A form view answering 429, not 200, when its form was refused by a limit."""

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if getattr(form, "rate_limited", False):
            response.status_code = 429
        return response


class LoginView(RefusedIs429, auth_views.LoginView):
    form_class = RateLimitedAuthenticationForm


class RateLimitedPasswordChangeForm(PasswordChangeForm):
    """Wrong current passwords count per account, as on the log-in: a hijacked session could guess it here."""

    rate_limited = False

    def clean_old_password(self):
        failures = ratelimit.limit("password-change-failures", self.user.pk, "RATELIMIT_PASSWORD_CHANGE_USER")
        if not failures.hit():  # counted before the check, as log-ins are
            self.rate_limited = True
            raise forms.ValidationError(
                TOO_MANY_PASSWORD_CHANGES.format(minutes=minutes(failures.retry_after())), code="rate_limited"
            )
        old_password = super().clean_old_password()
        failures.reset()
        return old_password


class RateLimitedAdminPasswordChangeForm(RateLimitedPasswordChangeForm, AdminPasswordChangeForm):
    pass


class PasswordChangeView(RefusedIs429, auth_views.PasswordChangeView):
    form_class = RateLimitedPasswordChangeForm


class PasswordResetView(auth_views.PasswordResetView):
    """Reset requests are limited per client IP and per address, and tell nothing about the address.

    Over the address's limit the answer is the usual "mail sent" page, without
    a mail: a refusal would say that someone asked for this address before.
    """

    html_email_template_name = "registration/password_reset_email_html.html"

    def form_valid(self, form):
        by_ip = ratelimit.limit("password-reset-ip", ratelimit.client_ip(self.request), "RATELIMIT_PASSWORD_RESET_IP")
        if not by_ip.hit():
            form.add_error("email", TOO_MANY_RESETS.format(minutes=minutes(by_ip.retry_after())))
            response = self.form_invalid(form)
            response.status_code = 429
            return response
        address = form.cleaned_data["email"].strip().lower()
        if not ratelimit.limit("password-reset-email", address, "RATELIMIT_PASSWORD_RESET_EMAIL").hit():
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


LOGGED_OUT = "You are logged out. See you soon!"


class LogoutView(auth_views.LogoutView):
    """Log-out also lets apps forget what they keep in the browser (``signals.logged_out_response``).

    The page it lands on says so: after the redirect, the header alone would not.
    """

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.success(request, LOGGED_OUT)
        signals.logged_out_response.send(sender=type(self), request=request, response=response)
        return response


class RateLimitedAuthTokenSerializer(AuthTokenSerializer):
    def validate(self, attrs):
        if attrs.get("username"):
            attrs["username"] = selectors.username_for_login(attrs["username"])
        try:
            return guarded(
                self.context["request"],
                attrs.get("username"),
                lambda: super(RateLimitedAuthTokenSerializer, self).validate(attrs),
            )
        except LoginRefused as refused:
            raise exceptions.Throttled(wait=refused.retry_after, detail=str(refused)) from None


class ObtainTokenView(ObtainAuthToken):
    """The caller's API token for a username and password (POST), or its end (DELETE).

    DRF leaves its token view unthrottled; here it has the API's throttles and
    the log-in limits, so it takes no password guesses at any speed. A token
    also ends when the account's password changes (amazon_site/accounts/tokens.py).
    """

    serializer_class = RateLimitedAuthTokenSerializer
    throttle_classes = api_settings.DEFAULT_THROTTLE_CLASSES
    # DRF's token view names its own parsers; these are the API's (a malformed body is a 400).
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES

    def get_permissions(self):
        # Anyone may trade a password for a token; only a signed-in caller revokes one.
        return [IsAuthenticated()] if self.request.method == "DELETE" else super().get_permissions()

    @extend_schema(
        operation_id="auth_token_destroy",
        description="Revoke the caller's API token: it stops working at once. "
        "POST a username and password for a new one.",
        request=None,
        responses={204: OpenApiResponse(description="Revoked (or there was none).")},
    )
    def delete(self, request):
        tokens.revoke_token(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
