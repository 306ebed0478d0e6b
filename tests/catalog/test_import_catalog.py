"""manage.py import_catalog: products loaded and updated by SKU from CSV or JSON Lines."""
import csv
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from amazon_site.events.models import OutboxEvent
from catalog import stock
from catalog.importing import services
from catalog.importing.services import ImportStopped, import_file
from catalog.models import Brand, Category, Inventory, Product
from catalog.search import SearchRequest, search
from tests.factories import ProductFactory, SellerFactory, WarehouseFactory

pytestmark = pytest.mark.django_db

HEADER = ["sku", "title", "brand", "category", "price", "description", "attribute:color", "stock:EWR1", "stock:SEA3"]


@pytest.fixture(autouse=True)
def warehouses():
    return {code: WarehouseFactory(code=code) for code in ("EWR1", "SEA3")}


def write_csv(path, rows, header=HEADER):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def found(q, **params):
    return search(SearchRequest.from_params({"q": q, **params})).ids


def units(sku):
    return dict(Inventory.objects.filter(product__sku=sku).values_list("warehouse__code", "quantity"))


def test_a_feed_creates_products_with_their_brands_categories_stock_and_search(tmp_path):
    feed = write_csv(
        tmp_path / "catalog.csv",
        [
            ["LAMP-1", "Hearth Brass Table Lamp", "Hearth", "Home > Lighting", "24.99", "A warm lamp.", "Brass", "5", "0"],
            ["LAMP-2", "Hearth Floor Lamp, 64 GB", "hearth", "Home > Lighting", "79.00", "", "White", "0", "0"],
            ["KETTLE-1", "Norda Copper Kettle", "Norda", "Home > Kitchen", "35", "Boils fast.", "", "2", "3"],
        ],
    )
    report = import_file(feed, default_seller="House Store")

    assert (report.created, report.updated, report.rejections) == (3, 0, [])
    assert sorted(Brand.objects.values_list("name", flat=True)) == ["Hearth", "Norda"]  # "hearth" is Hearth
    home = Category.objects.get(name="Home", parent=None)
    assert sorted(home.children.values_list("name", flat=True)) == ["Kitchen", "Lighting"]
    lamp = Product.objects.get(sku="LAMP-1")
    assert (lamp.price, lamp.attributes, lamp.seller.name, lamp.in_stock) == (Decimal("24.99"), {"color": "Brass"}, "House Store", True)
    assert units("LAMP-1") == {"EWR1": 5, "SEA3": 0}
    assert not Product.objects.get(sku="LAMP-2").in_stock
    # Searchable at once: words, joined units, brand and stock filters.
    assert found("brass lamp")[0] == lamp.pk
    assert found("64gb") == [Product.objects.get(sku="LAMP-2").pk]
    assert set(found("lamp", in_stock="1")) == {lamp.pk}
    assert found("kettle", price="25-50") == [Product.objects.get(sku="KETTLE-1").pk]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the projection is PostgreSQL's")
def test_the_bulk_projection_is_what_the_triggers_write(tmp_path):
    """The loader writes new products' search rows itself: exactly what a one-product save writes."""
    feed = write_csv(
        tmp_path / "catalog.csv",
        [
            ["CASE-1", "Velo USB-C Cable 6 ft - Braided, for Nova Phone", "Velo", "Electronics", "9.99",
             "Wi-Fi ready 2.4 GHz, tangle-free.", "Black", "4", ""],
            ["BOOK-1", "The Quiet Harbor: A Mystery Novel, Paperback", "Velora Press", "Books", "12.00", "", "", "", "1"],
        ],
    )
    import_file(feed, default_seller="House Store")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.sku, s.document = catalog_search_document(p.title, b.name, "
            "(SELECT string_agg(value, ' ') FROM jsonb_each_text(p.attributes)), p.description), "
            "s.attrs, s.in_stock = p.in_stock, s.price = p.price "
            "FROM catalog_product p JOIN catalog_brand b ON b.id = p.brand_id JOIN catalog_product_search s ON s.id = p.id "
            "ORDER BY p.sku"
        )
        assert cursor.fetchall() == [("BOOK-1", True, [], True, True), ("CASE-1", True, ["color=Black"], True, True)]


def test_a_price_and_stock_feed_updates_by_sku_and_leaves_the_rest(tmp_path):
    import_file(
        write_csv(tmp_path / "catalog.csv", [["LAMP-1", "Hearth Table Lamp", "Hearth", "Home", "24.99", "Warm.", "Brass", "5", "1"]]),
        default_seller="House Store",
    )
    lamp = Product.objects.get(sku="LAMP-1")
    feed = write_csv(tmp_path / "daily.csv", [["LAMP-1", "19.99", "0", "0"]], header=["sku", "price", "stock:EWR1", "stock:SEA3"])
    report = import_file(feed)

    assert (report.created, report.updated, report.rejections) == (0, 1, [])
    lamp.refresh_from_db()
    assert (lamp.title, lamp.description, lamp.attributes) == ("Hearth Table Lamp", "Warm.", {"color": "Brass"})
    assert lamp.price == Decimal("19.99") and not lamp.in_stock
    assert units("LAMP-1") == {"EWR1": 0, "SEA3": 0}
    assert found("lamp", price="lt25") == [lamp.pk]
    assert found("lamp", in_stock="1") == []
    # Each stock change is on the inventory stream, as a staff edit is.
    adjusted = [event.payload for event in OutboxEvent.objects.filter(topic="inventory").order_by("id")]
    assert sorted((event["quantity"], event["previous_quantity"]) for event in adjusted) == [(0, 1), (0, 5)]
    # The same feed again changes nothing.
    again = import_file(feed)
    assert (again.updated, again.unchanged) == (0, 1)


def test_changed_texts_are_searchable_and_a_deactivated_product_leaves_search(tmp_path):
    import_file(
        write_csv(tmp_path / "catalog.csv", [["LAMP-1", "Hearth Table Lamp", "Hearth", "Home", "24.99", "", "", "5", ""]]),
        default_seller="House Store",
    )
    lamp = Product.objects.get(sku="LAMP-1")
    import_file(write_csv(tmp_path / "rename.csv", [["LAMP-1", "Hearth Desk Light"]], header=["sku", "title"]))
    assert found("desk light") == [lamp.pk] and found("lamp") == []  # one product: nothing else to match
    import_file(write_csv(tmp_path / "off.csv", [["LAMP-1", "false"]], header=["sku", "active"]))
    assert found("desk light") == []
    import_file(write_csv(tmp_path / "on.csv", [["LAMP-1", "true"]], header=["sku", "active"]))
    assert found("desk light") == [lamp.pk]


def test_rejected_rows_are_reported_and_never_stop_the_valid_ones(tmp_path):
    feed = write_csv(
        tmp_path / "catalog.csv",
        [
            ["OK-1", "Hearth Table Lamp", "Hearth", "Home", "24.99", "", "", "1", ""],
            ["BAD-PRICE", "Hearth Lamp", "Hearth", "Home", "abc", "", "", "", ""],
            ["", "No SKU Lamp", "Hearth", "Home", "5", "", "", "", ""],
            ["OK-1", "Again", "Hearth", "Home", "5", "", "", "", ""],
            ["NEW-1", "", "Phantom", "", "3.50", "", "", "", ""],
            ["NEG-1", "Hearth Lamp", "Hearth", "Home", "5", "", "", "-2", ""],
            ["CENTS-1", "Hearth Lamp", "Hearth", "Home", "5.999", "", "", "", ""],
            ["OK-2", "Norda Kettle", "Norda", "Home > Kitchen", "35", "", "", "", "2"],
        ],
    )
    out = tmp_path / "rejected.csv"
    call_command("import_catalog", str(feed), seller="House Store", report=str(out), verbosity=0)

    assert set(Product.objects.values_list("sku", flat=True)) == {"OK-1", "OK-2"}
    with open(out, newline="", encoding="utf-8") as handle:
        rejected = list(csv.DictReader(handle))
    assert [(row["line"], row["sku"], row["field"]) for row in rejected] == [
        ("3", "BAD-PRICE", "price"),
        ("4", "", "sku"),
        ("5", "OK-1", "sku"),
        ("6", "NEW-1", "title"),
        ("7", "NEG-1", "stock:EWR1"),
        ("8", "CENTS-1", "price"),
    ]
    assert "already on line 2" in rejected[2]["reason"]
    assert "a new product needs title, category" in rejected[3]["reason"]
    assert not Brand.objects.filter(name="Phantom").exists()  # a refused row makes nothing


def test_a_file_that_is_not_a_feed_changes_nothing(tmp_path):
    bad_column = write_csv(tmp_path / "catalog.csv", [["A-1", "x"]], header=["sku", "colour"])
    with pytest.raises(CommandError, match="unknown column 'colour'"):
        call_command("import_catalog", str(bad_column), verbosity=0)
    bad_warehouse = write_csv(tmp_path / "stock.csv", [["A-1", "3"]], header=["sku", "stock:XX9"])
    with pytest.raises(CommandError, match="no warehouse has that code"):
        call_command("import_catalog", str(bad_warehouse), verbosity=0)
    (tmp_path / "catalog.xml").write_text("<products/>")
    with pytest.raises(CommandError, match=".csv file or a .jsonl"):
        call_command("import_catalog", str(tmp_path / "catalog.xml"), verbosity=0)
    assert not Product.objects.exists() and not Brand.objects.exists()


def test_json_lines_feeds_hold_the_same_fields(tmp_path):
    feed = tmp_path / "catalog.jsonl"
    feed.write_text(
        "\n".join(
            json.dumps(row)
            for row in [
                {"sku": "TENT-1", "title": "Norda Camping Tent", "brand": "Norda", "category": ["Sports", "Camping"],
                 "price": 129.5, "attributes": {"weight": "2.5 kg", "color": "Green"}, "stock": {"SEA3": 4},
                 "rating": 4.5, "review_count": 12, "created_at": "2026-11-30T09:00:00Z"},
                {"sku": "TENT-2", "title": "Tent", "brand": "Norda", "category": "Sports", "price": 10,
                 "created_at": "2026-11-30T09:00:00"},
                {"sku": "TENT-3", "colour": "red"},
            ]
        )
        + "\nnot json\n"
    )
    report = import_file(feed, default_seller="House Store")

    tent = Product.objects.get(sku="TENT-1")
    assert (tent.price, tent.category.parent.name, tent.attributes["weight"]) == (Decimal("129.50"), "Sports", "2.5 kg")
    assert (tent.rating, tent.review_count, tent.stars_5 + tent.stars_4 > tent.stars_1) == (Decimal("4.5"), 12, True)
    assert tent.created_at.isoformat() == "2026-11-30T09:00:00+00:00"
    assert units("TENT-1") == {"SEA3": 4}
    assert [(r.row, r.field) for r in report.rejections] == [(2, "created_at"), (3, "colour"), (4, "")]
    assert "offset from UTC" in report.rejections[0].reason


def test_stock_below_what_carts_hold_refuses_the_whole_row(tmp_path):
    import_file(
        write_csv(tmp_path / "catalog.csv", [["LAMP-1", "Hearth Table Lamp", "Hearth", "Home", "24.99", "", "", "5", "5"]]),
        default_seller="House Store",
    )
    Inventory.objects.filter(product__sku="LAMP-1", warehouse__code="EWR1").update(reserved=3)
    feed = write_csv(tmp_path / "daily.csv", [["LAMP-1", "9.99", "2", "1"]], header=["sku", "price", "stock:EWR1", "stock:SEA3"])
    report = import_file(feed)

    [rejection] = report.rejections
    assert (rejection.row, rejection.field) == (2, "stock:EWR1")
    assert "3 units are held in carts" in rejection.reason
    assert Product.objects.get(sku="LAMP-1").price == Decimal("24.99")
    assert units("LAMP-1") == {"EWR1": 5, "SEA3": 5}


def test_a_failed_batch_leaves_nothing_of_itself_and_keeps_the_batches_before(tmp_path, monkeypatch):
    rows = [[f"LAMP-{n}", f"Hearth Lamp {n}", "Hearth" if n < 3 else "Lumen", "Home", "10", "", "", "1", ""] for n in range(1, 5)]
    feed = write_csv(tmp_path / "catalog.csv", rows)
    real = stock.add_first_stock
    calls = []

    def failing(entries):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        real(entries)

    monkeypatch.setattr(stock, "add_first_stock", failing)
    with pytest.raises(ImportStopped, match="lines 4–5: disk full") as stopped:
        import_file(feed, batch_size=2, default_seller="House Store")

    assert stopped.value.report.created == 2
    assert sorted(Product.objects.values_list("sku", flat=True)) == ["LAMP-1", "LAMP-2"]
    assert not Brand.objects.filter(name="Lumen").exists()  # made by the failed batch, gone with it
    assert found("lamp") and len(found("lamp")) == 2
    monkeypatch.setattr(stock, "add_first_stock", real)
    # Loading by SKU: the same file again finishes the job.
    again = import_file(feed, batch_size=2, default_seller="House Store")
    assert (again.created, again.unchanged) == (2, 2)
    assert Brand.objects.filter(name="Lumen").exists()


def test_new_products_need_a_seller(tmp_path):
    report = import_file(write_csv(tmp_path / "c.csv", [["A-1", "Hearth Lamp", "Hearth", "Home", "5", "", "", "", ""]]))
    assert [(r.field, r.reason.endswith("seller")) for r in report.rejections] == [("seller", True)]
    SellerFactory(name="Shop One")
    report = import_file(
        write_csv(tmp_path / "d.csv", [["A-1", "Hearth Lamp", "Hearth", "Home", "5", "shop one"]], header=HEADER[:5] + ["seller"])
    )
    assert report.created == 1 and Product.objects.get(sku="A-1").seller.name == "Shop One"


def test_a_rating_is_not_imported_over_reviews_written_here(tmp_path):
    product = ProductFactory(sku="R-1", rating=Decimal("4.0"), review_count=1, stars_4=1, rating_total=Decimal("4.0"))
    feed = write_csv(tmp_path / "r.csv", [["R-1", "2.0", "40"]], header=["sku", "rating", "review_count"])
    [rejection] = import_file(feed).rejections
    assert rejection.field == "rating"
    product.refresh_from_db()
    assert (product.rating, product.review_count) == (Decimal("4.0"), 1)


def test_the_command_summarises(tmp_path, capsys):
    feed = write_csv(tmp_path / "c.csv", [["A-1", "Hearth Lamp", "Hearth", "Home", "5", "", "", "", ""]])
    call_command("import_catalog", str(feed), seller="House Store", verbosity=0)
    assert "1 rows in" in capsys.readouterr().out
    with pytest.raises(CommandError, match="--batch-size"):
        call_command("import_catalog", str(feed), batch_size=services.MAX_BATCH_SIZE + 1, verbosity=0)


def test_a_file_unreadable_part_way_says_what_was_loaded(tmp_path):
    feed = tmp_path / "catalog.csv"
    # Far enough in that the rows before it are read (and loaded) before the bad bytes are.
    good = "".join(f"A-{n},Hearth Lamp {n},Hearth,Home,5\n" for n in range(2000))
    feed.write_bytes(("sku,title,brand,category,price\n" + good).encode() + b"B-1,L\xe4mp,Hearth,Home,5\n")
    with pytest.raises(ImportStopped, match="Stopped after .* rows: .*not UTF-8") as stopped:
        import_file(feed, batch_size=100, default_seller="House Store")
    assert stopped.value.report.created == Product.objects.count() > 0
