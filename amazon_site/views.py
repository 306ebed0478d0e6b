"""Site-wide pages that belong to no single domain app."""
from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from . import ratelimit

TOO_MANY_LOGINS = "Too many log-in attempts from your network. Please wait {minutes} and try again."
LOCKED_OUT = (
    "Too many failed log-ins for this account. It is locked for {minutes}; "
    "please wait and try again."
)
TOO_MANY_SIGNUPS = "Too many accounts were created from your network. Please wait {minutes} and try again."


def _minutes(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


class RateLimitedAuthenticationForm(AuthenticationForm):
    """Log-in with a per-IP limit and a per-username lockout after repeated failures.

    A locked username is refused before its password is checked, so guesses
    in the window learn nothing; a successful log-in clears its failures.
    """

    rate_limited = False

    def clean(self):
        username = (self.cleaned_data.get("username") or "").strip().lower()
        by_ip = ratelimit.limit("login-ip", ratelimit.client_ip(self.request), "RATELIMIT_LOGIN_IP")
        if not by_ip.hit():
            self.rate_limited = True
            raise forms.ValidationError(TOO_MANY_LOGINS.format(minutes=_minutes(by_ip.retry_after())), code="rate_limited")
        failures = ratelimit.limit("login-failures", username, "RATELIMIT_LOGIN_FAILURES")
        if username and failures.exceeded():
            self.rate_limited = True
            raise forms.ValidationError(LOCKED_OUT.format(minutes=_minutes(failures.retry_after())), code="locked_out")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if username:
                failures.hit()
            raise
        failures.reset()
        return cleaned


class LoginView(auth_views.LoginView):
    form_class = RateLimitedAuthenticationForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.rate_limited:
            response.status_code = 429
        return response


@require_http_methods(["GET", "POST"])
def signup(request):
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = ""
    form = UserCreationForm(request.POST or None)
    if request.method == "POST":
        # Counts accounts created per client IP; a refused form costs nothing.
        by_ip = ratelimit.limit("signup-ip", ratelimit.client_ip(request), "RATELIMIT_SIGNUP_IP")
        if by_ip.exceeded():
            form.is_valid()  # add_error needs a cleaned form
            form.add_error(None, TOO_MANY_SIGNUPS.format(minutes=_minutes(by_ip.retry_after())))
            return render(request, "registration/signup.html", {"form": form, "next": next_url}, status=429)
        if form.is_valid():
            user = form.save()
            by_ip.hit()
            login(request, user)
            messages.success(request, f"Welcome, {user.username}! Your account is ready.")
            return redirect(next_url or "home")
    return render(request, "registration/signup.html", {"form": form, "next": next_url})
