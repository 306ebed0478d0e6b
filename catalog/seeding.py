"""A realistic synthetic catalog, deterministic for a given seed.

Used by ``manage.py seed_catalog`` for the demo store and the benchmarks. The
departments below give every product a title, attributes and price range that
fit what it is (no Wi-Fi charging cable, no $17 standing desk, no word said
twice); brands, sellers and stock are spread the way a marketplace looks: a
long tail of brands whose names start with most letters, log-normal prices
within each kind of product's range, some products sold out. Everything is
drawn from one ``random.Random(seed)``, so a seed gives the same catalog.
"""
import math
import random
import re
from bisect import bisect
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from itertools import accumulate

from django.db import connection
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from amazon_site.core.bulk import lift_statement_timeout

from .importing.rows import ProductRow
from .importing.services import import_products
from .models import AttributeFacet, Brand, Category, Product, Seller, Warehouse
from .ratings import average_of, star_counts
from .search.suggestions import refresh_search_terms
from .search.typeahead import refresh_typeahead
from .selectors import forget_category_tree

SHOE_SIZES = ["6", "7", "8", "9", "10", "11", "12"]
DESK_SIZES = ["48 × 24 in", "55 × 28 in", "63 × 30 in"]
NOT_A_LOTION = {"volume": [], "skin type": [], "scent": []}
PERFUME_SCENTS = ["Citrus", "Lavender", "Fresh", "Woody", "Floral"]
# department -> (adjectives that suit it, {subcategory: {noun: price range and attributes}}, {attribute: values}).
# A noun is (lowest price, highest price) in USD, or with {attribute: values} of its own that replace its
# department's (a charging cable is never Wi-Fi); [] where the attribute does not apply to it. The department's
# attributes are its facets.
DEPARTMENTS = {
    "Electronics": (
        ["Premium", "Compact", "Ultra", "Pro", "Essential", "Portable", "Lightweight", "Travel", "Everyday", "Modern"],
        {
            "Headphones": {
                "Wireless Earbuds": (19, 249, {"connectivity": ["Bluetooth 5.3"]}),
                "Over-Ear Headphones": (29, 399, {"connectivity": ["Bluetooth 5.3", "Wired"]}),
                "Noise Cancelling Headphones": (59, 449, {"connectivity": ["Bluetooth 5.3"]}),
                "Sports Earphones": (15, 129, {"connectivity": ["Bluetooth 5.3"]}),
            },
            "Cables & Chargers": {
                "USB-C Cable": (6, 29, {"connectivity": ["USB-C"]}),
                "Lightning Cable": (8, 35, {"connectivity": ["Lightning"]}),
                "Fast Charger": (12, 59, {"connectivity": ["USB-C"]}),
                "Charging Cable": (6, 29, {"connectivity": ["USB-C", "Lightning"]}),
                "HDMI Cable": (7, 39, {"connectivity": ["HDMI 2.1"]}),
            },
            "Cameras": {
                "Action Camera": (59, 449, {"connectivity": ["Wi-Fi", "Bluetooth 5.3"]}),
                "Mirrorless Camera": (449, 2499, {"connectivity": ["Wi-Fi", "USB-C"]}),
                "Security Camera": (25, 199, {"connectivity": ["Wi-Fi"]}),
                "Webcam": (25, 179, {"connectivity": ["USB-C"]}),
            },
            "Smart Home": {
                "Smart Plug": (9, 35, {"connectivity": ["Wi-Fi"]}),
                "Smart Bulb": (8, 49, {"connectivity": ["Wi-Fi", "Bluetooth 5.3"]}),
                "Video Doorbell": (39, 249, {"connectivity": ["Wi-Fi"]}),
                "Smart Speaker": (29, 299, {"connectivity": ["Wi-Fi", "Bluetooth 5.3"]}),
            },
            "Computer Accessories": {
                "Wireless Mouse": (12, 99, {"connectivity": ["Bluetooth 5.3", "2.4 GHz Receiver"]}),
                "Mechanical Keyboard": (39, 229, {"connectivity": ["USB-C", "Bluetooth 5.3", "Wired"]}),
                "USB Hub": (15, 79, {"connectivity": ["USB-C"]}),
                "Laptop Stand": (19, 89, {"connectivity": []}),
                "Monitor Arm": (29, 199, {"connectivity": []}),
            },
            "Portable Audio": {
                "Bluetooth Speaker": (19, 299, {"connectivity": ["Bluetooth 5.3"]}),
                "Portable Radio": (19, 129, {"connectivity": ["Bluetooth 5.3", "Wired"]}),
                "Soundbar": (79, 899, {"connectivity": ["Bluetooth 5.3", "Wi-Fi", "HDMI eARC"]}),
            },
        },
        {
            "color": ["Black", "White", "Silver", "Blue", "Graphite"],
            "connectivity": ["Bluetooth 5.3", "USB-C", "Wi-Fi", "Wired"],
            "warranty": ["1 year", "2 years"],
        },
    ),
    "Home & Kitchen": (
        ["Premium", "Classic", "Essential", "Deluxe", "Eco", "Heavy-Duty", "Modern", "Vintage", "Compact", "Everyday"],
        {
            "Cookware": {
                "Non-Stick Frying Pan": (19, 89, {"material": ["Aluminum", "Stainless Steel"], "care": ["Dishwasher safe", "Hand wash"]}),
                "Cast Iron Skillet": (19, 99, {"material": ["Cast Iron"], "care": ["Hand wash"]}),
                "Stock Pot": (25, 129, {"material": ["Stainless Steel", "Aluminum"], "care": ["Dishwasher safe"]}),
                "Saucepan Set": (39, 249, {"material": ["Stainless Steel", "Aluminum", "Ceramic"], "care": ["Dishwasher safe", "Hand wash"]}),
                "Dutch Oven": (39, 349, {"material": ["Cast Iron", "Ceramic"], "care": ["Hand wash"]}),
            },
            "Small Appliances": {
                "Air Fryer": (49, 229, {"material": ["Stainless Steel", "Plastic"], "care": []}),
                "Electric Kettle": (19, 99, {"material": ["Stainless Steel", "Glass"], "care": []}),
                "Blender": (29, 399, {"material": ["Stainless Steel", "Glass", "Plastic"], "care": ["Dishwasher safe"]}),
                "Coffee Maker": (25, 299, {"material": ["Stainless Steel", "Plastic"], "care": []}),
                "Toaster": (19, 149, {"material": ["Stainless Steel", "Aluminum"], "care": []}),
            },
            "Bedding": {
                "Cotton Sheet Set": (29, 199, {"material": ["Cotton"], "care": ["Machine washable"]}),
                "Duvet Cover": (29, 149, {"material": ["Cotton", "Linen", "Bamboo"], "care": ["Machine washable"]}),
                "Memory Foam Pillow": (19, 89, {"material": ["Bamboo", "Cotton"], "care": ["Machine washable"]}),
                "Weighted Blanket": (39, 199, {"material": ["Cotton", "Bamboo"], "care": ["Machine washable"]}),
            },
            "Storage": {
                "Food Storage Containers": (14, 59, {"material": ["Glass", "Plastic", "Stainless Steel"], "care": ["Dishwasher safe"]}),
                "Closet Organizer": (15, 89, {"material": ["Bamboo", "Fabric"], "care": []}),
                "Storage Bins": (12, 59, {"material": ["Fabric", "Plastic", "Bamboo"], "care": []}),
                "Spice Rack": (15, 69, {"material": ["Bamboo", "Stainless Steel"], "care": []}),
            },
            "Home Decor": {
                "Table Lamp": (19, 149, {"material": ["Ceramic", "Aluminum", "Glass"], "care": []}),
                "Wall Clock": (14, 89, {"material": ["Aluminum", "Bamboo", "Glass"], "care": []}),
                "Throw Pillow": (12, 49, {"material": ["Cotton", "Linen", "Velvet"], "care": ["Machine washable"]}),
                "Picture Frame Set": (15, 79, {"material": ["Aluminum", "Bamboo", "Wood"], "care": []}),
            },
        },
        {
            "material": ["Stainless Steel", "Cotton", "Ceramic", "Bamboo", "Aluminum"],
            "color": ["Gray", "White", "Black", "Sage", "Navy"],
            "care": ["Dishwasher safe", "Machine washable", "Hand wash"],
        },
    ),
    # Books are titled as books ("The Quiet Harbor: A Mystery Novel"), not by their publisher.
    "Books": (
        [],
        {
            "Fiction": {"Novel": (6, 30), "Thriller": (6, 30), "Mystery Novel": (6, 30), "Short Story Collection": (8, 32)},
            "Science Fiction & Fantasy": {"Space Opera": (6, 32), "Epic Fantasy": (8, 35), "Dystopian Novel": (6, 30)},
            "Cookbooks": {"Cookbook": (12, 45), "Baking Book": (12, 40), "Vegetarian Cookbook": (12, 40)},
            "Business": {"Leadership Guide": (10, 35), "Startup Handbook": (10, 35), "Investing Guide": (10, 35)},
            "Children's Books": {
                "Picture Book": (5, 20, {"pages": ["24", "32", "40"]}),
                "Early Reader": (4, 15, {"pages": ["48", "64"]}),
                "Bedtime Stories": (6, 24, {"pages": ["96", "128"]}),
            },
        },
        {
            "format": ["Paperback", "Hardcover", "Kindle Edition"],
            "language": ["English"],
            "pages": ["180", "240", "320", "416", "528"],
        },
    ),
    "Clothing": (
        ["Classic", "Essential", "Lightweight", "Everyday", "Vintage", "Modern", "Premium", "Travel"],
        {
            "Men's Clothing": {
                "T-Shirt": (9, 39, {"material": ["100% Cotton", "Polyester Blend"]}),
                "Hoodie": (25, 89, {"material": ["100% Cotton", "Polyester Blend"]}),
                "Chino Pants": (25, 79, {"material": ["100% Cotton"]}),
                "Rain Jacket": (39, 199, {"material": ["Recycled Polyester"]}),
                "Polo Shirt": (15, 59, {"material": ["100% Cotton", "Polyester Blend"]}),
            },
            "Women's Clothing": {
                "Summer Dress": (19, 89, {"material": ["100% Cotton", "Polyester Blend"]}),
                "Cardigan": (25, 99, {"material": ["Merino Wool", "100% Cotton"]}),
                "Leggings": (15, 69, {"material": ["Polyester Blend"]}),
                "Denim Jacket": (39, 129, {"material": ["100% Cotton"]}),
                "Blouse": (19, 69, {"material": ["100% Cotton", "Polyester Blend"]}),
            },
            "Shoes": {
                "Running Shoes": (49, 179, {"size": SHOE_SIZES, "material": ["Mesh", "Synthetic"]}),
                "Leather Boots": (79, 249, {"size": SHOE_SIZES, "material": ["Leather"]}),
                "Sneakers": (39, 149, {"size": SHOE_SIZES, "material": ["Leather", "Canvas"]}),
                "Sandals": (19, 89, {"size": SHOE_SIZES, "material": ["Leather", "Synthetic"]}),
            },
            "Accessories": {
                "Leather Belt": (15, 69, {"material": ["Leather"]}),
                "Wool Scarf": (15, 79, {"size": [], "material": ["Merino Wool"]}),
                "Baseball Cap": (12, 39, {"size": [], "material": ["100% Cotton", "Polyester Blend"]}),
                "Sunglasses": (15, 199, {"size": [], "material": ["Polycarbonate", "Metal"]}),
            },
        },
        {
            "color": ["Black", "Navy", "Olive", "Heather Gray", "Burgundy"],
            "size": ["XS", "S", "M", "L", "XL", "XXL"],
            "material": ["100% Cotton", "Polyester Blend", "Merino Wool", "Leather"],
        },
    ),
    "Sports & Outdoors": (
        ["Lightweight", "Portable", "Heavy-Duty", "Compact", "Pro", "Essential", "Travel", "Ultra"],
        {
            "Camping": {
                "Camping Tent": (59, 499, {"weight": ["1.8 kg", "2.5 kg", "3.6 kg"], "material": ["Nylon", "Polyester"]}),
                "Sleeping Bag": (29, 249, {"weight": ["900 g", "1.2 kg", "1.8 kg"], "material": ["Nylon", "Polyester"]}),
                "Camping Stove": (25, 149, {"weight": ["250 g", "500 g", "1.2 kg"], "material": ["Aluminum", "Stainless Steel"]}),
                "Headlamp": (12, 69, {"weight": ["85 g", "120 g"], "material": ["Aluminum", "Plastic"]}),
            },
            "Fitness": {
                "Yoga Mat": (15, 99, {"weight": ["1.2 kg", "2.5 kg"], "material": ["TPE", "Natural Rubber"]}),
                "Adjustable Dumbbells": (79, 449, {"weight": ["24 kg", "40 kg"], "material": ["Steel"]}),
                "Resistance Bands": (9, 39, {"weight": [], "material": ["Latex", "TPE"]}),
                "Jump Rope": (8, 35, {"weight": ["250 g"], "material": ["Nylon", "Aluminum"]}),
            },
            "Cycling": {
                "Bike Helmet": (29, 199, {"weight": ["250 g", "350 g"], "material": ["EPS Foam"]}),
                "Bike Light Set": (15, 79, {"weight": [], "material": ["Aluminum"]}),
                "Cycling Gloves": (12, 49, {"weight": [], "material": ["Neoprene", "Synthetic Leather"]}),
                "Bike Lock": (15, 99, {"weight": ["500 g", "1.2 kg", "2.5 kg"], "material": ["Hardened Steel"]}),
            },
            "Water Sports": {
                "Swim Goggles": (9, 45, {"weight": [], "material": ["Silicone"]}),
                "Dry Bag": (12, 59, {"weight": [], "material": ["Nylon", "PVC"]}),
                "Snorkel Set": (19, 99, {"weight": [], "material": ["Silicone"]}),
            },
        },
        {
            "color": ["Red", "Black", "Orange", "Green", "Blue"],
            "weight": ["85 g", "120 g", "250 g", "350 g", "500 g", "900 g", "1.2 kg", "1.8 kg", "2.5 kg", "3.6 kg", "24 kg", "40 kg"],
            "material": ["Nylon", "Neoprene", "Aluminum", "TPE"],
        },
    ),
    "Toys & Games": (
        ["Classic", "Deluxe", "Eco", "Modern", "Compact", "Travel"],
        {
            "Building Toys": {
                "Building Blocks Set": (15, 149, {"players": [], "material": ["Plastic", "Wood"]}),
                "Magnetic Tiles": (25, 99, {"players": [], "material": ["Plastic"]}),
                "Construction Kit": (19, 129, {"players": [], "material": ["Plastic", "Metal", "Wood"]}),
            },
            "Board Games": {
                "Strategy Board Game": (25, 79, {"age": ["8+", "12+", "14+"], "material": ["Cardboard"]}),
                "Family Card Game": (8, 29, {"age": ["6+", "8+"], "material": ["Cardboard"]}),
                "Party Game": (15, 39, {"age": ["12+", "14+"], "players": ["3-8", "2-6"], "material": ["Cardboard"]}),
                "Puzzle 1000 Pieces": (12, 35, {"age": ["12+", "14+"], "players": [], "material": ["Cardboard"]}),
            },
            "Dolls & Figures": {
                "Action Figure": (9, 49, {"players": [], "material": ["Plastic"]}),
                "Fashion Doll": (12, 59, {"players": [], "material": ["Plastic"]}),
                "Plush Toy": (9, 39, {"age": ["3+", "6+"], "players": [], "material": ["Polyester"]}),
            },
            "Outdoor Play": {
                "Water Blaster": (9, 39, {"players": [], "material": ["Plastic"]}),
                "Kick Scooter": (29, 149, {"age": ["6+", "8+"], "players": [], "material": ["Aluminum"]}),
                "Kite": (12, 49, {"players": [], "material": ["Nylon"]}),
            },
        },
        {"age": ["3+", "6+", "8+", "12+", "14+"], "players": ["1", "2-4", "2-6", "3-8"], "material": ["Plastic", "Wood", "Cardboard"]},
    ),
    "Beauty & Personal Care": (
        ["Premium", "Essential", "Eco", "Everyday", "Travel", "Deluxe", "Pro"],
        {
            "Skin Care": {
                "Face Moisturizer": (9, 69, {"volume": ["50 ml", "100 ml"]}),
                "Vitamin C Serum": (12, 79, {"volume": ["30 ml", "50 ml"]}),
                "Sunscreen SPF 50": (8, 39, {"volume": ["50 ml", "100 ml", "250 ml"]}),
                "Cleansing Gel": (7, 35, {"volume": ["100 ml", "250 ml", "500 ml"]}),
            },
            "Hair Care": {
                "Shampoo": (6, 35, {"volume": ["250 ml", "500 ml"], "skin type": []}),
                "Conditioner": (6, 35, {"volume": ["250 ml", "500 ml"], "skin type": []}),
                "Hair Dryer": (25, 299, NOT_A_LOTION),
                "Hair Straightener": (25, 199, NOT_A_LOTION),
            },
            "Oral Care": {
                "Electric Toothbrush": (25, 199, NOT_A_LOTION),
                "Water Flosser": (29, 99, NOT_A_LOTION),
                "Whitening Toothpaste": (3, 15, {"volume": ["75 ml", "100 ml"], "skin type": [], "scent": ["Mint", "Fresh"]}),
            },
            "Fragrance": {
                "Eau de Parfum": (29, 199, {"volume": ["30 ml", "50 ml", "100 ml"], "skin type": [], "scent": PERFUME_SCENTS}),
                "Body Mist": (9, 39, {"volume": ["100 ml", "250 ml"], "skin type": [], "scent": PERFUME_SCENTS}),
                "Cologne": (25, 149, {"volume": ["50 ml", "100 ml"], "skin type": [], "scent": PERFUME_SCENTS}),
            },
        },
        {
            "volume": ["30 ml", "50 ml", "75 ml", "100 ml", "250 ml", "500 ml"],
            "skin type": ["All", "Dry", "Oily", "Sensitive"],
            "scent": ["Unscented", "Citrus", "Lavender", "Fresh"],
        },
    ),
    "Grocery": (
        ["Premium", "Classic", "Everyday"],
        {
            "Coffee & Tea": {
                "Whole Bean Coffee": (8, 29, {"weight": ["340 g", "500 g", "1 kg"], "pack": ["1", "2"]}),
                "Ground Coffee": (6, 24, {"weight": ["340 g", "500 g"], "pack": ["1", "2"]}),
                "Green Tea": (4, 19, {"weight": ["50 g", "100 g"], "pack": ["1", "3"]}),
                "Coffee Pods": (8, 39, {"weight": [], "pack": ["24", "48", "96"]}),
            },
            "Snacks": {
                "Trail Mix": (4, 19, {"weight": ["250 g", "500 g", "1 kg"], "pack": ["1", "3", "6"]}),
                "Protein Bars": (9, 35, {"weight": [], "pack": ["6", "12", "24"]}),
                "Dark Chocolate": (2, 24, {"weight": ["100 g"], "pack": ["1", "3", "6", "12"]}),
                "Potato Chips": (2, 15, {"weight": ["150 g", "250 g"], "pack": ["1", "6", "12"]}),
            },
            "Pantry": {
                "Extra Virgin Olive Oil": (7, 35, {"weight": ["500 ml", "750 ml", "1 l"], "pack": ["1", "2"]}),
                "Pasta": (1, 12, {"weight": ["500 g", "1 kg"], "pack": ["1", "3", "6"]}),
                "Basmati Rice": (3, 25, {"weight": ["1 kg", "2 kg", "5 kg"], "pack": ["1"]}),
                "Peanut Butter": (3, 15, {"weight": ["340 g", "500 g", "1 kg"], "pack": ["1", "2"]}),
            },
        },
        {
            "weight": ["50 g", "100 g", "150 g", "250 g", "340 g", "500 g", "1 kg", "2 kg", "5 kg", "500 ml", "750 ml", "1 l"],
            "diet": ["Vegan", "Gluten-free", "Organic", "Regular"],
            "pack": ["1", "2", "3", "6", "12", "24", "48", "96"],
        },
    ),
    "Office Products": (
        ["Premium", "Classic", "Essential", "Compact", "Modern", "Everyday"],
        {
            "Writing": {
                "Gel Pens": (5, 25, {"pack": ["5", "12", "24"], "size": []}),
                "Fountain Pen": (12, 149, {"pack": ["1"], "size": []}),
                "Highlighters": (4, 19, {"color": ["Assorted"], "pack": ["5", "12", "24"], "size": []}),
                "Mechanical Pencils": (4, 19, {"pack": ["5", "12", "24"], "size": []}),
            },
            "Paper": {
                "Notebook": (4, 29, {"pack": ["1", "5"], "size": ["A4", "A5", "Letter", "Pocket"]}),
                "Sticky Notes": (4, 24, {"pack": ["5", "12", "24"], "size": []}),
                "Printer Paper": (8, 49, {"color": ["White"], "pack": ["1", "5"], "size": ["A4", "Letter"]}),
                "Planner": (9, 39, {"pack": ["1"], "size": ["A5", "Letter", "Pocket"]}),
            },
            "Office Furniture": {
                "Office Chair": (79, 699, {"color": ["Black", "Gray", "White"], "pack": ["1"], "size": []}),
                "Standing Desk": (199, 899, {"color": ["Black", "White", "Oak"], "pack": ["1"], "size": DESK_SIZES}),
                "Desk Organizer": (12, 59, {"pack": ["1"], "size": []}),
            },
        },
        {
            "color": ["Black", "Blue", "Assorted", "White"],
            "pack": ["1", "5", "12", "24"],
            "size": ["A4", "A5", "Letter", "Pocket", *DESK_SIZES],
        },
    ),
}
# Adjectives are drawn from these (the search benchmarks' vocabulary too), per department or, for a few nouns, their own.
ADJECTIVES = [
    "Premium", "Compact", "Classic", "Ultra", "Pro", "Essential", "Deluxe", "Eco", "Heavy-Duty",
    "Lightweight", "Portable", "Everyday", "Travel", "Ergonomic", "Vintage", "Modern",
]
NOUN_ADJECTIVES = {
    "Wireless Mouse": ["Ergonomic", "Compact", "Pro", "Travel"],
    "Mechanical Keyboard": ["Ergonomic", "Compact", "Pro", "Premium"],
    "Laptop Stand": ["Ergonomic", "Portable", "Compact"],
    "Office Chair": ["Ergonomic", "Premium", "Modern", "Heavy-Duty"],
    "Standing Desk": ["Ergonomic", "Modern", "Heavy-Duty", "Compact"],
    "Smart Speaker": ["Compact", "Premium", "Portable"],
}
# How an attribute's value reads in a title; attributes absent here stay out of titles (a warranty, the care).
TITLE_FORMATS = {
    "color": "{}", "connectivity": "{}", "material": "{}", "size": "Size {}", "format": "{}", "pages": "{} Pages",
    "weight": "{}", "age": "Ages {}", "players": "{} Players", "volume": "{}", "skin type": "for {} Skin",
    "scent": "{}", "diet": "{}", "pack": "Pack of {}",
}
# A department's own ways: an office product's "size" is a paper format or a desk's top, not a clothing size.
DEPARTMENT_TITLE_FORMATS = {"Office Products": {"size": "{}"}}
# Values that go without saying in a title.
UNSAID = {("pack", "1"), ("diet", "Regular"), ("skin type", "All"), ("scent", "Unscented"), ("players", "1")}
DETAILS_IN_TITLE = 2
# Cents of a shelf price, picked by the drawn price's own digits (no draw of their own): mostly .99.
PRICE_ENDINGS = ["99", "99", "99", "95", "49", "00"]
PRICE_ENDINGS_HIGH = ["99", "99", "00"]
ADJECTIVE_SHARE = 0.6  # of titles with an adjective: "Kazen Wireless Mouse" reads as well as "Kazen Pro Wireless Mouse"
# Brand names end like their trade's ("Velora Press", "Kazen Audio"), or in nothing.
BRAND_ENDINGS = {
    "Electronics": ["", "", "", " Labs", " Tech", " Digital"],
    "Home & Kitchen": ["", "", " Home", " Living", " Kitchen"],
    "Books": [" Press", " Books", " Publishing", " House"],
    "Clothing": ["", "", " Apparel", " Co"],
    "Sports & Outdoors": ["", "", " Outdoors", " Athletics", " Sport"],
    "Toys & Games": ["", "", " Toys", " Play"],
    "Beauty & Personal Care": ["", "", " Beauty", " Naturals"],
    "Grocery": ["", " Foods", " Farms", " Pantry"],
    "Office Products": ["", "", " Supply", " Works"],
}
BOOK_TITLE_WORDS = (
    ["Silent", "Last", "Hidden", "Winter", "Northern", "Lost", "Golden", "Quiet", "Midnight", "Distant", "Burning",
     "Paper", "Salt", "Iron", "Summer", "Wild", "Secret", "Little", "Glass", "Long"],
    ["Harbor", "Garden", "Kingdom", "River", "Letters", "Orchard", "Signal", "Island", "Compass", "Lantern", "Table",
     "Mountain", "Road", "House", "Season", "Hours", "Forest", "Kitchen", "Ledger", "Sky"],
)
# Brand names are made of these; the first syllables start with most letters of the alphabet.
SYLLABLES = [
    "ka", "zen", "tro", "vi", "lux", "nor", "ba", "mi", "qu", "ra", "sol", "tek", "vo", "an", "el", "or", "pix", "lo",
    "dex", "ma", "fe", "gra", "hol", "ju", "wen", "yo", "cas", "fin", "gal", "hu", "ist", "jo", "ul", "ve", "wi",
    "bri", "cor", "del", "fa", "pen", "sa", "te", "ne", "ri", "ta",
]
WAREHOUSES = [("EWR1", "Newark, NJ"), ("DFW7", "Dallas, TX"), ("SEA3", "Seattle, WA")]
BRAND_COUNT = 500
# The k-th brand of a department sells in proportion to 1/k^0.8: its best seller about 15% of it, its top five 40%.
BRAND_ZIPF = 0.8
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
    brands_by_department: dict  # each department's brands, the most popular first
    seller_names: list
    warehouse_codes: list
    now: datetime
    # Cumulative Zipf weights over a department's brands: a few sell most, then a long tail.
    brand_weights: list


@dataclass(frozen=True)
class Noun:
    """What a product named by one noun may be, worked out once: its price range, adjectives and attributes."""

    name: str
    words: frozenset
    adjectives: tuple
    attributes: tuple  # (key, values) of the attributes that apply to it
    low: int
    high: int
    # Log-normal prices around the range's geometric middle, the range four deviations wide.
    mu: float
    sigma: float


@dataclass(frozen=True)
class Leaf:
    path: tuple  # (department, subcategory): how a feed names the category
    department: str
    nouns: list  # of Noun


def seed_catalog(products: int, *, seed: int = 1, batch_size: int = 10_000, progress=None) -> int:
    """Add ``products`` products (and their stock) through the catalog import; returns how many were added.

    Each gets the SKU ``SEED<seed>-<number>``, numbered on from the seed's
    last one, so seeding again adds products instead of updating them.
    """
    rng = random.Random(seed)
    if connection.vendor == "postgresql":
        # The word list and type-ahead rebuilds and VACUUM over a million rows
        # outlast the request-sized DB_STATEMENT_TIMEOUT_MS: lifted for this command's session.
        with connection.cursor() as cursor:
            lift_statement_timeout(cursor)
    reference = _seed_reference_data(rng)
    prefix = f"SEED{seed}-"
    last = Product.objects.filter(sku__startswith=prefix).aggregate(last=Max("sku"))["last"]
    first = int(last.removeprefix(prefix)) + 1 if last else 1
    rows = (_product(rng, reference, f"{prefix}{number:09d}", number - first + 1) for number in range(first, first + products))
    report = import_products(rows, batch_size=batch_size, progress=progress)
    forget_category_tree()
    refresh_search_terms()
    refresh_typeahead()
    return report.created


def _seed_reference_data(rng):
    """Categories, brands, sellers and warehouses: created once, reused after."""
    leaves, brands_by_department = [], {}
    brand_names = _brand_names(rng)
    for position, (department, (_, subcategories, _)) in enumerate(DEPARTMENTS.items()):
        root, _ = Category.objects.get_or_create(
            slug=slugify(department), defaults={"name": department, "position": position}
        )
        # Each department's attributes are its facets, inherited by its subcategories.
        for facet_position, (key, values) in enumerate(_facet_values(department).items()):
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
            leaves.append(Leaf((department, name), department, _nouns(department, nouns)))
        brands_by_department[department] = [
            Brand.objects.get_or_create(slug=slugify(name), defaults={"name": name})[0] for name in brand_names[department]
        ]
    seller_names = [
        Seller.objects.get_or_create(slug=f"seller-{i}", defaults={"name": f"{_word(rng)} Trading {i}"})[0].name
        for i in range(1, SELLER_COUNT + 1)
    ]
    warehouse_codes = [
        Warehouse.objects.get_or_create(code=code, defaults={"name": name})[0].code for code, name in WAREHOUSES
    ]
    brand_weights = list(accumulate(rank**-BRAND_ZIPF for rank in range(1, BRAND_COUNT // len(DEPARTMENTS) + 1)))
    return Reference(leaves, brands_by_department, seller_names, warehouse_codes, timezone.now(), brand_weights)


def _facet_values(department) -> dict:
    """The department's attributes and every value its products may have: its own, then its nouns' extras."""
    _, subcategories, attributes = DEPARTMENTS[department]
    values = {key: list(own) for key, own in attributes.items()}
    for nouns in subcategories.values():
        for _, _, *own in nouns.values():
            for key, extra in (own[0] if own else {}).items():
                values[key] += [value for value in extra if value not in values[key]]
    for key, listed in values.items():
        if key in ORDERED_ATTRIBUTES and all(value.isdigit() for value in listed):
            listed.sort(key=int)  # a children's book's 32 pages come before a novel's 180
    return values


def _nouns(department, nouns) -> list:
    adjectives, _, attributes = DEPARTMENTS[department]
    built = []
    for name, (low, high, *own) in nouns.items():
        words = _words(name)
        values = {**attributes, **(own[0] if own else {})}
        built.append(
            Noun(
                name=name,
                words=words,
                # Never "Smart Smart Plug": an adjective the noun already says is left out.
                adjectives=tuple(adjective for adjective in NOUN_ADJECTIVES.get(name, adjectives) if not _words(adjective) & words),
                attributes=tuple((key, tuple(choices)) for key, choices in values.items() if choices),
                low=low,
                high=high,
                mu=math.log(math.sqrt(low * high)),
                sigma=math.log(high / low) / 4,
            )
        )
    return built


@lru_cache(maxsize=None)
def _words(text) -> frozenset:
    return frozenset(_WORD.findall(text.lower()))


_WORD = re.compile(r"[a-z0-9]+")


def _word(rng, syllables=(2, 3)):
    # No syllable twice: "Zenzen" reads as a typo.
    return "".join(rng.sample(SYLLABLES, rng.randint(*syllables))).capitalize()


def _brand_names(rng) -> dict:
    """Each department's brand names, in the order they are drawn: popularity, not the alphabet, ranks them."""
    per_department = BRAND_COUNT // len(DEPARTMENTS)
    slugs, names = set(), {}
    for department in DEPARTMENTS:
        names[department] = []
        while len(names[department]) < per_department:
            name = _word(rng) + rng.choice(BRAND_ENDINGS[department])
            if slugify(name) not in slugs:
                slugs.add(slugify(name))
                names[department].append(name)
    return names


@lru_cache(maxsize=None)
def _title_detail(department, key, value):
    """An attribute's value as a title says it ("Pack of 12"), and its words; None when a title leaves it out."""
    form = DEPARTMENT_TITLE_FORMATS.get(department, {}).get(key) or TITLE_FORMATS.get(key)
    if form is None or (key, value) in UNSAID:
        return None
    text = form.format(value)
    return text, _words(text)


def _title(rng, leaf, noun, brand, attributes) -> str:
    """"Kazen Pro Wireless Mouse, Graphite, Bluetooth 5.3", or for a book "The Quiet Harbor: A Mystery Novel, Paperback".

    No word twice: details the head already says (a cast iron skillet's "Cast Iron") are left out.
    """
    if leaf.department == "Books":
        first, second = rng.choice(BOOK_TITLE_WORDS[0]), rng.choice(BOOK_TITLE_WORDS[1])
        head = f"The {first} {second}: {_article(noun.name)}{noun.name}"
        taken = _words(first) | _words(second) | noun.words
    else:
        brand_words = _words(brand.name)
        adjective = rng.choice(noun.adjectives) if noun.adjectives and rng.random() < ADJECTIVE_SHARE else ""
        if adjective and _words(adjective) & brand_words:
            adjective = ""
        head = f"{brand.name} {adjective} {noun.name}" if adjective else f"{brand.name} {noun.name}"
        taken = brand_words | _words(adjective) | noun.words
    details = []
    for key, value in attributes.items():
        detail = _title_detail(leaf.department, key, value)
        if detail is None or detail[1] & taken:
            continue
        details.append(detail[0])
        taken = taken | detail[1]
        if len(details) == DETAILS_IN_TITLE:
            break
    return ", ".join([head, *details])


def _article(noun) -> str:
    if noun.endswith("s"):  # "Bedtime Stories"
        return ""
    return "An " if noun[0] in "AEIOU" else "A "


def _price(rng, noun) -> Decimal:
    """A shelf price in the noun's range, ending the way shops end them: 24.99, 8.49, 129.00."""
    value = min(max(rng.lognormvariate(noun.mu, noun.sigma), noun.low), noun.high - 1)
    dollars = int(value)
    endings = PRICE_ENDINGS if dollars < 100 else PRICE_ENDINGS_HIGH
    return Decimal(f"{dollars}.{endings[int(value * 100) % len(endings)]}")


def _product(rng, reference, sku, line) -> ProductRow:
    stock = _stock(rng, reference.warehouse_codes)
    leaf = rng.choice(reference.leaves)
    # A long tail: a few brands per department sell most of its products.
    weights = reference.brand_weights
    brand = reference.brands_by_department[leaf.department][bisect(weights, rng.random() * weights[-1])]
    noun = rng.choice(leaf.nouns)
    attributes = {name: rng.choice(values) for name, values in noun.attributes}
    title = _title(rng, leaf, noun, brand, attributes)
    price = _price(rng, noun)
    review_count = int(rng.lognormvariate(2.5, 1.6)) if rng.random() > 0.1 else 0
    rating = Decimal(str(round(min(5.0, max(1.0, rng.gauss(4.2, 0.5))), 1))) if review_count else Decimal("0")
    # The ratings split by stars around that average; the product's average is the split's own.
    stars = star_counts(review_count, rating)
    rating = average_of(stars)
    values = {
        "brand": brand.name,
        "noun_lower": noun.name.lower(),
        "adjective_lower": "sturdy",
        "use": rng.choice(USES),
        "material": attributes.get("material", "quality materials").lower(),
    }
    description = " ".join(sentence.format(**values) for sentence in rng.sample(DESCRIPTION_SENTENCES, 3))
    return ProductRow(
        row=line,
        sku=sku,
        title=title,
        description=description,
        brand=brand.name,
        category=leaf.path,
        price=price,
        attributes=attributes,
        seller=rng.choice(reference.seller_names),
        rating=rating,
        review_count=review_count,
        star_split=stars,
        active=rng.random() > 0.01,
        created_at=reference.now - timedelta(seconds=rng.randint(0, 2 * 365 * 24 * 3600)),
        stock=dict(stock),
    )


def _stock(rng, warehouse_codes):
    """(warehouse code, units) in one to three warehouses; ~8% sold out, ~7% nearly so."""
    roll = rng.random()
    if roll < 0.08:
        return [(warehouse_codes[0], 0)]
    stocked = rng.sample(warehouse_codes, rng.randint(1, len(warehouse_codes)))
    if roll < 0.15:
        return [(stocked[0], rng.randint(1, 5))]
    return [(code, rng.randint(1, 250)) for code in stocked]
