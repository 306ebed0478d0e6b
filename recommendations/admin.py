"""Staff see when the lists were last computed and what that run found; nothing is edited by hand."""
from django.contrib import admin

from .models import Run


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ("id", "started_at", "finished_at", "is_current", "baskets", "skipped_orders", "pairs", "products")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
