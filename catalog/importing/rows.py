"""One row of a catalog feed, checked: what it says, or why it is refused.

A row names a product by its SKU and gives some of its fields; a field it does
not give (a missing column, an empty CSV cell, a JSON ``null``) stays as it is.
A row for a SKU the catalog does not have yet must give what a new product
needs (``NEW_PRODUCT_FIELDS``). Every check here is about the row alone; the
checks that need the database (an unknown SKU, stock held in carts) are the
loader's (``catalog.importing.load``).
"""
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from ..models import product_slug
from ..ratings import star_counts
from ..search.analysis import title_for, title_head, variants

# Columns of a CSV feed (JSON Lines uses the same keys, with "attributes" and
# "stock" as objects); "attribute:<name>" and "stock:<warehouse code>" columns
# give one attribute or one warehouse's units each.
FIELDS = (
    "sku", "title", "description", "brand", "category", "price", "attributes", "image",
    "seller", "rating", "review_count", "active", "created_at", "stock",
)
ATTRIBUTE_PREFIX = "attribute:"
STOCK_PREFIX = "stock:"
NEW_PRODUCT_FIELDS = ("title", "brand", "category", "price")
CATEGORY_SEPARATOR = ">"
MAX_PRICE = Decimal("99999999.99")  # the column is numeric(10, 2)
MAX_UNITS = 2**31 - 1
MAX_CATEGORY_DEPTH = 6
_SKU = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}")
_IMAGE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]*\.(?:jpe?g|png|webp|gif|avif)", re.IGNORECASE)
_TRUE, _FALSE = {"true", "1", "yes", "y"}, {"false", "0", "no", "n"}


class Rejected(Exception):
    """A field of a row that cannot be loaded, and why."""

    def __init__(self, field_name, reason):
        super().__init__(reason)
        self.field = field_name
        self.reason = reason


@dataclass(frozen=True)
class Rejection:
    row: int  # the row's line in a CSV file (the header is line 1), its line in JSON Lines
    sku: str
    field: str
    reason: str


@dataclass(slots=True)
class ProductRow:
    """A checked row. ``None`` means "not given": the product keeps what it has."""

    row: int
    sku: str
    title: str | None = None
    description: str | None = None
    brand: str | None = None
    category: tuple[str, ...] | None = None
    price: Decimal | None = None
    attributes: dict | None = None
    image: str | None = None
    seller: str | None = None
    rating: Decimal | None = None
    review_count: int | None = None
    active: bool | None = None
    created_at: datetime | None = None
    stock: dict[str, int] = field(default_factory=dict)
    # ``document_parts()`` worked out ahead (off the database's thread), for a row that may make a product.
    parts: tuple[str, str, str, str] | None = None
    # Rows made by code may give the split by stars itself (the seeder); a feed's is made from rating and count.
    star_split: dict[int, int] | None = None

    @property
    def complete(self) -> bool:
        """Gives everything a new product needs (its seller may still come from the import's default)."""
        return all(getattr(self, name) is not None for name in NEW_PRODUCT_FIELDS)

    @property
    def slug(self) -> str | None:
        return product_slug(self.title) if self.title is not None else None

    def stars(self) -> dict[int, int] | None:
        if self.review_count is None:
            return None
        return self.star_split or star_counts(self.review_count, self.rating)

    def document_parts(self) -> tuple[str, str, str, str]:
        """The four weighted texts of the search document (``catalog_search_document_parts``).

        The same rules as the database's ``catalog_search_document``, run here so
        that a bulk load does its regular expressions in Python, several times
        faster than PostgreSQL's. Attribute values follow jsonb's key order
        (shorter keys first), as ``jsonb_each_text`` reads them.
        """
        head, tail = title_head(self.title), title_for(self.title)
        attributes = self.attributes or {}
        named = " ".join(str(attributes[key]) for key in sorted(attributes, key=_jsonb_order))
        body = self.description or ""
        return (
            f"{head} {variants(head)}",
            f"{self.brand} {tail} {variants(tail)}",
            f"{named} {variants(named)}",
            f"{body} {variants(body)}",
        )


def _jsonb_order(key: str):
    encoded = key.encode()
    return len(encoded), encoded


def check(raw: dict, row: int, *, warehouses: set[str]) -> ProductRow:
    """The row as a ``ProductRow``, or ``Rejected`` for its first bad field.

    ``raw`` maps the feed's field names to what the file holds: strings from a
    CSV file, JSON values from JSON Lines.
    """
    sku = _text(raw.get("sku"))
    if sku is None:
        raise Rejected("sku", "every row needs a SKU")
    if not _SKU.fullmatch(sku):
        raise Rejected("sku", "a SKU is 1 to 64 letters, digits and . _ / - (starting with a letter or digit)")
    checked = ProductRow(row=row, sku=sku)
    for name in ("title", "description", "brand", "seller"):
        value = _text(raw.get(name), keep_lines=name == "description")
        limit = {"title": 500, "brand": 200, "seller": 200}.get(name)
        if value is not None and limit and len(value) > limit:
            raise Rejected(name, f"at most {limit} characters (this one has {len(value)})")
        setattr(checked, name, value)
    checked.category = _category(raw.get("category"))
    checked.price = _price(raw.get("price"))
    checked.attributes = _attributes(raw.get("attributes"))
    checked.image = _image(raw.get("image"))
    checked.rating, checked.review_count = _rating(raw.get("rating"), raw.get("review_count"))
    checked.active = _boolean(raw.get("active"))
    checked.created_at = _moment(raw.get("created_at"))
    checked.stock = _stock(raw.get("stock"), warehouses)
    return checked


def _given(value) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _text(value, *, keep_lines=False) -> str | None:
    if not _given(value):
        return None
    if not isinstance(value, str):
        value = str(value)
    return value.strip() if keep_lines else " ".join(value.split())


def _category(value) -> tuple[str, ...] | None:
    if not _given(value):
        return None
    if isinstance(value, list):
        parts = [_text(part) for part in value]
    else:
        parts = [_text(part) for part in str(value).split(CATEGORY_SEPARATOR)]
    if any(part is None for part in parts):
        raise Rejected("category", "a category path is names separated by “>”, none of them empty")
    if len(parts) > MAX_CATEGORY_DEPTH or any(len(part) > 200 for part in parts):
        raise Rejected("category", f"at most {MAX_CATEGORY_DEPTH} levels of at most 200 characters each")
    return tuple(parts)


def _price(value) -> Decimal | None:
    if not _given(value):
        return None
    if isinstance(value, bool) or isinstance(value, float) and not math.isfinite(value):
        raise Rejected("price", f"not a price: {value!r}")
    try:
        price = Decimal(str(value).strip())
    except InvalidOperation:
        raise Rejected("price", f"not a price: {value!r}") from None
    if not price.is_finite() or price < 0 or price > MAX_PRICE:
        raise Rejected("price", f"a price is between 0 and {MAX_PRICE}: {value!r}")
    if price != price.quantize(Decimal("0.01")):
        raise Rejected("price", f"a price has at most two decimals: {value!r}")
    return price.quantize(Decimal("0.01"))


def _attributes(value) -> dict | None:
    if not _given(value):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise Rejected("attributes", "attributes are a JSON object, e.g. {\"color\": \"Black\"}") from None
    if not isinstance(value, dict):
        raise Rejected("attributes", "attributes are a JSON object, e.g. {\"color\": \"Black\"}")
    checked = {}
    for key, item in value.items():
        name = " ".join(str(key).split())
        if not name or len(name) > 100:
            raise Rejected("attributes", f"an attribute's name is 1 to 100 characters: {key!r}")
        if isinstance(item, (dict, list)) or isinstance(item, bool):
            raise Rejected(f"attribute:{name}", "an attribute's value is one text or number")
        if item is None or (isinstance(item, str) and not item.strip()):
            continue
        text = " ".join(str(item).split())
        if len(text) > 200:
            raise Rejected(f"attribute:{name}", "an attribute's value is at most 200 characters")
        checked[name] = text
    return checked


def _image(value) -> str | None:
    if not _given(value):
        return None
    path = str(value).strip()
    if len(path) > 100 or ".." in path or not _IMAGE.fullmatch(path):
        raise Rejected(
            "image",
            "an image is a file's path under the media folder (e.g. products/lamp.jpg), at most 100 characters",
        )
    return path


def _rating(rating, count) -> tuple[Decimal | None, int | None]:
    if not _given(rating) and not _given(count):
        return None, None
    if not (_given(rating) and _given(count)):
        raise Rejected("rating" if not _given(rating) else "review_count", "rating and review_count go together")
    count = _whole(count, "review_count", limit=MAX_UNITS)
    try:
        average = Decimal(str(rating).strip())
    except InvalidOperation:
        raise Rejected("rating", f"not a rating: {rating!r}") from None
    if not average.is_finite() or not (0 <= average <= 5) or average != average.quantize(Decimal("0.1")):
        raise Rejected("rating", f"a rating is 0 to 5 with one decimal: {rating!r}")
    if (count == 0) != (average == 0):
        raise Rejected("rating", "a rating of 0 means no ratings, and only then (review_count 0)")
    return average.quantize(Decimal("0.1")), count


def _whole(value, name, *, limit) -> int:
    if isinstance(value, bool):
        raise Rejected(name, f"not a whole number: {value!r}")
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if not text.isdigit():
            raise Rejected(name, f"not a whole number of zero or more: {value!r}")
        number = int(text)
    if not 0 <= number <= limit:
        raise Rejected(name, f"between 0 and {limit}: {value!r}")
    return number


def _boolean(value) -> bool | None:
    if not _given(value):
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise Rejected("active", f"true or false: {value!r}")


def _moment(value) -> datetime | None:
    if not _given(value):
        return None
    try:
        moment = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise Rejected("created_at", f"an ISO 8601 time, e.g. 2026-11-30T09:00:00Z: {value!r}") from None
    if moment.tzinfo is None:
        raise Rejected("created_at", f"a time needs its offset from UTC (Z or +01:00): {value!r}")
    return moment.astimezone(timezone.utc)


def _stock(value, warehouses) -> dict[str, int]:
    if not _given(value):
        return {}
    if not isinstance(value, dict):
        raise Rejected("stock", "stock is an object of warehouse code to units, e.g. {\"EWR1\": 12}")
    units = {}
    for code, count in value.items():
        if code not in warehouses:
            raise Rejected(f"stock:{code}", f"no warehouse has the code {code!r}")
        if _given(count):
            units[code] = _whole(count, f"stock:{code}", limit=MAX_UNITS)
    return units
