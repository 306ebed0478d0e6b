"""What a shopper asked for, read leniently from a query string.

Bad input never errors: an overlong query is trimmed, unknown facet values
and sorts are dropped, a reversed price range is swapped, a bad page is 1.
"""
import re
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from .analysis import STOP_WORDS, plain_words

MAX_QUERY_LENGTH = 200
MAX_QUERY_WORDS = 10
MAX_SELECTED_VALUES = 20
MAX_ATTRIBUTE_FILTERS = 10
ATTRIBUTE_PREFIX = "attr_"  # attr_color=Black: an attribute facet's value, by the attribute's slug

# Price facet buckets: key -> (label, low inclusive, high exclusive).
PRICE_BUCKETS = {
    "lt25": ("Under $25", None, Decimal("25")),
    "25-50": ("$25 to $50", Decimal("25"), Decimal("50")),
    "50-100": ("$50 to $100", Decimal("50"), Decimal("100")),
    "gte100": ("$100 & above", Decimal("100"), None),
}
RATING_THRESHOLDS = (4, 3)  # "4★ & up", "3★ & up"

SORTS = {
    "relevance": "Relevance",
    "price": "Price: low to high",
    "-price": "Price: high to low",
    "rating": "Avg. customer review",
    "newest": "Newest arrivals",
}

_SLUG = re.compile(r"[-a-z0-9_]{1,100}")


def words_of(text: str) -> list[str]:
    """Plain lowercase words: runs of letters and digits, nothing else."""
    return plain_words(text)


@dataclass(frozen=True)
class SearchRequest:
    q: str = ""
    categories: tuple[str, ...] = ()  # category slugs; a parent includes its descendants
    brands: tuple[str, ...] = ()  # brand slugs
    price_buckets: tuple[str, ...] = ()
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    rating_min: int | None = None
    in_stock: bool = False
    sort: str = "relevance"
    page: int = 1
    page_size: int = 24
    all_brands: bool = False  # "show more" on the brand facet
    attributes: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (attribute slug, values), in URL order
    category_facet: bool = True  # False on category pages (not a URL parameter)

    @property
    def words(self) -> list[str]:
        """Plain lowercase words of the query (for highlighting and "did you mean")."""
        return words_of(self.q)[:MAX_QUERY_WORDS]

    def attribute_values(self, slug) -> tuple[str, ...]:
        return dict(self.attributes).get(slug, ())

    def with_attribute_values(self, slug, values) -> "SearchRequest":
        """The same search, first page, with one attribute's selection replaced (none: removed)."""
        attributes = [(name, chosen) for name, chosen in self.attributes if name != slug]
        if values:
            attributes.append((slug, tuple(values)))
        return self.refined(attributes=tuple(attributes))

    @property
    def effective_sort(self) -> str:
        """Relevance needs words to rank by (stop words are not); without them the newest come first."""
        if self.sort == "relevance" and not any(word not in STOP_WORDS for word in self.words):
            return "newest"
        return self.sort

    def refined(self, **changes) -> "SearchRequest":
        """The same search with some selections changed, from its first page."""
        return replace(self, page=1, **changes)

    @classmethod
    def from_params(cls, params, *, page_size=24) -> "SearchRequest":
        """Build from a QueryDict (``request.GET``) or a plain dict of lists."""

        def values(name):
            getter = getattr(params, "getlist", None)
            raw = getter(name) if getter else params.get(name, [])
            if isinstance(raw, str):
                raw = [raw]
            seen = []
            for value in raw:
                for part in _clean(value).split(","):
                    part = part.strip()
                    if part and part not in seen:
                        seen.append(part)
            return tuple(seen[:MAX_SELECTED_VALUES])

        def first(name):
            found = values(name)
            return found[0] if found else ""

        price_min, price_max = _decimal(first("price_min")), _decimal(first("price_max"))
        if price_min is not None and price_max is not None and price_min > price_max:
            price_min, price_max = price_max, price_min
        rating = _int(first("rating_min"))
        sort = first("sort")
        names = params.keys() if hasattr(params, "keys") else []
        attributes = tuple(
            (name[len(ATTRIBUTE_PREFIX) :], values(name))
            for name in names
            if name.startswith(ATTRIBUTE_PREFIX) and _SLUG.fullmatch(name[len(ATTRIBUTE_PREFIX) :]) and values(name)
        )[:MAX_ATTRIBUTE_FILTERS]
        return cls(
            q=" ".join(_text(params, "q").split())[:MAX_QUERY_LENGTH],
            categories=values("category"),
            brands=values("brand"),
            price_buckets=tuple(key for key in values("price") if key in PRICE_BUCKETS),
            price_min=price_min,
            price_max=price_max,
            rating_min=rating if rating in RATING_THRESHOLDS else None,
            in_stock=first("in_stock").lower() in {"1", "true", "on", "yes"},
            sort=sort if sort in SORTS else "relevance",
            page=max(1, _int(first("page")) or 1),
            page_size=page_size,
            all_brands=first("brands") == "all",
            attributes=attributes,
        )

    def to_params(self) -> list[tuple[str, str]]:
        """The query string that reproduces this request (for links)."""
        params = []
        if self.q:
            params.append(("q", self.q))
        params += [("category", slug) for slug in self.categories]
        params += [("brand", slug) for slug in self.brands]
        params += [("price", key) for key in self.price_buckets]
        if self.price_min is not None:
            params.append(("price_min", str(self.price_min)))
        if self.price_max is not None:
            params.append(("price_max", str(self.price_max)))
        if self.rating_min:
            params.append(("rating_min", str(self.rating_min)))
        if self.in_stock:
            params.append(("in_stock", "1"))
        params += [(ATTRIBUTE_PREFIX + slug, value) for slug, chosen in self.attributes for value in chosen]
        if self.sort != "relevance":
            params.append(("sort", self.sort))
        if self.all_brands:
            params.append(("brands", "all"))
        if self.page > 1:
            params.append(("page", str(self.page)))
        return params


def _text(params, name):
    getter = getattr(params, "get", None)
    value = getter(name, "") if getter else ""
    if isinstance(value, list):
        value = value[0] if value else ""
    return _clean(value)


def _clean(value) -> str:
    # NUL cannot be stored or compared in PostgreSQL text; no shopper types one.
    return str(value).replace("\x00", "")


def _decimal(value):
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError, TypeError):
        return None
    if not number.is_finite() or number < 0:
        return None
    return min(number, Decimal("99999999.99")).quantize(Decimal("0.01"))


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
