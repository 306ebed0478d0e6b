"""Shoppers' reviews of products they received: an app of its own above catalog and orders.

Review rows live here; the product's ``rating``, ``rating_total`` and
``review_count`` stay on ``catalog.Product`` (browse, search and cards read
them) and only ``catalog.reviews.services.add_review`` writes them.
"""
