"""Staff screens for reviews."""
from django.contrib import admin

from amazon_site.core.admin import StoreModelAdmin

from .models import Review


@admin.register(Review)
class ReviewAdmin(StoreModelAdmin):
    """Staff read reviews and may edit their words; the stars stay as posted.

    Reviews are added only by shoppers (catalog.reviews.services.add_review) and never
    deleted here: the product's rating and review count include every review,
    and taking one out would need the same locked recount.
    """

    list_display = ("product", "user", "rating", "created_at")
    list_select_related = ("product", "user")
    list_filter = ("rating",)
    search_fields = ("product__title", "user__username", "title")
    search_help_text = "Words in the product title, the reviewer's username or the review title."
    ordering = ("-id",)
    fields = ("product", "user", "rating", "title", "body", "created_at")
    readonly_fields = ("product", "user", "rating", "created_at")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
