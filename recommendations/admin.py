"""Staff see when the lists were last computed and what that run found; nothing is edited by hand."""
from django.contrib import admin

from amazon_site.core.admin import ReadOnlyModelAdmin

from .models import Run


@admin.register(Run)
class RunAdmin(ReadOnlyModelAdmin):
    list_display = ("id", "started_at", "finished_at", "is_current", "baskets", "skipped_orders", "pairs", "products")
