"""Keep caches and the search index in step with catalog writes; forget recently viewed products on log-out."""
from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from amazon_site.accounts.signals import logged_out_response
from amazon_site.celery import enqueue_on_commit

from . import recently_viewed
from .models import Category, Product
from .selectors import forget_category_tree


@receiver(post_save, sender=Category)
@receiver(post_delete, sender=Category)
def category_changed(**kwargs):
    forget_category_tree()


@receiver(post_delete, sender=Product)
def product_deleted(instance, **kwargs):
    if settings.ELASTICSEARCH_URL:
        from .tasks import remove_from_search_index

        product_id = instance.pk
        enqueue_on_commit(remove_from_search_index, [product_id])


@receiver(logged_out_response)
def forget_recently_viewed(response, **kwargs):
    recently_viewed.forget(response)
