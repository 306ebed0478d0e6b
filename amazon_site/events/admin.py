"""Events are read-only for staff: an event records what happened, and the relay
alone marks it published."""
from functools import cached_property

from django.contrib import admin
from django.core.paginator import Paginator

from amazon_site.core.admin import ReadOnlyModelAdmin

from .models import OutboxEvent

MAX_COUNTED = 10_000


class CappedPaginator(Paginator):
    # The outbox grows on every add to cart; counting all of it on each page
    # view would cost more than the page. Past MAX_COUNTED the count stops.
    @cached_property
    def count(self):
        return self.object_list.order_by()[:MAX_COUNTED].count()


class TopicFilter(admin.SimpleListFilter):
    title = "topic"
    parameter_name = "topic"

    def lookups(self, request, model_admin):
        # The topics of the latest events: a DISTINCT over the whole outbox
        # would read all of it, and topics are few and long-lived.
        recent = OutboxEvent.objects.order_by("-id").values_list("topic", flat=True)[:MAX_COUNTED]
        return [(topic, topic) for topic in sorted(set(recent))]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(topic=self.value())
        return queryset


class PublishedFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "published"

    def lookups(self, request, model_admin):
        return (("no", "Unpublished"), ("yes", "Published"))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(published_at__isnull=self.value() == "no")
        return queryset


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyModelAdmin):
    list_display = ("id", "topic", "key", "created_at", "published_at")
    list_filter = (TopicFilter, PublishedFilter)
    ordering = ("-id",)
    show_full_result_count = False
    paginator = CappedPaginator
