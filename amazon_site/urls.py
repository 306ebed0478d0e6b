from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from .accounts import login, views
from .core import api, health, metrics, site_pages
from .core.security import csp_update

urlpatterns = [
    # Operations: probes and Prometheus metrics (see docs/operating.md).
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.export, name="prometheus-django-metrics"),
    path("favicon.ico", site_pages.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/email/confirm/<str:token>/", views.confirm_email, name="email-confirm"),
    path("account/", views.account, name="account"),
    path("account/name/", views.account_name, name="account-name"),
    path("account/email/", views.account_email, name="account-email"),
    path("account/token/revoke/", views.account_token_revoke, name="account-token-revoke"),
    # Before the auth URLs: log-in, password change and reset with rate limits (amazon_site/accounts/login.py).
    path("accounts/login/", login.LoginView.as_view(), name="login"),
    path("accounts/logout/", login.LogoutView.as_view(), name="logout"),
    path("accounts/password_change/", login.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password_reset/", login.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("cart/", include("cart.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file (script-src 'self');
    # its page keeps one <style> block, so only this view allows inline styles.
    path(
        "api/docs/",
        csp_update(style_src=["'unsafe-inline'"])(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path("api/auth/token/", login.ObtainTokenView.as_view(), name="api-token"),
    path("api/cart/", include("cart.api_urls")),
    path("api/", include("catalog.api_urls")),
    path("api/", include("recommendations.api_urls")),
    path("api/", include("orders.api_urls")),
    path("", include("orders.urls")),
    path("", include("catalog.reviews.urls")),
    path("", include("catalog.urls")),
    re_path(r"^api/", api.not_found),
]

handler500 = "amazon_site.core.errors.server_error"

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
