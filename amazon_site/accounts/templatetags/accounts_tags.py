"""The header's log-in link, which brings the shopper back to the page they were on."""
from urllib.parse import quote

from django import template
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

register = template.Library()

# Pages that are themselves steps of logging in: "next" from them would lead back into log-in.
AUTH_PAGES = {
    "login", "logout", "signup", "password_reset", "password_reset_done", "password_reset_confirm",
    "password_reset_complete",
}


@register.simple_tag(takes_context=True)
def login_url(context) -> str:
    """The log-in URL with ``next`` the page the shopper is on.

    On a log-in step (the log-in page, sign-up, password reset) it is the
    ``next`` that page already carries, if it is a page of this site, so
    ``next=`` never nests inside ``next=``.
    """
    request = context.get("request")
    url = reverse("login")
    if request is None:  # the error pages render without one
        return url
    match = request.resolver_match
    target = request.get_full_path()
    if match is not None and match.url_name in AUTH_PAGES:
        target = request.GET.get("next", "")
        if not target.startswith("/") or not url_has_allowed_host_and_scheme(target, {request.get_host()}):
            target = ""
    # As the template filter urlencode quotes: "/" stays readable.
    return f"{url}?next={quote(target, safe='/')}" if target else url
