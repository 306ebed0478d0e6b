from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "catalog.reviews"
    label = "reviews"
    verbose_name = "Reviews"
