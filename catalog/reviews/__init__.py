"""Shoppers' reviews of products they received: an app of its own above catalog and orders.

Review rows live here; the product's ``rating``, ``rating_total``,
``review_count`` and its split by stars (``stars_1`` … ``stars_5``, see
``catalog.ratings``) stay on ``catalog.Product`` (browse, search, cards and the
histogram read them) and only ``catalog.reviews.services.add_review`` writes them.
"""
