from django.contrib import admin

from ..core.admin import StoreModelAdmin
from .models import EmailAddress


@admin.register(EmailAddress)
class EmailAddressAdmin(StoreModelAdmin):
    """Read-only: a claim changes only through its confirmation link, so staff cannot confirm an address unseen."""

    list_display = ("email", "user", "confirmed_at", "created_at")
    list_filter = ("confirmed_at",)
    search_fields = ("email", "user__username")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
