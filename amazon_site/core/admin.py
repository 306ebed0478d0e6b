"""Admin pieces shared by the apps: every ModelAdmin of the store derives from ``StoreModelAdmin``."""
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import FieldDoesNotExist

from .ids import is_id


DATE_PART_LOOKUPS = ("__year", "__iso_year", "__quarter", "__month", "__week", "__week_day", "__iso_week_day", "__day")


class StoreChangeList(ChangeList):
    """Django's change list, refusing an out-of-range date or a NUL byte in the URL like any other bad filter.

    Django turns a bad ``?created_at__year=`` into "invalid lookup" (a
    redirect with ``?e=1``) only when ``datetime()`` raises ValueError; a year
    too big for a C long raises OverflowError, and PostgreSQL refuses a NUL
    byte in any string (a filter or the search box): both would be 500s.
    """

    def get_filters(self, request):
        if any("\x00" in value for _, values in request.GET.lists() for value in values):
            raise IncorrectLookupParameters("a NUL byte in the query string")
        for key, values in request.GET.lists():
            # A date part as a plain lookup (?created_at__year=) fails only when the query runs.
            if key.endswith(DATE_PART_LOOKUPS) and not all(value.isdigit() and 0 < int(value) < 10_000 for value in values):
                raise IncorrectLookupParameters(f"{key} is not a date part")
        try:
            return super().get_filters(request)
        except OverflowError as error:
            raise IncorrectLookupParameters(error) from error


class IdAutocompleteSelect(AutocompleteSelect):
    """Django's autocomplete box; a form shown again with a value that is no id shows it empty.

    Django looks the submitted value up in the database as it came, so a
    hand-made ``brand=:`` made the form's error page itself fail.
    """

    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, [v for v in value if v in (None, "") or is_id(str(v))], attr)


class StoreModelAdmin(admin.ModelAdmin):
    """Django's ModelAdmin, answering a hand-made request like any other bad input: a message, never a 500."""

    def get_changelist(self, request, **kwargs):
        return StoreChangeList

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = IdAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def to_field_allowed(self, request, to_field):
        # Django looks ``?_to_field=`` up among fields and reverse relations alike;
        # a hidden relation (``related_name="+"``) has no ``primary_key`` and raised.
        try:
            field = self.opts.get_field(to_field)
        except FieldDoesNotExist:
            return False
        return getattr(field, "concrete", False) and super().to_field_allowed(request, to_field)

    def response_action(self, request, queryset):
        # Django hands the posted ids to the database as they come: an empty
        # one, or one beyond 64 bits, fails there.
        if not all(is_id(value) for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)):
            self.message_user(request, "Items must be selected by their ids. No items have been changed.", messages.WARNING)
            return None  # Django then redirects back to the list
        return super().response_action(request, queryset)


class ReadOnlyModelAdmin(StoreModelAdmin):
    """Rows that record what happened (events, computation runs): staff look, never edit."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
