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


def page_numbers(number: int, num_pages: int, *, neighbours: int = 1) -> list[int | None]:
    """The pages a pager offers: the first, the last, the current one and its
    ``neighbours`` on each side, in order, with ``None`` where pages are skipped
    (an ellipsis). A gap of a single page shows that page: "…" would be no shorter.
    """
    wanted = {1, num_pages, *range(number - neighbours, number + neighbours + 1)}
    shown = sorted(page for page in wanted if 1 <= page <= num_pages)
    numbers, previous = [], 0
    for shown_number in shown:
        if shown_number - previous == 2:
            numbers.append(previous + 1)
        elif shown_number - previous > 2:
            numbers.append(None)
        numbers.append(shown_number)
        previous = shown_number
    return numbers


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
