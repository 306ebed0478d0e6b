"""Staff screens for the catalog, kept fast at a million products.

Changelists select related rows in the same query, skip the unfiltered total
count, and search brands through their own small table so that a title search
can use the trigram index on PostgreSQL.
"""
from functools import cached_property

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Q
from django.utils.html import format_html

from amazon_site.core.admin import StoreModelAdmin

from . import selectors, services, stock
from .models import AttributeFacet, Brand, Category, Inventory, Product, SearchSynonym, Seller, Warehouse
from .pagination import BoundedPaginator
from .templatetags.catalog_tags import placeholder_image

ADMIN_MAX_COUNTED = 10_000


class ProductListPaginator(BoundedPaginator):
    """The bounded count, leaving out the stock sums: they are read for the page's rows only."""

    @cached_property
    def _bounded_count(self):
        return self.object_list.order_by().values("pk")[: self.max_items + 1].count()


@admin.register(Seller)
class SellerAdmin(StoreModelAdmin):
    list_display = ("name", "slug", "created_at")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Brand)
class BrandAdmin(StoreModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


class AttributeFacetInline(admin.TabularInline):
    """The attributes shoppers filter this category (and the categories below it) by."""

    model = AttributeFacet
    extra = 0
    fields = ("key", "label", "position", "value_order")


@admin.register(Category)
class CategoryAdmin(StoreModelAdmin):
    inlines = [AttributeFacetInline]
    list_display = ("name", "parent", "slug", "position")
    list_select_related = ("parent",)
    list_filter = (("parent", admin.EmptyFieldListFilter),)
    search_fields = ("name", "slug")
    autocomplete_fields = ("parent",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(SearchSynonym)
class SearchSynonymAdmin(StoreModelAdmin):
    list_display = ("terms",)
    search_fields = ("terms",)


@admin.register(Warehouse)
class WarehouseAdmin(StoreModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


class InventoryForm(forms.ModelForm):
    class Meta:
        model = Inventory
        fields = ("warehouse", "quantity")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # Moving stock between warehouses is a new row, not an edit.
            self.fields["warehouse"].disabled = True
        self.fields["quantity"].error_messages["min_value"] = stock.NEGATIVE_STOCK

    def clean(self):
        cleaned = super().clean()
        quantity = cleaned.get("quantity")  # None after a field error, a negative one included
        if self.instance.pk and quantity is not None and (row := _current(self.instance.pk)) is not None:
            try:
                stock.check_quantity(row, quantity)
            except stock.StockError as error:
                self.add_error("quantity", str(error))
        return cleaned


def _current(inventory_id):
    """The stock row as it is now: a cart may have reserved units since the page was shown."""
    return Inventory.objects.select_related("product", "warehouse").filter(pk=inventory_id).first()


class InventoryFormSet(forms.BaseInlineFormSet):
    """Existing stock rows change through ``catalog.stock``, under its locks, so a
    cart's concurrent reservation is never overwritten by a value read earlier."""

    def clean(self):
        super().clean()
        for form in self.deleted_forms:
            if form.instance.pk and (row := _current(form.instance.pk)) is not None:
                try:
                    stock.check_deletion(row)
                except stock.StockError as error:
                    raise forms.ValidationError(str(error)) from None

    def save_new(self, form, commit=True):
        return stock.add_row(self.instance.pk, form.cleaned_data["warehouse"].pk, form.cleaned_data["quantity"])

    def save_existing(self, form, obj, commit=True):
        return stock.set_quantity(obj.pk, form.cleaned_data["quantity"])

    def delete_existing(self, obj, commit=True):
        stock.delete_row(obj.pk)


class InventoryInline(admin.TabularInline):
    model = Inventory
    form = InventoryForm
    formset = InventoryFormSet
    extra = 0
    fields = ("warehouse", "quantity", "reserved")
    readonly_fields = ("reserved",)


class InStockFilter(admin.SimpleListFilter):
    title = "stock"
    parameter_name = "in_stock"

    def lookups(self, request, model_admin):
        return (
            ("yes", "In stock"),
            ("no", "Out of stock"),
            ("low", f"Fewer than {settings.STAFF_LOW_STOCK_THRESHOLD} left"),  # the dashboard's figure
        )

    def queryset(self, request, queryset):
        # in_stock is kept current by database triggers on the stock rows.
        if self.value() in ("yes", "no"):
            return queryset.filter(in_stock=self.value() == "yes")
        if self.value() == "low":
            low, _ = selectors.low_in_stock(settings.STAFF_LOW_STOCK_THRESHOLD)
            return queryset.filter(pk__in=low)
        return queryset


class ProductForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = "__all__"

    def clean_attributes(self):
        # An emptied box means no attributes: {}, not NULL, which the column refuses.
        return self.cleaned_data["attributes"] or {}


@admin.register(Product)
class ProductAdmin(StoreModelAdmin):
    form = ProductForm
    list_display = (
        "thumbnail", "title", "brand", "category", "price", "available", "total_stock", "rating", "is_active", "added",
    )
    list_display_links = ("title",)
    list_editable = ("price",)
    list_filter = ("is_active", InStockFilter, "category", "brand")
    list_select_related = ("brand", "category")
    list_per_page = 50
    show_full_result_count = False
    ordering = ("-id",)
    search_fields = ("title",)
    search_help_text = "Words in the title or brand name."
    autocomplete_fields = ("seller", "category", "brand")
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ("rating", "review_count", "created_at", "updated_at")
    inlines = [InventoryInline]
    actions = ("activate", "deactivate")

    class Media:
        css = {"all": ("css/staff.css",)}  # the thumbnails' size and the stock columns

    def get_queryset(self, request):
        return selectors.with_stock(super().get_queryset(request))

    @admin.display(description="")
    def thumbnail(self, product):
        if product.image:
            return format_html('<img src="{}" alt="" width="48" height="48" loading="lazy">', product.image.url)
        return placeholder_image(product)

    @admin.display(description="Available")
    def available(self, product):
        """Units not held by carts, all warehouses together ("-" without stock rows)."""
        return "-" if product.available_stock is None else product.available_stock

    @admin.display(description="Total stock")
    def total_stock(self, product):
        return "-" if product.total_stock is None else product.total_stock

    @admin.display(description="Added", ordering="created_at")
    def added(self, product):
        return f"{product.created_at:%Y-%m-%d}"  # the day is enough here, and keeps the list within 1280 px

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        # Counting a million rows on every page view costs more than the page;
        # past 10,000 the changelist says so and asks for a filter.
        return ProductListPaginator(
            queryset, per_page, max_items=ADMIN_MAX_COUNTED, orphans=orphans, allow_empty_first_page=allow_empty_first_page
        )

    def get_search_results(self, request, queryset, search_term):
        # Each word must match the title or the brand; brands are looked up in
        # their own small table first, so no join is needed on products.
        for word in search_term.split():
            brand_ids = list(Brand.objects.filter(name__icontains=word).values_list("id", flat=True)[:100])
            queryset = queryset.filter(Q(title__icontains=word) | Q(brand_id__in=brand_ids))
        return queryset, False

    @admin.action(description="Activate selected products")
    def activate(self, request, queryset):
        changed = services.set_products_active(queryset.values("pk"), active=True)
        self.message_user(request, f"{changed} product(s) activated.", messages.SUCCESS)

    @admin.action(description="Deactivate selected products")
    def deactivate(self, request, queryset):
        changed = services.set_products_active(queryset.values("pk"), active=False)
        self.message_user(request, f"{changed} product(s) deactivated.", messages.SUCCESS)

    def save_model(self, request, obj, form, change):
        if change:
            # The lock order (catalog/stock.py): stock rows before the product row.
            stock.lock([obj.pk])
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Inventory:
            return super().save_formset(request, form, formset, change)
        try:
            with transaction.atomic():
                formset.save()
        except stock.StockError as error:
            # A cart reserved units between validation and save: keep the
            # product's other changes, leave stock as it was, and say why.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            self.message_user(request, f"Stock was not changed. {error}", messages.ERROR)

