"""The store's admin site: Django's, with the log-in and password change under the site's limits,
the store's name, and the staff dashboard on its index (``amazon_site/core/dashboard.py``).

Installed through ``StoreAdminConfig`` in INSTALLED_APPS, so ``admin.site``
is this site. This module is imported while the apps load: the forms, which
import models, are imported only when a page asks for them.
"""
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.urls import reverse

from amazon_site.core import dashboard


class StoreAdminConfig(AdminConfig):
    default_site = "amazon_site.accounts.admin_site.StoreAdminSite"


class StoreAdminSite(admin.AdminSite):
    index_template = "admin/store_index.html"
    index_title = "Dashboard"
    # The lists need the width at 1280 px; the index and the breadcrumbs lead everywhere the sidebar did.
    enable_nav_sidebar = False

    @property
    def site_header(self):
        return settings.STORE_NAME

    @property
    def site_title(self):
        return f"{settings.STORE_NAME} staff"

    def index(self, request, extra_context=None):
        """Django's index, the app list under the panels of the apps this staff member may view."""
        return super().index(request, {"dashboard": dashboard.panels_for(request.user), **(extra_context or {})})

    @property
    def login_form(self):
        from .login import RateLimitedAdminAuthenticationForm

        return RateLimitedAdminAuthenticationForm

    def login(self, request, extra_context=None):
        """Django's admin log-in, answering 429 like the shop's when a limit refused it."""
        response = super().login(request, extra_context)
        form = (getattr(response, "context_data", None) or {}).get("form")
        if getattr(form, "rate_limited", False):
            response.status_code = 429
        return response

    def password_change(self, request, extra_context=None):
        """Django's admin password change (the same steps) with the site's limited form and view."""
        from .login import PasswordChangeView, RateLimitedAdminPasswordChangeForm

        defaults = {
            "form_class": RateLimitedAdminPasswordChangeForm,
            "success_url": reverse("admin:password_change_done", current_app=self.name),
            "extra_context": {**self.each_context(request), **(extra_context or {})},
        }
        if self.password_change_template is not None:
            defaults["template_name"] = self.password_change_template
        request.current_app = self.name
        return PasswordChangeView.as_view(**defaults)(request)
