"""Log-in for people (the page) and for programs (the API token), under one set of limits; log-out.

Both count attempts per client IP and lock a username after repeated
failures. A locked username is refused before its password is checked, so
guesses in the window learn nothing; a successful log-in clears its failures.
"""
from collections.abc import Callable
from typing import TypeVar

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from rest_framework import exceptions, serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.settings import api_settings

from catalog import recently_viewed

from . import ratelimit

TOO_MANY_LOGINS = "Too many log-in attempts from your network. Please wait {minutes} and try again."
LOCKED_OUT = (
    "Too many failed log-ins for this account. It is locked for {minutes}; "
    "please wait and try again."
)

T = TypeVar("T")


def minutes(seconds: int) -> str:
    count = max(1, round(seconds / 60))
    return f"{count} minute{'s' if count != 1 else ''}"


class LoginRefused(Exception):
    def __init__(self, message: str, code: str, retry_after: int):
        super().__init__(message)
        self.code = code
        self.retry_after = retry_after


def guarded(request, username, check: Callable[[], T], *, invalid: type[Exception]) -> T:
    """Run ``check`` (which raises ``invalid`` for wrong credentials) under the limits.

    Raises LoginRefused, without calling ``check``, when the client's address
    is over its limit or the username is locked.
    """
    username = (username or "").strip().lower()
    by_ip = ratelimit.limit("login-ip", ratelimit.client_ip(request), "RATELIMIT_LOGIN_IP")
    if not by_ip.hit():
        wait = by_ip.retry_after()
        raise LoginRefused(TOO_MANY_LOGINS.format(minutes=minutes(wait)), "rate_limited", wait)
    failures = ratelimit.limit("login-failures", username, "RATELIMIT_LOGIN_FAILURES")
    if username and failures.exceeded():
        wait = failures.retry_after()
        raise LoginRefused(LOCKED_OUT.format(minutes=minutes(wait)), "locked_out", wait)
    try:
        result = check()
    except invalid:
        if username:
            failures.hit()
        raise
    failures.reset()
    return result


class RateLimitedAuthenticationForm(AuthenticationForm):
    rate_limited = False

    def clean(self):
        try:
            return guarded(
                self.request, self.cleaned_data.get("username"), super().clean, invalid=forms.ValidationError
            )
        except LoginRefused as refused:
            self.rate_limited = True
            raise forms.ValidationError(str(refused), code=refused.code) from None


class LoginView(auth_views.LoginView):
    form_class = RateLimitedAuthenticationForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.rate_limited:
            response.status_code = 429
        return response


class LogoutView(auth_views.LogoutView):
    """Log-out also forgets the browser's recently viewed products, as it ends the session."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        recently_viewed.forget(response)
        return response


class RateLimitedAuthTokenSerializer(AuthTokenSerializer):
    def validate(self, attrs):
        try:
            return guarded(
                self.context["request"],
                attrs.get("username"),
                lambda: super(RateLimitedAuthTokenSerializer, self).validate(attrs),
                invalid=serializers.ValidationError,
            )
        except LoginRefused as refused:
            raise exceptions.Throttled(wait=refused.retry_after, detail=str(refused)) from None


class ObtainTokenView(ObtainAuthToken):
    """The caller's API token for a username and password.

    DRF leaves its token view unthrottled; here it has the API's throttles and
    the log-in limits, so it takes no password guesses at any speed.
    """

    serializer_class = RateLimitedAuthTokenSerializer
    throttle_classes = api_settings.DEFAULT_THROTTLE_CLASSES
    # DRF's token view names its own parsers; these are the API's (a malformed body is a 400).
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES
