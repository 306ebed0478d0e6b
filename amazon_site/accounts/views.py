"""Site-wide pages that belong to no single domain app."""
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.forms import UserCreationForm
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from ..core import ratelimit
from .login import minutes

TOO_MANY_SIGNUPS = "Too many accounts were created from your network. Please wait {minutes} and try again."
TOO_MANY_SIGNUP_ATTEMPTS = "Too many sign-up attempts from your network. Please wait {minutes} and try again."


@require_http_methods(["GET", "POST"])
def signup(request):
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    # A path on this site only: redirect() would read a bare "7859" as a view name.
    if not next_url.startswith("/") or not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = ""
    form = UserCreationForm(request.POST or None)

    def refused(message, limit):
        # A blank form: the posted one's errors would tell whether the username is taken.
        messages.error(request, message.format(minutes=minutes(limit.retry_after())))
        blank = UserCreationForm(initial={"username": request.POST.get("username", "")})
        return render(request, "registration/signup.html", {"form": blank, "next": next_url}, status=429)

    if request.method == "POST":
        address = ratelimit.client_ip(request)
        # Every attempt counts, as each tells whether a username is taken.
        attempts = ratelimit.limit("signup-attempts-ip", address, "RATELIMIT_SIGNUP_ATTEMPTS_IP")
        if not attempts.hit():
            return refused(TOO_MANY_SIGNUP_ATTEMPTS, attempts)
        if form.is_valid():
            # The account's slot is taken before it is made, so parallel sign-ups cannot overrun it.
            created = ratelimit.limit("signup-ip", address, "RATELIMIT_SIGNUP_IP")
            if not created.hit():
                return refused(TOO_MANY_SIGNUPS, created)
            user = form.save()
            login(request, user)
            messages.success(request, f"Welcome, {user.username}! Your account is ready.")
            return redirect(next_url or "home")
    return render(request, "registration/signup.html", {"form": form, "next": next_url})
