"""The Elasticsearch mapping of a product (django-elasticsearch-dsl).

Only used when ELASTICSEARCH_URL is set. Automatic signal sync is off: the
index is updated in batches by ``catalog.tasks`` (see catalog/search/).
"""
from django_elasticsearch_dsl import Document, fields
from django_elasticsearch_dsl.registries import registry

from .models import Product

# The search backend (catalog/search/elasticsearch.py) reads this index by name.
INDEX_NAME = "products"


@registry.register_document
class ProductDocument(Document):
    title = fields.TextField(analyzer="english")
    description = fields.TextField(analyzer="english")
    brand = fields.TextField(attr="brand.name", analyzer="english", fields={"keyword": fields.KeywordField()})
    brand_id = fields.IntegerField()
    category = fields.KeywordField(attr="category.slug")
    category_id = fields.IntegerField()
    price = fields.FloatField()
    rating = fields.FloatField()
    in_stock = fields.BooleanField()
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

    def prepare_attributes(self, product):
        return [{"name": str(name), "value": str(value)} for name, value in product.attributes.items()]
