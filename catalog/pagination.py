from functools import cached_property

from django.core.paginator import Paginator


class BoundedPaginator(Paginator):
    """Pages over at most ``max_items`` rows.

    Counting and deep OFFSETs both cost time linear in the rows skipped, so a
    listing of a million products is cut at ``max_items``: ``count`` never
    exceeds it and ``capped`` tells the page to say "over N results".
    """

    def __init__(self, object_list, per_page, *, max_items, **kwargs):
        self.max_items = max_items
        super().__init__(object_list, per_page, **kwargs)

    @cached_property
    def _bounded_count(self):
        # Without ORDER BY the database stops after max_items + 1 index entries.
        return self.object_list.order_by()[: self.max_items + 1].count()

    @cached_property
    def count(self):
        return min(self._bounded_count, self.max_items)

    @property
    def capped(self):
        return self._bounded_count > self.max_items
