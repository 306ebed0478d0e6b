"""Site-wide pages that belong to no single domain app."""
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.forms import UserCreationForm
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from . import ratelimit
from .login import minutes

TOO_MANY_SIGNUPS = "Too many accounts were created from your network. Please wait {minutes} and try again."


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
            form.add_error(None, TOO_MANY_SIGNUPS.format(minutes=minutes(by_ip.retry_after())))
            return render(request, "registration/signup.html", {"form": form, "next": next_url}, status=429)
        if form.is_valid():
            user = form.save()
            by_ip.hit()
            login(request, user)
            messages.success(request, f"Welcome, {user.username}! Your account is ready.")
            return redirect(next_url or "home")
    return render(request, "registration/signup.html", {"form": form, "next": next_url})
