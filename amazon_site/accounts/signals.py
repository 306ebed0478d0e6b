"""Signals of the log-in pages, for the apps above this ground floor.

``amazon_site`` imports no domain app, so the log-out view cannot call them;
an app that keeps per-visitor state outside the session (a cookie) listens
here instead and changes the response.
"""
from django.dispatch import Signal

# Sent by the log-out view with ``request`` and ``response`` once the session has ended.
logged_out_response = Signal()
