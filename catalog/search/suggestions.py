"""'Did you mean …?': the closest catalog word for each unknown query word."""
import difflib
import re
from collections import Counter

from django.db import connection, connections, transaction

from amazon_site.core.routing import read_alias

from catalog.models import Brand, Product, SearchTerm

from .analysis import variants
from .vocabulary import document_frequencies

MIN_WORD_LENGTH = 3
TRIGRAM_THRESHOLD = 0.3
_WORD = re.compile(r"[a-z]{3,100}")


def suggest(words: list[str]) -> str | None:
    """The query with misspelt words replaced, or None when nothing changes."""
    known = set(document_frequencies(words))
    corrected = [word if word in known or len(word) < MIN_WORD_LENGTH else _closest(word) or word for word in words]
    return " ".join(corrected) if corrected != words else None


def _closest(word: str) -> str | None:
    db = connections[read_alias()]
    if db.vendor == "postgresql":
        # The threshold for this transaction only: through PgBouncer a session's
        # setting would stay on a server connection that other requests get.
        with transaction.atomic(using=db.alias), db.cursor() as cursor:
            cursor.execute("SELECT set_config('pg_trgm.similarity_threshold', %s, true)", [str(TRIGRAM_THRESHOLD)])
            cursor.execute(
                "SELECT word FROM catalog_searchterm WHERE word %% %s "
                "ORDER BY similarity(word, %s) DESC, products DESC LIMIT 1",
                [word, word],
            )
            row = cursor.fetchone()
        return row[0] if row else None
    # The embedded default has a small catalog: compare against every word.
    candidates = SearchTerm.objects.filter(word__startswith=word[0]).values_list("word", flat=True)
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.75)
    return matches[0] if matches else None


@transaction.atomic
def refresh_search_terms() -> int:
    """Rebuild the word list from active products' titles, brands, descriptions and
    attribute values, with the joined forms of all but the descriptions ("wifi"
    of "Wi-Fi"): those are what a shopper types as one word, and finding
    them in every description cost most of the rebuild."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # A million products outlast the request-sized DB_STATEMENT_TIMEOUT_MS (this transaction only).
            cursor.execute("SET LOCAL statement_timeout = 0")
    SearchTerm.objects.all().delete()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO catalog_searchterm (word, products) "
                "SELECT word, ndoc FROM ts_stat($$"
                "  SELECT to_tsvector('simple', t.named || ' ' || catalog_search_variants(t.named) || ' ' || t.description)"
                "  FROM (SELECT p.title || ' ' || b.name || ' ' || coalesce("
                "          (SELECT string_agg(value, ' ') FROM jsonb_each_text(p.attributes)), '') AS named, p.description"
                "        FROM catalog_product p JOIN catalog_brand b ON b.id = p.brand_id WHERE p.is_active) t"
                f"$$) WHERE word ~ '^[a-z]{{{MIN_WORD_LENGTH},100}}$'"
            )
            return cursor.rowcount
    brand_names = dict(Brand.objects.values_list("id", "name"))
    counts = Counter()
    products = Product.objects.filter(is_active=True).values_list("title", "brand_id", "description", "attributes")
    for title, brand_id, description, attributes in products.iterator():
        named = " ".join([title, brand_names[brand_id], *map(str, (attributes or {}).values())])
        counts.update(set(_WORD.findall(f"{named} {variants(named)} {description}".lower())))
    SearchTerm.objects.bulk_create(SearchTerm(word=word, products=n) for word, n in counts.items())
    return len(counts)
