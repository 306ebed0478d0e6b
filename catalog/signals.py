"""Keep the cached category tree in step with the categories table."""
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Category
from .selectors import forget_category_tree


@receiver(post_save, sender=Category)
@receiver(post_delete, sender=Category)
def category_changed(**kwargs):
    forget_category_tree()
