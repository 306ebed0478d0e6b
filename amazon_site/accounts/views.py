"""Site-wide pages that belong to no single domain app."""
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from ..core import ratelimit
from . import confirmation, selectors, services, tokens
from .errors import AccountError
from .forms import EmailChangeForm, NameForm, SignUpForm
from .login import minutes

TOO_MANY_SIGNUPS = "Too many accounts were created from your network. Please wait {minutes} and try again."
TOO_MANY_SIGNUP_ATTEMPTS = "Too many sign-up attempts from your network. Please wait {minutes} and try again."
TOO_MANY_EMAIL_CHANGES = "Too many changes of address for this account. Please wait {minutes} and try again."


@require_http_methods(["GET", "POST"])
def signup(request):
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    # A path on this site only: redirect() would read a bare "7859" as a view name.
    if not next_url.startswith("/") or not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = ""
    form = SignUpForm(request.POST or None)

    def refused(message, limit):
        # A blank form: the posted one's errors would tell whether the username is taken.
        messages.error(request, message.format(minutes=minutes(limit.retry_after())))
        blank = SignUpForm(initial={"username": request.POST.get("username", "")})
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
            try:
                user = services.sign_up(
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password1"],
                    email=form.cleaned_data["email"],
                    base_url=request.build_absolute_uri("/"),
                )
            except AccountError as error:  # the address was taken between the form's check and the insert
                form.add_error("email", str(error))
                return render(request, "registration/signup.html", {"form": form, "next": next_url})
            login(request, user)
            messages.success(request, f"Welcome, {user.username}! Your account is ready.")
            messages.info(request, f"We sent a link to {form.cleaned_data['email']}: open it to confirm your address.")
            return redirect(next_url or "home")
    return render(request, "registration/signup.html", {"form": form, "next": next_url})


@require_http_methods(["GET", "POST"])
def confirm_email(request, token):
    """The link in the confirmation mail: a page with one button, so link scanners confirm nothing by a GET."""
    if request.method == "POST":
        try:
            address = services.confirm(token)
        except AccountError as error:
            return render(request, "accounts/confirm_email.html", {"error": str(error)}, status=400)
        messages.success(request, f"Thank you: {address.email} is confirmed.")
        return redirect("home")
    try:
        confirmation.read_token(token)  # an expired or garbled link says so before the button
    except AccountError as error:
        return render(request, "accounts/confirm_email.html", {"error": str(error)}, status=400)
    return render(request, "accounts/confirm_email.html", {"token": token})


def _account_page(request, *, name_form=None, email_form=None, status=200):
    user = request.user
    context = {
        "name_form": name_form or NameForm(initial={"first_name": user.first_name, "last_name": user.last_name}),
        "email_form": email_form or EmailChangeForm(user=user),
        "pending": selectors.pending_email(user),
        "token": selectors.api_token(user),
    }
    return render(request, "accounts/account.html", context, status=status)


@login_required
def account(request):
    """Your account: name, e-mail, password, API token, with links to the addresses and the orders."""
    return _account_page(request)


@login_required
@require_POST
def account_name(request):
    form = NameForm(request.POST)
    if not form.is_valid():
        return _account_page(request, name_form=form, status=400)
    services.update_name(user=request.user, **form.cleaned_data)
    messages.success(request, "Your name is saved.")
    return redirect("account")


@login_required
@require_POST
def account_email(request):
    """Each change mails a link to an address the shopper typed: limited per account, so it mails no one in bulk."""
    form = EmailChangeForm(request.POST, user=request.user)
    if not form.is_valid():
        return _account_page(request, email_form=form, status=400)
    changes = ratelimit.limit("email-change-user", request.user.pk, "RATELIMIT_EMAIL_CHANGE_USER")
    if not changes.hit():
        form.add_error("email", TOO_MANY_EMAIL_CHANGES.format(minutes=minutes(changes.retry_after())))
        return _account_page(request, email_form=form, status=429)
    try:
        address = services.claim(user=request.user, email=form.cleaned_data["email"], base_url=request.build_absolute_uri("/"))
    except AccountError as error:
        form.add_error("email", str(error))
        return _account_page(request, email_form=form, status=400)
    messages.success(request, f"We sent a link to {address.email}: open it to make it your address.")
    return redirect("account")


@login_required
@require_POST
def account_token_revoke(request):
    tokens.revoke_token(user=request.user)
    messages.success(request, "Your API token is revoked: programs using it are signed out.")
    return redirect("account")
