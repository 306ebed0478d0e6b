"""Content-Security-Policy: one strict policy for every response, no inline code.

Django 5.2 has no built-in CSP, so this small middleware sets the header from
``settings.CONTENT_SECURITY_POLICY`` (a dict of directive -> sources). Pages
load scripts and styles from the site's own static files only: no inline
``<script>``, ``style=`` or ``on…=`` attributes (tests/test_security_headers.py
checks the rendered pages). A view that cannot live with it is wrapped in
``csp_update(...)``, which adds sources for that view's responses only.
"""
from functools import wraps

from django.conf import settings

HEADER = "Content-Security-Policy"


def build_policy(directives) -> str:
    return "; ".join(f"{name} {' '.join(sources)}".strip() for name, sources in directives.items())


def csp_update(**extra):
    """Decorate a view: add sources to directives (``style_src=["'unsafe-inline'"]``) for its responses."""
    additions = {name.replace("_", "-"): list(sources) for name, sources in extra.items()}

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            response._csp_update = additions
            return response

        return wrapped

    return decorator


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if HEADER in response:
            return response
        directives = {name: list(sources) for name, sources in settings.CONTENT_SECURITY_POLICY.items()}
        for name, sources in getattr(response, "_csp_update", {}).items():
            directives[name] = [source for source in directives.get(name, []) if source != "'none'"] + [
                source for source in sources if source not in directives.get(name, [])
            ]
        response[HEADER] = build_policy(directives)
        return response
