"""The nightly computation: counts, confidences, the rules, and how a run is published.

The hand-made order set (paid orders, cap 3, min co-count 2, shrinkage m = 5,
all placed just now, so every weight is 1):

    o1 {A, B, C}   o2 {A, C}   o3 {A, C}   o4 {C, D}   o5 {C, D}
    o6..o9 {A}     o10 {A, B}  o11 {B, D}

    baskets of two or more: 7 (six of 2, one of 3); A 4, B 3, C 5, D 3
    share (1/size per basket, over 7): A 11/6, B 4/3, C 7/3, D 3/2, each / 7
    together (1/(size-1) per basket): AB 1.5, AC 2.5, CD 2; BC and BD are
    bought together once, below the minimum co-count
    confidence(b | a) = (together + 5·share(b)) / (baskets(a) + 5)

C was bought with A more often than with D (3 vs 2) and A is in most
orders: the cosine ranked D first; the confidence that A is added where C is
ranks A first.
"""
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from orders.models import CancelReason, Status
from recommendations import selectors, services, tasks
from recommendations.models import CategoryBestseller, Popularity, Recommendation, Run
from recommendations.scoring import Rules, learn
from tests.factories import CategoryFactory, stocked_product
from tests.recommendations.helpers import place

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def rules(settings):
    settings.RECOMMENDATIONS_MAX_ORDER_ITEMS = 3
    settings.RECOMMENDATIONS_MIN_CO_COUNT = 2
    settings.RECOMMENDATIONS_LIST_LENGTH = 20
    return settings


@pytest.fixture
def shop():
    """Products A-E (E never sold) in one category, and the hand-made orders above."""
    category = CategoryFactory(name="Gadgets")
    a, b, c, d, e = (stocked_product(10, category=category, title=name) for name in "ABCDE")
    for basket in ([a, b, c], [a, c], [a, c], [c, d], [c, d], [a], [a], [a], [a], [a, b], [b, d]):
        place(*basket)
    return {"A": a, "B": b, "C": c, "D": d, "E": e, "category": category}


def lists(run=None):
    """Each product's list of the current run as {title: [(title, score rounded, co)]}."""
    rows = Recommendation.objects.filter(run=run or Run.objects.get(is_current=True)).order_by("product_id", "rank")
    found = {}
    for row in rows.select_related("product", "recommended"):
        found.setdefault(row.product.title, []).append((row.recommended.title, round(row.score, 4), row.co_count))
    return found


SHARE = {"A": 11 / 6 / 7, "B": 4 / 3 / 7, "C": 7 / 3 / 7, "D": 3 / 2 / 7}


def confidence(together, other, baskets):
    return round((together + 5 * SHARE[other]) / (baskets + 5), 4)


EXPECTED = {
    "A": [("C", confidence(2.5, "C", 4), 3), ("B", confidence(1.5, "B", 4), 2)],
    "B": [("A", confidence(1.5, "A", 3), 2)],
    "C": [("A", confidence(2.5, "A", 5), 3), ("D", confidence(2, "D", 5), 2)],
    "D": [("C", confidence(2, "C", 3), 2)],
}


def test_confidences_on_the_hand_made_orders(shop):
    run = services.compute_recommendations()

    assert lists() == EXPECTED
    assert (run.baskets, run.skipped_orders, run.pairs, run.products) == (11, 0, 3, 4)
    shares = dict(Popularity.objects.filter(run=run).values_list("product__title", "share"))
    assert shares == pytest.approx(SHARE, abs=1e-7)  # 1/3 is summed rounded to 2**-24
    assert run.prior[0][0] == shop["C"].pk  # the largest share: what carts add most
    assert run.is_current and run.finished_at >= run.started_at
    assert set(run.timings) == set(services.STEPS)


def test_orders_not_paid_and_kept_are_ignored(shop):
    b, d = shop["B"], shop["D"]
    place(b, d, status=Status.CANCELLED, cancel_reason=CancelReason.PAYMENT_FAILED)
    place(b, d, status=Status.CANCELLED, cancel_reason=CancelReason.CUSTOMER)
    place(b, d, status=Status.RETURNED)
    place(b, d, status=Status.PENDING)

    services.compute_recommendations()

    assert lists() == EXPECTED  # any two of these would have made B-D a pair


def test_every_paid_status_counts(shop):
    b, d = shop["B"], shop["D"]
    for status in (Status.PACKED, Status.SHIPPED, Status.DELIVERED):
        place(b, d, status=status)

    services.compute_recommendations()

    assert lists()["B"][0][:1] == ("D",) and lists()["B"][0][2] == 4


def test_orders_over_the_cap_are_skipped_entirely(shop):
    a, b, c, d = shop["A"], shop["B"], shop["C"], shop["D"]
    for _ in range(3):
        place(a, b, c, d)  # 4 distinct products > cap 3: would pair all six combinations
    place(b, d, d)  # the same product twice is one product: 2 distinct, within the cap

    run = services.compute_recommendations()

    assert run.skipped_orders == 3 and run.baskets == 12
    assert sorted((title, co) for title, _, co in lists()["B"]) == [("A", 2), ("D", 2)]


def test_orders_outside_the_window_are_not_read(shop, settings):
    settings.RECOMMENDATIONS_WINDOW_DAYS = 30
    old = timezone.now() - timedelta(days=31)
    for _ in range(2):
        place(shop["B"], shop["D"], created_at=old)

    services.compute_recommendations()

    assert lists() == EXPECTED


def test_the_list_keeps_the_best_list_length_entries(shop, settings):
    settings.RECOMMENDATIONS_LIST_LENGTH = 1

    services.compute_recommendations()

    assert lists() == {title: entries[:1] for title, entries in EXPECTED.items()}


def test_the_sql_and_python_paths_agree(shop, settings):
    """The evaluation learns with the Python path; production with SQL. Same rules, same lists, same floats."""
    settings.RECOMMENDATIONS_MAX_ORDER_ITEMS = 50
    a, b, c, d, e = (shop[name] for name in "ABCDE")
    place(a, b, c, d, e)  # now within the cap: more pairs, and ties to break
    place(b, c, d, created_at=timezone.now() - timedelta(days=12, seconds=7))  # weighs less
    place(d, e, created_at=timezone.now() - timedelta(days=45))
    place(d, e)

    run = services.compute_recommendations()
    baskets = [(basket.products, basket.created_at) for basket in selectors.paid_baskets()]
    model = learn(baskets, Rules.from_settings(), now=run.started_at)
    sharded = learn(baskets, Rules.from_settings(), now=run.started_at, shards=3)

    in_database = {}
    for row in Recommendation.objects.filter(run=run).order_by("product_id", "rank"):
        in_database.setdefault(row.product_id, []).append((row.recommended_id, row.score, row.co_count))
    in_python = {p: [(n.product_id, n.confidence, n.co_count) for n in entries] for p, entries in model.lists.items()}
    assert in_database == in_python
    popularity = {
        row.product_id: (row.baskets, row.share, (row.share_2, row.share_3, row.share_4))
        for row in Popularity.objects.filter(run=run)
    }
    assert popularity == {p: (model.baskets[p], s.share, s.by_size) for p, s in model.shares.items()}
    assert run.prior == [[p, s.share, *s.by_size] for p, s in model.prior(20)]
    assert sharded.lists == model.lists
    assert run.bestsellers == model.bestsellers(20)


def test_bestsellers_per_category_include_descendants_and_the_store(shop):
    parent = CategoryFactory(name="Electronics")
    shop["category"].parent = parent
    shop["category"].save()
    elsewhere = stocked_product(5, category=CategoryFactory(name="Books"))
    for _ in range(4):
        place(elsewhere)

    run = services.compute_recommendations()

    def bestsellers_of(category):
        rows = CategoryBestseller.objects.filter(run=run, category=category).order_by("rank")
        return [(row.product.title, row.orders) for row in rows.select_related("product")]

    gadgets = [("A", 8), ("C", 5), ("B", 3), ("D", 3)]
    assert bestsellers_of(shop["category"]) == gadgets
    assert bestsellers_of(parent) == gadgets
    assert bestsellers_of(elsewhere.category) == [(elsewhere.title, 4)]
    assert run.bestsellers == [shop["A"].pk, shop["C"].pk, elsewhere.pk, shop["B"].pk, shop["D"].pk]


def test_a_new_run_replaces_the_old_one_and_its_rows(shop):
    first = services.compute_recommendations()
    place(shop["B"], shop["D"])

    second = services.compute_recommendations()

    assert list(Run.objects.values_list("pk", "is_current")) == [(second.pk, True)]
    assert not Recommendation.objects.filter(run=first).exists()
    assert not CategoryBestseller.objects.filter(run=first).exists()
    assert not Popularity.objects.filter(run=first).exists()
    assert lists()["B"][0][::2] == ("D", 2)


def test_a_failed_run_leaves_the_current_lists_as_they_were(shop, monkeypatch):
    services.compute_recommendations()
    place(shop["B"], shop["D"])

    def broken(run, rules):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "_write_bestsellers", broken)
    with pytest.raises(RuntimeError):
        services.compute_recommendations()

    assert Run.objects.count() == 1
    assert lists() == EXPECTED
    assert Recommendation.objects.count() == sum(len(entries) for entries in EXPECTED.values())


def test_the_run_fills_the_cache_the_way_readers_look_it_up(shop):
    run = services.compute_recommendations()

    a, b, c, d = (shop[name].pk for name in "ABCD")
    cached = selectors.anchors([a])[a]  # from the cache
    assert [(n.product_id, round(n.confidence, 4)) for n in cached.neighbours] == [
        (c, EXPECTED["A"][0][1]), (b, EXPECTED["A"][1][1])
    ]
    cache.delete(selectors.product_key(a))
    assert selectors.anchors([a])[a] == cached  # read again from the table, the same
    assert [n.product_id for n in selectors.anchors([c])[c].neighbours] == [a, d]
    assert cache.get(selectors.product_key(shop["E"].pk)) is None  # no list: cached on first read
    assert cache.get(selectors.category_key(shop["category"].pk)) == [shop[t].pk for t in "ACBD"]
    assert cache.get(selectors.BESTSELLERS_KEY) == run.bestsellers
    assert [product for product, _ in cache.get(selectors.PRIOR_KEY)] == [row[0] for row in run.prior]


def test_the_nightly_task_computes_and_is_scheduled(shop, settings):
    run_id = tasks.compute_recommendations.delay().get()

    assert Run.objects.get(is_current=True).pk == run_id
    entry = settings.CELERY_BEAT_SCHEDULE["recommendations-compute"]
    assert entry["task"] == tasks.compute_recommendations.name
