from urllib.parse import urlencode

from django.shortcuts import redirect, render

from . import selectors


def home(request):
    return render(
        request,
        "catalog/home.html",
        {"categories": selectors.top_categories(), "featured": selectors.featured_products()},
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
    return render(
        request,
        "catalog/product.html",
        {"product": product, "ancestors": selectors.category_tree().ancestors(product.category_id)},
    )


def search(request):
    query = request.GET.get("q", "").strip()[: selectors.MAX_QUERY_LENGTH]
    page = selectors.search_products(query, page_number=request.GET.get("page"))
    return render(request, "catalog/search.html", {"query": query, "page": page, "base_query": urlencode({"q": query}) + "&"})
