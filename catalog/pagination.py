from functools import cached_property

from django.core.paginator import InvalidPage, Page, Paginator


def page_or_first(paginator: Paginator, number) -> Page:
    """The page asked for; one that does not exist (0, -1, past the end, not a number) is the first.

    One rule for every listing, so a mistyped or stale link lands where a list starts.
    """
    try:
        return paginator.page(number)
    except InvalidPage:
        return paginator.page(1)


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

    def get_page(self, number):
        return page_or_first(self, number)
