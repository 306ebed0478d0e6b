"""Catalog feeds: products loaded and updated by SKU from CSV or JSON Lines (``manage.py import_catalog``).

``services`` is the public surface; ``rows`` says what a row may hold,
``feeds`` reads files, ``load`` writes a batch.
"""
