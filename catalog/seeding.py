"""A realistic synthetic catalog, deterministic for a given seed.

Used by ``manage.py seed_catalog`` for the demo store and the benchmarks. The
departments below give every product a title, attributes and price range that
fit its category; brands, sellers and stock are spread the way a marketplace
looks: a long tail of brands, log-normal prices, some products sold out.
"""
import math
import random
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from .models import AttributeFacet, Brand, Category, Inventory, Product, Seller, Warehouse, product_slug
from .ratings import average_of, star_counts, star_field
from .search.suggestions import refresh_search_terms
from .search.typeahead import refresh_typeahead
from .selectors import forget_category_tree

# department -> (median price in USD, {subcategory: [nouns]}, {attribute: [values]})
DEPARTMENTS = {
    "Electronics": (
        60,
        {
            "Headphones": ["Wireless Earbuds", "Over-Ear Headphones", "Noise Cancelling Headphones", "Sports Earphones"],
            "Cables & Chargers": ["USB-C Cable", "Lightning Cable", "Fast Charger", "Charging Cable", "HDMI Cable"],
            "Cameras": ["Action Camera", "Mirrorless Camera", "Security Camera", "Webcam"],
            "Smart Home": ["Smart Plug", "Smart Bulb", "Video Doorbell", "Smart Speaker"],
            "Computer Accessories": ["Wireless Mouse", "Mechanical Keyboard", "USB Hub", "Laptop Stand", "Monitor Arm"],
            "Portable Audio": ["Bluetooth Speaker", "Portable Radio", "Soundbar"],
        },
        {"color": ["Black", "White", "Silver", "Blue", "Graphite"], "connectivity": ["Bluetooth 5.3", "USB-C", "Wi-Fi", "Wired"], "warranty": ["1 year", "2 years"]},
    ),
    "Home & Kitchen": (
        35,
        {
            "Cookware": ["Non-Stick Frying Pan", "Cast Iron Skillet", "Stock Pot", "Saucepan Set", "Dutch Oven"],
            "Small Appliances": ["Air Fryer", "Electric Kettle", "Blender", "Coffee Maker", "Toaster"],
            "Bedding": ["Cotton Sheet Set", "Duvet Cover", "Memory Foam Pillow", "Weighted Blanket"],
            "Storage": ["Food Storage Containers", "Closet Organizer", "Storage Bins", "Spice Rack"],
            "Home Decor": ["Table Lamp", "Wall Clock", "Throw Pillow", "Picture Frame Set"],
        },
        {"material": ["Stainless Steel", "Cotton", "Ceramic", "Bamboo", "Aluminum"], "color": ["Gray", "White", "Black", "Sage", "Navy"], "care": ["Dishwasher safe", "Machine washable", "Hand wash"]},
    ),
    "Books": (
        14,
        {
            "Fiction": ["Novel", "Thriller", "Mystery Novel", "Short Story Collection"],
            "Science Fiction & Fantasy": ["Space Opera", "Epic Fantasy", "Dystopian Novel"],
            "Cookbooks": ["Cookbook", "Baking Book", "Vegetarian Cookbook"],
            "Business": ["Leadership Guide", "Startup Handbook", "Investing Guide"],
            "Children's Books": ["Picture Book", "Early Reader", "Bedtime Stories"],
        },
        {"format": ["Paperback", "Hardcover", "Kindle Edition"], "language": ["English"], "pages": ["180", "240", "320", "416", "528"]},
    ),
    "Clothing": (
        28,
        {
            "Men's Clothing": ["T-Shirt", "Hoodie", "Chino Pants", "Rain Jacket", "Polo Shirt"],
            "Women's Clothing": ["Summer Dress", "Cardigan", "Leggings", "Denim Jacket", "Blouse"],
            "Shoes": ["Running Shoes", "Leather Boots", "Sneakers", "Sandals"],
            "Accessories": ["Leather Belt", "Wool Scarf", "Baseball Cap", "Sunglasses"],
        },
        {"size": ["XS", "S", "M", "L", "XL", "XXL"], "color": ["Black", "Navy", "Olive", "Heather Gray", "Burgundy"], "material": ["100% Cotton", "Polyester Blend", "Merino Wool", "Leather"]},
    ),
    "Sports & Outdoors": (
        40,
        {
            "Camping": ["Camping Tent", "Sleeping Bag", "Camping Stove", "Headlamp"],
            "Fitness": ["Yoga Mat", "Adjustable Dumbbells", "Resistance Bands", "Jump Rope"],
            "Cycling": ["Bike Helmet", "Bike Light Set", "Cycling Gloves", "Bike Lock"],
            "Water Sports": ["Swim Goggles", "Dry Bag", "Snorkel Set"],
        },
        {"color": ["Red", "Black", "Orange", "Green", "Blue"], "weight": ["250 g", "500 g", "1.2 kg", "2.5 kg"], "material": ["Nylon", "Neoprene", "Aluminum", "TPE"]},
    ),
    "Toys & Games": (
        25,
        {
            "Building Toys": ["Building Blocks Set", "Magnetic Tiles", "Construction Kit"],
            "Board Games": ["Strategy Board Game", "Family Card Game", "Party Game", "Puzzle 1000 Pieces"],
            "Dolls & Figures": ["Action Figure", "Fashion Doll", "Plush Toy"],
            "Outdoor Play": ["Water Blaster", "Kick Scooter", "Kite"],
        },
        {"age": ["3+", "6+", "8+", "12+", "14+"], "players": ["1", "2-4", "2-6", "3-8"], "material": ["Plastic", "Wood", "Cardboard"]},
    ),
    "Beauty & Personal Care": (
        18,
        {
            "Skin Care": ["Face Moisturizer", "Vitamin C Serum", "Sunscreen SPF 50", "Cleansing Gel"],
            "Hair Care": ["Shampoo", "Conditioner", "Hair Dryer", "Hair Straightener"],
            "Oral Care": ["Electric Toothbrush", "Water Flosser", "Whitening Toothpaste"],
            "Fragrance": ["Eau de Parfum", "Body Mist", "Cologne"],
        },
        {"volume": ["50 ml", "100 ml", "250 ml", "500 ml"], "skin type": ["All", "Dry", "Oily", "Sensitive"], "scent": ["Unscented", "Citrus", "Lavender", "Fresh"]},
    ),
    "Grocery": (
        9,
        {
            "Coffee & Tea": ["Whole Bean Coffee", "Ground Coffee", "Green Tea", "Coffee Pods"],
            "Snacks": ["Trail Mix", "Protein Bars", "Dark Chocolate", "Potato Chips"],
            "Pantry": ["Extra Virgin Olive Oil", "Pasta", "Basmati Rice", "Peanut Butter"],
        },
        {"weight": ["250 g", "340 g", "500 g", "1 kg"], "diet": ["Vegan", "Gluten-free", "Organic", "Regular"], "pack": ["1", "3", "6", "12"]},
    ),
    "Office Products": (
        20,
        {
            "Writing": ["Gel Pens", "Fountain Pen", "Highlighters", "Mechanical Pencils"],
            "Paper": ["Notebook", "Sticky Notes", "Printer Paper", "Planner"],
            "Office Furniture": ["Office Chair", "Standing Desk", "Desk Organizer"],
        },
        {"color": ["Black", "Blue", "Assorted", "White"], "pack": ["1", "5", "12", "24"], "size": ["A4", "A5", "Letter", "Pocket"]},
    ),
}
ADJECTIVES = [
    "Premium", "Compact", "Classic", "Ultra", "Pro", "Essential", "Deluxe", "Eco", "Heavy-Duty",
    "Lightweight", "Portable", "Smart", "Everyday", "Travel", "Ergonomic", "Vintage", "Modern",
]
SYLLABLES = ["ka", "zen", "tro", "vi", "lux", "nor", "ba", "mi", "qu", "ra", "sol", "tek", "vo", "an", "el", "or", "pix", "lo", "dex", "ma"]
WAREHOUSES = [("EWR1", "Newark, NJ"), ("DFW7", "Dallas, TX"), ("SEA3", "Seattle, WA")]
BRAND_COUNT = 500
BULK_LOAD_THRESHOLD = 100_000  # from this many products on, indexes are rebuilt rather than maintained
SELLER_COUNT = 200
DESCRIPTION_SENTENCES = [
    "Designed for {use} with a {adjective_lower} build that lasts.",
    "This {noun_lower} from {brand} combines reliable quality with great value.",
    "Customers choose it for {use} because it is easy to set up and easy to clean.",
    "Backed by {brand} customer support and a hassle-free return policy.",
    "Made with {material} for everyday comfort and durability.",
    "A thoughtful gift and a favourite for {use}.",
]
# Attributes whose values have a natural order, shown in it rather than by count.
ORDERED_ATTRIBUTES = {"size", "age", "players", "pages", "volume", "weight", "pack"}
USES = ["home", "the office", "travel", "outdoor adventures", "daily use", "families", "professionals", "students"]


@dataclass(frozen=True)
class Reference:
    """The small tables every generated product points into."""

    leaves: list
    brands_by_department: dict
    seller_ids: list
    warehouse_ids: list
    now: datetime


@dataclass(frozen=True)
class Leaf:
    category_id: int
    department: str
    nouns: list
    attributes: dict
    median_price: float


def seed_catalog(products: int, *, seed: int = 1, batch_size: int = 2000, progress=None) -> int:
    """Add ``products`` products (and their stock); returns how many were added."""
    rng = random.Random(seed)
    if connection.vendor == "postgresql":
        # Index builds, bulk inserts and VACUUM over a million rows outlast the
        # request-sized DB_STATEMENT_TIMEOUT_MS, and some cannot run in a
        # transaction (SET LOCAL): lift it for the seeding command's session.
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")
    reference = _seed_reference_data(rng)
    with _secondary_indexes_deferred(enabled=products >= BULK_LOAD_THRESHOLD):
        created = _load(rng, reference, products, batch_size, progress)
    forget_category_tree()
    refresh_search_terms()
    refresh_typeahead()
    if connection.vendor == "postgresql":
        # Fresh statistics for the planner, and a visibility map so that
        # browse queries can be answered from the indexes alone (VACUUM cannot
        # run inside a transaction, e.g. in a test).
        vacuum = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            cursor.execute(f"{vacuum} catalog_product, catalog_product_search, catalog_inventory")
    return created


def _load(rng, reference, products, batch_size, progress):
    created = 0
    while created < products:
        size = min(batch_size, products - created)
        stock = [_stock(rng, reference.warehouse_ids) for _ in range(size)]
        batch = [_product(rng, reference, in_stock=any(units for _, units in rows)) for rows in stock]
        with transaction.atomic():
            Product.objects.bulk_create(batch)
            Inventory.objects.bulk_create(
                Inventory(product_id=product.pk, warehouse_id=warehouse_id, quantity=units)
                for product, rows in zip(batch, stock)
                for warehouse_id, units in rows
            )
        created += size
        if progress:
            progress(size)
    return created


@contextmanager
def _secondary_indexes_deferred(*, enabled):
    """Drop the secondary indexes of products and their search projection for a
    bulk load, and build them again after.

    Building an index once over a million rows costs far less than keeping it
    current row by row (the full-text GIN index most of all). Indexes that
    back a primary key or unique constraint stay.
    """
    if not enabled or connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            "WHERE i.tablename IN ('catalog_product', 'catalog_product_search') "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
            for _, definition in indexes:
                cursor.execute(definition)


def _seed_reference_data(rng):
    """Categories, brands, sellers and warehouses: created once, reused after."""
    leaves, brands_by_department = [], {}
    brand_names = _brand_names(rng)
    per_department = BRAND_COUNT // len(DEPARTMENTS)
    for position, (department, (median_price, subcategories, attributes)) in enumerate(DEPARTMENTS.items()):
        root, _ = Category.objects.get_or_create(
            slug=slugify(department), defaults={"name": department, "position": position}
        )
        # Each department's attributes are its facets, inherited by its subcategories.
        for facet_position, (key, values) in enumerate(attributes.items()):
            AttributeFacet.objects.get_or_create(
                category=root,
                key=key,
                defaults={
                    "label": key.capitalize(),
                    "position": facet_position,
                    "value_order": "\n".join(values) if key in ORDERED_ATTRIBUTES else "",
                },
            )
        for sub_position, (name, nouns) in enumerate(subcategories.items()):
            leaf, _ = Category.objects.get_or_create(
                slug=slugify(name), defaults={"name": name, "parent": root, "position": sub_position}
            )
            leaves.append(Leaf(leaf.pk, department, nouns, attributes, median_price))
        names = brand_names[position * per_department : (position + 1) * per_department]
        brands_by_department[department] = [
            Brand.objects.get_or_create(slug=slugify(name), defaults={"name": name})[0] for name in names
        ]
    seller_ids = [
        Seller.objects.get_or_create(slug=f"seller-{i}", defaults={"name": f"{_word(rng)} Trading {i}"})[0].pk
        for i in range(1, SELLER_COUNT + 1)
    ]
    warehouse_ids = [
        Warehouse.objects.get_or_create(code=code, defaults={"name": name})[0].pk for code, name in WAREHOUSES
    ]
    return Reference(leaves, brands_by_department, seller_ids, warehouse_ids, timezone.now())


def _word(rng, syllables=(2, 3)):
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(*syllables))).capitalize()


def _brand_names(rng):
    names = set()
    while len(names) < BRAND_COUNT:
        names.add(_word(rng) + rng.choice(["", "", " Labs", " Co", " Home", " Pro", "ify"]))
    return sorted(names)


def _product(rng, reference, *, in_stock):
    leaf = rng.choice(reference.leaves)
    # A long tail: a few brands per department sell most of its products.
    brands = reference.brands_by_department[leaf.department]
    brand = brands[min(int(rng.paretovariate(1.2)) - 1, len(brands) - 1)]
    noun = rng.choice(leaf.nouns)
    adjective = rng.choice(ADJECTIVES)
    attributes = {name: rng.choice(values) for name, values in leaf.attributes.items()}
    detail = ", ".join(list(attributes.values())[:2])
    title = f"{brand.name} {adjective} {noun}, {detail}"
    price = Decimal(str(max(0.99, round(math.exp(rng.gauss(math.log(leaf.median_price), 0.7)), 2))))
    review_count = int(rng.lognormvariate(2.5, 1.6)) if rng.random() > 0.1 else 0
    rating = Decimal(str(round(min(5.0, max(1.0, rng.gauss(4.2, 0.5))), 1))) if review_count else Decimal("0")
    # The ratings split by stars around that average; the product's average is the split's own.
    stars = star_counts(review_count, rating)
    rating = average_of(stars)
    values = {
        "brand": brand.name,
        "noun_lower": noun.lower(),
        "adjective_lower": adjective.lower(),
        "use": rng.choice(USES),
        "material": attributes.get("material", "quality materials").lower(),
    }
    description = " ".join(sentence.format(**values) for sentence in rng.sample(DESCRIPTION_SENTENCES, 3))
    return Product(
        seller_id=rng.choice(reference.seller_ids),
        category_id=leaf.category_id,
        brand=brand,
        title=title,
        slug=product_slug(title),
        description=description,
        price=price,
        attributes=attributes,
        rating=rating,
        review_count=review_count,
        **{star_field(level): units for level, units in stars.items()},
        is_active=rng.random() > 0.01,
        # Set here so the stock triggers find nothing to change on a bulk load.
        in_stock=in_stock,
        created_at=reference.now - timedelta(seconds=rng.randint(0, 2 * 365 * 24 * 3600)),
    )


def _stock(rng, warehouse_ids):
    """(warehouse id, units) in one to three warehouses; ~8% sold out, ~7% nearly so."""
    roll = rng.random()
    if roll < 0.08:
        return [(warehouse_ids[0], 0)]
    stocked = rng.sample(warehouse_ids, rng.randint(1, len(warehouse_ids)))
    if roll < 0.15:
        return [(stocked[0], rng.randint(1, 5))]
    return [(warehouse_id, rng.randint(1, 250)) for warehouse_id in stocked]
