"""The Elasticsearch mapping of a product (django-elasticsearch-dsl).

Only used when ELASTICSEARCH_URL is set. Automatic signal sync is off: the
index is updated in batches by ``catalog.tasks`` (see catalog/search/).

The text fields mirror the database's search document (migration 0009), each
with its joined forms (``analysis.variants``: "64 GB" is also ``64gb``):
``title`` is what the title says the product is, its kind once more (weight
A); ``brand`` and ``title_for``, what it is for (B); ``attribute_text``, the
attribute values (C); ``description`` (D). There is no synonym filter in the
analyzer: staff synonyms live in the database and change without reindexing,
so the backend expands them in the query (``analysis.terms``), as the database
backend does.
"""
from django_elasticsearch_dsl import Document, fields
from django_elasticsearch_dsl.registries import registry

from .models import Product
from .search.analysis import title_for, title_head, variants

# The search backend (catalog/search/elasticsearch.py) reads this index by name.
INDEX_NAME = "products"


def _with_variants(text: str) -> str:
    return " ".join(part for part in (text, variants(text)) if part)


@registry.register_document
class ProductDocument(Document):
    title = fields.TextField(analyzer="english")
    title_for = fields.TextField(analyzer="english")
    brand = fields.TextField(attr="brand.name", analyzer="english", fields={"keyword": fields.KeywordField()})
    attribute_text = fields.TextField(analyzer="english")
    description = fields.TextField(analyzer="english")
    brand_id = fields.IntegerField()
    category = fields.KeywordField(attr="category.slug")
    category_id = fields.IntegerField()
    price = fields.FloatField()
    rating = fields.FloatField()
    in_stock = fields.BooleanField()
    # Facets and filters: one nested document per attribute, name and value exact.
    attributes = fields.NestedField(properties={"name": fields.KeywordField(), "value": fields.KeywordField()})

    class Index:
        name = INDEX_NAME
        settings = {"number_of_shards": 1, "number_of_replicas": 0}

    class Django:
        model = Product
        fields = ["id", "review_count", "is_active", "created_at"]
        queryset_pagination = 2000

    def get_queryset(self):
        return super().get_queryset().select_related("brand", "category")

    def prepare(self, product):
        # django-elasticsearch-dsl 9.0 caches these preparers in an attribute
        # that elasticsearch >= 9.4 keeps as document data, out of prepare's
        # sight: every product would be indexed empty (django-es/django-elasticsearch-dsl#505).
        return {name: prepare(product) for name, _, prepare in self.init_prepare()}

    def prepare_title(self, product):
        return _with_variants(title_head(product.title))

    def prepare_title_for(self, product):
        return _with_variants(title_for(product.title))

    def prepare_attribute_text(self, product):
        return _with_variants(" ".join(str(value) for value in product.attributes.values()))

    def prepare_description(self, product):
        return _with_variants(product.description)

    def prepare_attributes(self, product):
        return [{"name": str(name), "value": str(value)} for name, value in product.attributes.items()]
