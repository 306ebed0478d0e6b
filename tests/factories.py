from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.db.models import Sum

from cart.models import Reservation
from catalog.models import Brand, Category, Inventory, Product, Seller, Warehouse
from catalog.ratings import star_fields

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"shopper{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password(PASSWORD)


class SellerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Seller

    name = factory.Sequence(lambda n: f"Seller {n}")
    slug = factory.Sequence(lambda n: f"seller-{n}")


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.Sequence(lambda n: f"brand-{n}")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")
    parent = None


def category_tree() -> dict:
    """The tests' category tree, by slug: Electronics (Audio with Headphones, and Cables), Books, Home & Kitchen.

    Departments, a subcategory with one of its own and siblings: enough for
    browsing, facets and breadcrumbs, and one tree for every test that needs one.
    """
    electronics = CategoryFactory(name="Electronics", slug="electronics")
    audio = CategoryFactory(name="Audio", slug="audio", parent=electronics)
    categories = [
        electronics,
        audio,
        CategoryFactory(name="Headphones", slug="headphones", parent=audio),
        CategoryFactory(name="Cables", slug="cables", parent=electronics),
        CategoryFactory(name="Books", slug="books"),
        CategoryFactory(name="Home & Kitchen", slug="home-kitchen"),
    ]
    return {category.slug: category for category in categories}


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    seller = factory.SubFactory(SellerFactory)
    category = factory.SubFactory(CategoryFactory)
    brand = factory.SubFactory(BrandFactory)
    title = factory.Sequence(lambda n: f"Product number {n}")
    description = "A product used in tests."
    price = Decimal("19.99")
    attributes = factory.LazyFunction(lambda: {"color": "Black"})

    @classmethod
    def _adjust_kwargs(cls, **kwargs):
        """A rating given as average and count gets a split by stars adding up to it (a database constraint)."""
        if not any(field.startswith("stars_") for field in kwargs):
            kwargs.update(star_fields(kwargs.get("review_count", 0), kwargs.get("rating", 0)))
        return kwargs


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse

    code = factory.Sequence(lambda n: f"WH{n}")
    name = factory.Sequence(lambda n: f"Warehouse {n}")


class InventoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Inventory

    product = factory.SubFactory(ProductFactory)
    warehouse = factory.SubFactory(WarehouseFactory)
    quantity = 10
    reserved = 0


def stocked_product(*quantities, **product_fields):
    """A product with one stock row per quantity, each in its own new warehouse."""
    product = ProductFactory(**product_fields)
    for quantity in quantities:
        InventoryFactory(product=product, quantity=quantity)
    return product


def stock_invariant_violations():
    """Inventory rows breaking the reservation invariants, as readable tuples.

    Every row must have ``0 <= reserved <= quantity`` and ``reserved`` equal to
    the units its reservation rows hold (expired or not: an expired row holds
    its stock until something releases it). An empty list means all is well.
    """
    held = {
        (row["product_id"], row["warehouse_id"]): row["units"]
        for row in Reservation.objects.values("product_id", "warehouse_id").annotate(units=Sum("quantity"))
    }
    violations = []
    for row in Inventory.objects.order_by("product_id", "warehouse_id"):
        units = held.pop((row.product_id, row.warehouse_id), 0)
        if not 0 <= row.reserved <= row.quantity or row.reserved != units:
            violations.append((row.product_id, row.warehouse_id, row.quantity, row.reserved, units))
    violations.extend((product_id, warehouse_id, None, None, units) for (product_id, warehouse_id), units in held.items())
    return violations


class OrderFactory(factory.django.DjangoModelFactory):
    """An order as checkout leaves it, without items or payments; pass ``status`` to start elsewhere."""

    class Meta:
        model = "orders.Order"

    number = factory.Sequence(lambda n: f"100-{n:07d}-0000001")
    user = factory.SubFactory(UserFactory)
    checkout_key = factory.Faker("uuid4", cast_to=None)
    shipping_address = factory.LazyFunction(
        lambda: {"full_name": "Ada Lovelace", "line1": "1 Analytical Way", "line2": "", "city": "London",
                 "postal_code": "N1 9GU", "country": "GB", "phone": ""}
    )
    subtotal = Decimal("19.99")
    shipping = Decimal("4.99")
    tax = Decimal("0.00")
    total = Decimal("24.98")


class OrderItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.OrderItem"

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    title = factory.LazyAttribute(lambda item: item.product.title)
    unit_price = Decimal("19.99")
    quantity = 1
    line_total = Decimal("19.99")


def order_of(user, *products, status="delivered"):
    """An order of ``user`` holding ``products``, already in ``status`` (written directly, not through checkout)."""
    order = OrderFactory(user=user, status=status)
    for product in products:
        OrderItemFactory(order=order, product=product)
    return order


def order_with_item(status="pending", **fields):
    """An order of one item already in ``status``, written directly: as one paid before its parcels were recorded."""
    order = OrderFactory(status=status, **fields)
    OrderItemFactory(order=order)
    return order
