from dataclasses import replace

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control

from . import search as catalog_search
from . import artwork, recently_viewed, selectors
from .search import typeahead
from .search.facets import build_facets, paging_query, result_page
from .search.query import ATTRIBUTE_PREFIX, SORTS, SearchRequest
from .serializers import CompletionsSerializer


def home(request):
    return render(
        request,
        "catalog/home.html",
        {
            "categories": selectors.top_categories(),
            "featured": selectors.featured_products(),
            "recently_viewed": selectors.recently_viewed(recently_viewed.viewed_ids(request)),
        },
    )


def category_detail(request, slug):
    """A category's products with the search page's facets, from the same engine (no words)."""
    category = selectors.get_category(slug)
    sort = selectors.normalise_sort(request.GET.get("sort"))
    asked = SearchRequest.from_params(request.GET, page_size=settings.CATALOG_PAGE_SIZE)
    # Without words the search lists the newest first: links then need no sort=.
    search_sort = "relevance" if sort == selectors.DEFAULT_BROWSE_SORT else sort
    result = catalog_search.search(
        replace(asked, q="", categories=(category.slug,), sort=search_sort, category_facet=False)
    )
    tree = selectors.category_tree()
    return render(
        request,
        "catalog/category.html",
        {
            "category": category,
            "ancestors": tree.ancestors(category.pk),
            "subcategories": tree.children(category.pk),
            "sort": sort,
            "sorts": [(key, label) for key, (label, _) in selectors.BROWSE_SORTS.items()],
            **_results_context(result, page_category=category.slug),
        },
    )


def product_detail(request, pk, slug=None):
    product = selectors.product_detail(pk)
    if product.slug and slug != product.slug:
        return redirect(product, permanent=True)
    response = product_page(request, product)
    recently_viewed.remember(request, response, product.pk)
    return response


def product_image(request, pk):
    """The drawn picture of a product without a photo. Its URL carries the
    product's version (``?v=``), so browsers and shared caches keep it a year."""
    response = HttpResponse(artwork.draw(selectors.artwork_subject(pk)), content_type="image/svg+xml")
    patch_cache_control(response, public=True, max_age=artwork.CACHE_SECONDS, immutable=True)
    return response


def product_page(request, product, **extra_context):
    """The product page. Its shelves and reviews come from the higher apps'
    template tags; ``extra_context`` is what a higher app's view hands them
    (the reviews app: the refused review's form)."""
    return render(
        request,
        "catalog/product.html",
        {
            "product": product,
            "ancestors": selectors.category_tree().ancestors(product.category_id),
            "recently_viewed": selectors.recently_viewed(recently_viewed.viewed_ids(request), leaving_out=product.pk),
            **extra_context,
        },
    )


def search(request):
    search_request = SearchRequest.from_params(request.GET, page_size=settings.CATALOG_PAGE_SIZE)
    result = catalog_search.search(search_request)
    return render(
        request,
        "catalog/search.html",
        {"query": result.request.q, "sorts": SORTS.items(), **_results_context(result, page_category=None)},
    )


def _results_context(result, *, page_category):
    """What the results, facets and pager partials read, on search and category pages alike."""
    return {
        "search": result.request,
        "result": result,
        "products": selectors.products_by_ids(result.ids),
        "facets": build_facets(result, page_category=page_category).shown(),
        "facet_action": "" if page_category else reverse("search"),
        "page_category": page_category,
        "attribute_params": [(name, value) for name, value in result.request.to_params() if name.startswith(ATTRIBUTE_PREFIX)],
        "page": result_page(result, max_pages=settings.CATALOG_MAX_PAGES),
        "base_query": paging_query(result.request, page_category=page_category),
    }
def search_suggest(request):
    """The header search box's completions as JSON. The same for every visitor,
    so shared caches and the browser may keep an answer as long as the server does."""
    completions = typeahead.complete(request.GET.get("q", ""))
    response = JsonResponse(CompletionsSerializer(completions).data)
    patch_cache_control(response, public=True, max_age=typeahead.CACHE_SECONDS)
    return response
