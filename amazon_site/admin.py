"""Admin pieces shared by the apps."""
from django.contrib import admin


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """Rows that record what happened (events, computation runs): staff look, never edit."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
