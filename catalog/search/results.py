"""What a search backend answers, before it is turned into facets for a page."""
from dataclasses import dataclass, field

from .query import SearchRequest


@dataclass(frozen=True)
class Scope:
    """A request's facet selections resolved to ids.

    ``category_ids`` already holds every descendant of a selected category;
    ``None`` means "no selection" for that facet.
    """

    category_ids: frozenset[int] | None = None
    brand_ids: frozenset[int] | None = None
    # Selected attribute values by attribute key (OR within a key, AND across keys).
    attributes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # The attribute facets to count: "key@category_id" for each attribute a
    # category declares as a facet (its own or inherited), so that a product's
    # attribute counts only where its category shows that facet.
    facet_pairs: frozenset[str] = frozenset()
    # False on a category page, which shows its subcategories instead of the
    # department facet: nothing outside the category need be read.
    count_categories: bool = True


@dataclass
class FacetCounts:
    """Counts per facet value, each ignoring its own facet's selection.

    ``categories`` counts products directly in each category; parents are
    summed up the tree when the facet is presented.
    """

    categories: dict[int, int] = field(default_factory=dict)
    brands: dict[int, int] = field(default_factory=dict)
    price_buckets: dict[str, int] = field(default_factory=dict)
    ratings: dict[int, int] = field(default_factory=dict)  # threshold -> products rated at least that
    in_stock: int = 0
    attributes: dict[str, dict[str, int]] = field(default_factory=dict)  # key -> value -> count
    exact: bool = True  # false: estimated from a sample (very broad queries)

    def scaled(self, factor: float) -> "FacetCounts":
        def scale(counts):
            return {key: max(1, round(count * factor)) for key, count in counts.items()}

        return FacetCounts(
            categories=scale(self.categories),
            brands=scale(self.brands),
            price_buckets=scale(self.price_buckets),
            ratings={key: round(count * factor) for key, count in self.ratings.items()},
            in_stock=round(self.in_stock * factor),
            attributes={key: scale(values) for key, values in self.attributes.items()},
            exact=False,
        )


@dataclass
class SearchResult:
    request: SearchRequest
    ids: list[int]  # one page of product ids, in order
    total: int
    counts: FacetCounts
    backend: str
    suggestion: str | None = None
    widened: bool = False  # no product had every word; these have some of them
    partial: int = 0  # of ``total``, products matching most words but not all (after those with all)
