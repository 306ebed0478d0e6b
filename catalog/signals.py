"""Keep caches and the search index in step with catalog writes; forget recently viewed products on log-out."""
from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from amazon_site.accounts.signals import logged_out_response
from amazon_site.celery import enqueue_on_commit

from . import recently_viewed
from .models import AttributeFacet, Category, Product, SearchSynonym
from .search.vocabulary import forget_synonyms
from .selectors import forget_attribute_facets, forget_category_tree


@receiver(post_save, sender=Category)
@receiver(post_delete, sender=Category)
def category_changed(**kwargs):
    forget_category_tree()


@receiver(post_save, sender=AttributeFacet)
@receiver(post_delete, sender=AttributeFacet)
def attribute_facets_changed(**kwargs):
    forget_attribute_facets()


@receiver(post_save, sender=SearchSynonym)
@receiver(post_delete, sender=SearchSynonym)
def synonyms_changed(**kwargs):
    forget_synonyms()


@receiver(post_delete, sender=Product)
def product_deleted(instance, **kwargs):
    if settings.ELASTICSEARCH_URL:
        from .tasks import remove_from_search_index

        product_id = instance.pk
        enqueue_on_commit(remove_from_search_index, [product_id])


@receiver(logged_out_response)
def forget_recently_viewed(response, **kwargs):
    recently_viewed.forget(response)
