from django.urls import path

from . import views

urlpatterns = [
    # Two segments after the id: no product slug can shadow it.
    path("p/<int:pk>/reviews/new/", views.add_review, name="product-review"),
]
