from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from catalog import selectors as catalog_selectors
from catalog.views import product_page

from . import services
from .forms import ReviewForm


@login_required
@require_http_methods(["GET", "POST"])
def add_review(request, pk):
    product = catalog_selectors.product_detail(pk)
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
    # The product page again, its reviews section showing the form with its errors.
    return product_page(request, product, review_form=form)
