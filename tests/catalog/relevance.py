"""A hand-judged relevance set (tests/data/relevance/), and NDCG@10 of the store's search and of BM25 over it.

The store is compared with a textbook baseline rather than with fixed numbers:
"at least as good as BM25 with a stemmer" stays meaningful while the engine
changes, and it is what any shop's search is expected to beat. Importable by
tests and by ``bench/relevance.py``; the database functions need Django set up.
"""
import json
import math
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import snowballstemmer
from rank_bm25 import BM25Okapi

DATA = Path(__file__).resolve().parent.parent / "data" / "relevance"
TOP = 10
_WORD = re.compile(r"[^\W_]+")


def read_set() -> tuple[list[dict], list[dict]]:
    """The products and the judged queries, as written in the data files."""

    def rows(name):
        with open(DATA / name, encoding="utf-8") as lines:
            return [json.loads(line) for line in lines if line.strip()]

    return rows("products.jsonl"), rows("queries.jsonl")


def load_into_database(products: list[dict]) -> dict[int, str]:
    """Write the products through the ORM, each in stock; returns product id -> key.

    Also rebuilds the search word list, which the engine reads to tell a
    finished word from a prefix still being typed.
    """
    from django.utils.text import slugify

    from catalog.models import Brand, Category, Inventory, Product, Seller, Warehouse
    from catalog.ratings import star_fields
    from catalog.search.suggestions import refresh_search_terms

    categories = {}
    for product in products:
        path = tuple(product["category"])
        for depth in range(1, len(path) + 1):
            if path[:depth] not in categories:
                categories[path[:depth]] = Category.objects.create(
                    name=path[depth - 1],
                    slug=slugify(" ".join(path[:depth])),
                    parent=categories.get(path[: depth - 1]),
                )
    names = sorted({product["brand"] for product in products})
    brands = {brand.name: brand for brand in Brand.objects.bulk_create(Brand(name=n, slug=slugify(n)) for n in names)}
    seller = Seller.objects.create(name="Relevance Set Seller", slug="relevance-set-seller")
    rows = Product.objects.bulk_create(
        Product(
            seller=seller,
            category=categories[tuple(product["category"])],
            brand=brands[product["brand"]],
            title=product["title"],
            description=product["description"],
            price=Decimal(product["price"]),
            attributes=product["attributes"],
            review_count=product["review_count"],
            rating=Decimal(str(product["rating"])),
            **star_fields(product["review_count"], product["rating"]),
        )
        for product in products
    )
    warehouse = Warehouse.objects.create(code="REL", name="Relevance set warehouse")
    Inventory.objects.bulk_create(Inventory(product=row, warehouse=warehouse, quantity=10) for row in rows)
    refresh_search_terms()
    return {row.pk: product["key"] for row, product in zip(rows, products)}


def ndcg_at_10(ranking: list[str], judgements: dict[str, int]) -> float:
    """Gain 2^grade - 1, log2 discount; the ideal ranking is every judged grade of the query, best first."""

    def dcg(grades):
        return sum((2**grade - 1) / math.log2(position + 2) for position, grade in enumerate(grades[:TOP]))

    ideal = dcg(sorted(judgements.values(), reverse=True))
    return dcg([judgements.get(key, 0) for key in ranking]) / ideal if ideal else 0.0


def store_ranking(query: str, key_of_id: dict[int, str]) -> list[str]:
    """The keys of the store's first page of ten, as the search page would show them."""
    from catalog.search import SearchRequest, search

    return [key_of_id[product_id] for product_id in search(SearchRequest(q=query, page_size=TOP)).ids]


class BM25Baseline:
    """BM25Okapi over title, brand, description and attribute values, Snowball-stemmed.

    Lowercased and split on anything that is not a letter or a digit; nothing
    else (no synonyms, no spelling correction, no field weights). Products that
    share no word with the query are not results; ties go to the more reviewed,
    as in the store.
    """

    def __init__(self, products: list[dict]):
        self._stemmer = snowballstemmer.stemmer("english")
        self._products = products
        self._bm25 = BM25Okapi([self.tokens(self.text(product)) for product in products])

    @staticmethod
    def text(product: dict) -> str:
        values = " ".join(str(value) for value in product["attributes"].values())
        return f"{product['title']} {product['brand']} {product['description']} {values}"

    def tokens(self, text: str) -> list[str]:
        return self._stemmer.stemWords(_WORD.findall(text.lower()))

    def rank(self, query: str) -> list[str]:
        scores = self._bm25.get_scores(self.tokens(query))
        scored = [(score, product) for score, product in zip(scores, self._products) if score > 0]
        scored.sort(key=lambda pair: (-pair[0], -pair[1]["review_count"], pair[1]["key"]))
        return [product["key"] for _, product in scored[:TOP]]


@dataclass
class Judged:
    """One query's outcome: both top tens and their NDCG@10."""

    query: str
    trap: str
    judgements: dict[str, int]
    store: list[str]
    bm25: list[str]
    store_ndcg: float
    bm25_ndcg: float


@dataclass
class Report:
    rows: list[Judged]

    @property
    def store_ndcg(self) -> float:
        return statistics.fmean(row.store_ndcg for row in self.rows)

    @property
    def bm25_ndcg(self) -> float:
        return statistics.fmean(row.bm25_ndcg for row in self.rows)

    def by_trap(self) -> dict[str, dict]:
        groups = defaultdict(list)
        for row in self.rows:
            groups[row.trap].append(row)
        return {
            trap: {
                "queries": len(rows),
                "store": round(statistics.fmean(row.store_ndcg for row in rows), 4),
                "bm25": round(statistics.fmean(row.bm25_ndcg for row in rows), 4),
            }
            for trap, rows in sorted(groups.items())
        }

    def worst(self, count: int) -> list[Judged]:
        """The queries where the store trails BM25 most."""
        losing = [row for row in self.rows if row.store_ndcg < row.bm25_ndcg]
        return sorted(losing, key=lambda row: row.store_ndcg - row.bm25_ndcg)[:count]

    def summary(self) -> str:
        lines = [
            f"relevance set: {len(self.rows)} queries; mean NDCG@10 store {self.store_ndcg:.4f}, "
            f"bm25 {self.bm25_ndcg:.4f}, delta {self.store_ndcg - self.bm25_ndcg:+.4f}",
            f"{'trap':<26} {'n':>3} {'store':>7} {'bm25':>7}",
        ]
        for trap, means in self.by_trap().items():
            lines.append(f"{trap:<26} {means['queries']:>3} {means['store']:>7.4f} {means['bm25']:>7.4f}")
        lines.append("store's largest losses to BM25:")
        for row in self.worst(10):
            lines.append(
                f"  {row.query!r} [{row.trap}] store {row.store_ndcg:.3f} bm25 {row.bm25_ndcg:.3f}; "
                f"store: {row.store or 'nothing'}; bm25 top 3: {row.bm25[:3]}"
            )
        return "\n".join(lines)


def evaluate(products: list[dict], queries: list[dict], key_of_id: dict[int, str]) -> Report:
    """Both rankings of every judged query; the products must already be loaded (``load_into_database``)."""
    baseline = BM25Baseline(products)
    rows = []
    for judged in queries:
        store, bm25 = store_ranking(judged["query"], key_of_id), baseline.rank(judged["query"])
        rows.append(
            Judged(
                query=judged["query"],
                trap=judged.get("trap") or "untagged",
                judgements=judged["judgements"],
                store=store,
                bm25=bm25,
                store_ndcg=ndcg_at_10(store, judged["judgements"]),
                bm25_ndcg=ndcg_at_10(bm25, judged["judgements"]),
            )
        )
    return Report(rows)
