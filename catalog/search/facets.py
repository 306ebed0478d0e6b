"""Facet counts turned into what the page and the API show: labels, counts, links.

Every link is the current request with one value toggled, so selections live
in the URL: shareable, the back button works, no JavaScript needed.
"""
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.db.models import Q

from catalog.models import Brand
from catalog.selectors import attribute_facets, category_tree

from .query import PRICE_BUCKETS, RATING_THRESHOLDS, SearchRequest
from .results import SearchResult

TOP_BRANDS = 10
MAX_ATTRIBUTE_FACETS = 6  # without a category chosen, the attributes most products have
MAX_ATTRIBUTE_VALUES = 20


@dataclass(frozen=True)
class FacetValue:
    key: str
    label: str
    count: int
    selected: bool
    url: str
    depth: int = 0


@dataclass(frozen=True)
class AttributeFacetGroup:
    slug: str
    label: str
    values: list[FacetValue]


@dataclass
class Facets:
    categories: list[FacetValue] = field(default_factory=list)
    brands: list[FacetValue] = field(default_factory=list)
    more_brands_url: str | None = None
    price: list[FacetValue] = field(default_factory=list)
    ratings: list[FacetValue] = field(default_factory=list)
    in_stock: FacetValue | None = None
    attributes: list[AttributeFacetGroup] = field(default_factory=list)
    selected: list[FacetValue] = field(default_factory=list)  # removable chips; url removes the value
    clear_url: str = "?"
    price_range: bool = True  # the min/max form: useful while there are results or a range is set

    def shown(self) -> "Facets":
        """The sidebar a page draws: only values that lead somewhere (a count) or
        are selected (to be removed); a search that finds nothing draws none.
        The API keeps every value with its count, zero included."""

        def useful(values):
            return [value for value in values if value.count or value.selected]

        attributes = [replace(group, values=useful(group.values)) for group in self.attributes]
        in_stock = self.in_stock if self.in_stock and (self.in_stock.count or self.in_stock.selected) else None
        return replace(
            self,
            categories=useful(self.categories),
            brands=useful(self.brands),
            price=useful(self.price),
            ratings=useful(self.ratings),
            in_stock=in_stock,
            attributes=[group for group in attributes if group.values],
        )

    @property
    def is_empty(self) -> bool:
        return not (
            self.categories or self.brands or self.price or self.price_range or self.ratings or self.in_stock
            or self.attributes
        )


def url(request: SearchRequest, *, page_category: str | None = None) -> str:
    """The request's query string; on a category page, the category is the path, not a parameter."""
    return "?" + urlencode(_params(request, page_category))


def _params(request, page_category):
    return [(name, value) for name, value in request.to_params() if (name, value) != ("category", page_category)]


def paging_query(request: SearchRequest, *, page_category: str | None = None) -> str:
    """The query string before ``page=`` in pagination links."""
    params = [(name, value) for name, value in _params(request, page_category) if name != "page"]
    return urlencode(params) + "&" if params else ""


def result_page(result: SearchResult, *, max_pages: int) -> Page:
    """A Django ``Page`` for the pagination links (the hits themselves are in ``result.ids``)."""
    per_page = result.request.page_size
    shown = min(result.total, max_pages * per_page)
    paginator = Paginator(range(shown), per_page)
    paginator.capped = result.total > shown
    # The count the page states: the engine's whole total, not the browsing cap,
    # so it is never below what the facets count.
    paginator.total = result.total
    paginator.approximate = not result.counts.exact
    return paginator.get_page(result.request.page)


def _toggle(values, key):
    return tuple(value for value in values if value != key) if key in values else (*values, key)


def build_facets(result: SearchResult, *, page_category: str | None = None) -> Facets:
    """The sidebar for a result; ``page_category`` is the slug a category page is about
    (its links keep to that page, and its subcategories replace the department facet)."""
    request, counts = result.request, result.counts

    def link(changed):
        return url(changed, page_category=page_category)

    facets = Facets(
        clear_url=link(
            SearchRequest(q=request.q, sort=request.sort, categories=(page_category,) if page_category else ())
        ),
        price_range=bool(result.total) or request.price_min is not None or request.price_max is not None,
    )
    if not page_category:
        facets.categories = _categories(request, counts.categories)
    facets.brands, facets.more_brands_url = _brands(request, counts.brands, link)
    facets.price = [
        FacetValue(
            key,
            label,
            counts.price_buckets.get(key, 0),
            key in request.price_buckets,
            link(request.refined(price_buckets=_toggle(request.price_buckets, key))),
        )
        for key, (label, _, _) in PRICE_BUCKETS.items()
    ]
    facets.ratings = [
        FacetValue(
            str(threshold),
            f"{threshold}★ & up",
            counts.ratings.get(threshold, 0),
            request.rating_min == threshold,
            link(request.refined(rating_min=None if request.rating_min == threshold else threshold)),
        )
        for threshold in RATING_THRESHOLDS
    ]
    facets.in_stock = FacetValue(
        "1", "In stock only", counts.in_stock, request.in_stock, link(request.refined(in_stock=not request.in_stock))
    )
    facets.attributes = _attributes(request, counts.attributes, link)
    facets.selected = [value for value in _all_values(facets) if value.selected]
    if request.price_min is not None or request.price_max is not None:
        low = f"${request.price_min}" if request.price_min is not None else "$0"
        high = f"${request.price_max}" if request.price_max is not None else "any"
        facets.selected.append(
            FacetValue("custom", f"{low} – {high}", 0, True, link(request.refined(price_min=None, price_max=None)))
        )
    return facets


def _all_values(facets):
    yield from facets.categories
    yield from facets.brands
    yield from facets.price
    yield from facets.ratings
    yield facets.in_stock
    for group in facets.attributes:
        yield from group.values


def _attributes(request, counts, link):
    """The attribute facets of the chosen categories (or, with none chosen, of
    every category, those most matching products have), values in the
    declared order and then by count."""
    tree = category_tree()
    by_slug = {node.slug: node.id for node in tree.nodes.values()}
    chosen = [by_slug[slug] for slug in request.categories if slug in by_slug]
    scope = {i for category_id in chosen for i in tree.descendant_ids(category_id)} if chosen else set(tree.nodes)
    specs = {}
    for category_id, declared in attribute_facets().items():
        if category_id in scope:
            for spec in declared:
                specs.setdefault(spec.key, spec)
    groups = []
    for key, spec in specs.items():
        value_counts = counts.get(key, {})
        selected = request.attribute_values(spec.slug)
        values = sorted(
            {*value_counts, *selected},
            key=lambda value: (
                spec.value_order.index(value) if value in spec.value_order else len(spec.value_order),
                -value_counts.get(value, 0),
                value,
            ),
        )[:MAX_ATTRIBUTE_VALUES]
        if not values:
            continue
        facet_values = [
            FacetValue(
                value,
                value,
                value_counts.get(value, 0),
                value in selected,
                link(request.with_attribute_values(spec.slug, _toggle(selected, value))),
            )
            for value in values
        ]
        groups.append((sum(value_counts.values()), spec, AttributeFacetGroup(spec.slug, spec.label, facet_values)))
    if not chosen:
        groups = sorted(groups, key=lambda group: -group[0])[:MAX_ATTRIBUTE_FACETS]
    return [group for _, _, group in sorted(groups, key=lambda group: (group[1].position, group[1].label))]


def _categories(request, direct_counts):
    """The tree, with each node counting its whole subtree.

    Roots are always listed; the children of a selected category (and of its
    ancestors) are listed below it.
    """
    tree = category_tree()
    by_slug = {node.slug: node for node in tree.nodes.values()}
    selected_ids = {by_slug[slug].id for slug in request.categories if slug in by_slug}
    expanded = set(selected_ids)
    for category_id in selected_ids:
        expanded.update(node.id for node in tree.ancestors(category_id))
    totals = {}

    def total(category_id):
        if category_id not in totals:
            node = tree.nodes[category_id]
            totals[category_id] = direct_counts.get(category_id, 0) + sum(total(i) for i in node.child_ids)
        return totals[category_id]

    values = []

    def visit(node, depth):
        count = total(node.id)
        if count or node.id in selected_ids:
            values.append(
                FacetValue(
                    node.slug,
                    node.name,
                    count,
                    node.id in selected_ids,
                    url(request.refined(categories=_choose_category(tree, request.categories, node))),
                    depth,
                )
            )
        if node.id in expanded:
            for child in tree.children(node.id):
                visit(child, depth + 1)

    for root in tree.roots():
        visit(root, 0)
    return values


def _choose_category(tree, selected, node):
    """The selection after clicking ``node``: a selected one is removed; a new one
    replaces its selected ancestors and descendants (a department's subcategory
    narrows it, the department widens back), and is OR-ed with the rest."""
    if node.slug in selected:
        return tuple(slug for slug in selected if slug != node.slug)
    related = {ancestor.slug for ancestor in tree.ancestors(node.id)}
    related.update(tree.nodes[i].slug for i in tree.descendant_ids(node.id))
    return (*(slug for slug in selected if slug not in related), node.slug)


def _brands(request, brand_counts, link):
    ranked = sorted(brand_counts.items(), key=lambda item: (-item[1], item[0]))
    top_ids = [brand_id for brand_id, _ in (ranked if request.all_brands else ranked[:TOP_BRANDS])]
    # The brands shown and the brands selected, in one query.
    brands = {brand.id: brand for brand in Brand.objects.filter(Q(id__in=top_ids) | Q(slug__in=request.brands))}
    shown_ids = top_ids + [brand.id for brand in brands.values() if brand.slug in request.brands and brand.id not in top_ids]
    values = [
        FacetValue(
            brands[brand_id].slug,
            brands[brand_id].name,
            brand_counts.get(brand_id, 0),
            brands[brand_id].slug in request.brands,
            link(request.refined(brands=_toggle(request.brands, brands[brand_id].slug))),
        )
        for brand_id in shown_ids
        if brand_id in brands
    ]
    more = None
    if not request.all_brands and len(ranked) > TOP_BRANDS:
        more = link(request.refined(all_brands=True))
    return values, more
