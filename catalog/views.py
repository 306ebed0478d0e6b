from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from recommendations import selectors as recommendations

from . import search as catalog_search
from . import recently_viewed, selectors, services
from .forms import ReviewForm
from .search.facets import build_facets, paging_query, result_page
from .search.query import SORTS, SearchRequest


def home(request):
    return render(
        request,
        "catalog/home.html",
        {
            "categories": selectors.top_categories(),
            "featured": selectors.featured_products(),
            "recommendations": recommendations.for_shopper(request.user),
            "recently_viewed": selectors.recently_viewed(recently_viewed.viewed_ids(request)),
        },
    )


def category_detail(request, slug):
    category = selectors.get_category(slug)
    sort = selectors.normalise_sort(request.GET.get("sort"))
    page = selectors.browse_products(category, sort=sort, page_number=request.GET.get("page"))
    tree = selectors.category_tree()
    return render(
        request,
        "catalog/category.html",
        {
            "category": category,
            "ancestors": tree.ancestors(category.pk),
            "subcategories": tree.children(category.pk),
            "page": page,
            "sort": sort,
            "base_query": urlencode({"sort": sort}) + "&",
            "sorts": [(key, label) for key, (label, _) in selectors.BROWSE_SORTS.items()],
        },
    )


def product_detail(request, pk, slug=None):
    product = selectors.product_detail(pk)
    if product.slug and slug != product.slug:
        return redirect(product, permanent=True)
    response = _product_page(request, product, ReviewForm())
    recently_viewed.remember(request, response, product.pk)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def add_review(request, pk):
    product = selectors.product_detail(pk)
    if request.method == "GET":  # where signing in to post a review comes back to
        return redirect(product.get_absolute_url() + "#reviews")
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.add_review(user=request.user, product_id=product.pk, **form.cleaned_data)
        except services.ReviewError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Thank you, your review is posted.")
            return redirect(product.get_absolute_url() + "#reviews")
    return _product_page(request, product, form)


def _product_page(request, product, review_form):
    """The product page; after a refused review it shows the form with its errors."""
    return render(
        request,
        "catalog/product.html",
        {
            "product": product,
            "ancestors": selectors.category_tree().ancestors(product.category_id),
            "recommendations": recommendations.for_product(product),
            "reviews": selectors.product_reviews(product.pk, request.GET.get("reviews_page")),
            "review_refusal": selectors.review_refusal(request.user, product.pk),
            "review_form": review_form,
            "recently_viewed": selectors.recently_viewed(recently_viewed.viewed_ids(request), leaving_out=product.pk),
        },
    )


def search(request):
    search_request = SearchRequest.from_params(request.GET, page_size=settings.CATALOG_PAGE_SIZE)
    result = catalog_search.search(search_request)
    return render(
        request,
        "catalog/search.html",
        {
            "query": result.request.q,
            "search": result.request,
            "result": result,
            "products": selectors.products_by_ids(result.ids),
            "facets": build_facets(result),
            "page": result_page(result, max_pages=settings.CATALOG_MAX_PAGES),
            "base_query": paging_query(result.request),
            "sorts": SORTS.items(),
        },
    )
