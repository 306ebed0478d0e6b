"""The matching steps every backend takes, so that they find the same products.

A backend renders terms in its own syntax; which terms a query has, and how
many of them a product needs at each step, are decided here once:

1. products with every term;
2. when that is less than a page (sorted by relevance), products with most
   of them follow (minimum-should-match: three in four terms, then half; of
   two terms, either);
3. when nothing has even that many, products with any term. Whenever no
   product has every term, the result is ``widened``.
"""
import functools
import itertools

from . import vocabulary
from .analysis import required_matches, terms
from .query import SearchRequest
from .results import SearchResult

MIN_PREFIX_LENGTH = 3
POPULARITY_BOOST = 0.05  # score × (1 + this × ln(1 + reviews)): 1,000 reviews weigh about 1.35×


def query_terms(q):
    """The query's terms and each term's weight (its rarity in the catalog)."""
    typed = terms(q)
    if not typed:
        return [], []
    words = {word for term in typed for word in term.words}
    pairs = {"".join(pair) for pair in itertools.pairwise(term.text for term in typed)}
    frequencies = vocabulary.document_frequencies(words | pairs)
    # The last word is matched as a prefix only while it is not yet a whole
    # catalog word: prefix scans of the index cost several times more than
    # exact ones.
    last = typed[-1].text
    found = terms(
        q, synonyms=vocabulary.synonyms(), joined=frozenset(word for word in pairs if word in frequencies),
        # Two letters are no prefix worth expanding ("co" would match every "co…" word).
        prefix=last not in frequencies and len(last) >= MIN_PREFIX_LENGTH,
    )
    size = vocabulary.catalog_size()
    weights = [
        vocabulary.idf(max((frequencies.get(word, 0) for word in term.words), default=0), size) for term in found
    ]
    return found, weights


def relaxations(count):
    """How many terms a row needs, step by step, while a page is not full: three
    in four, then half; of two terms, either."""
    if count == 2:
        return [1]
    return sorted({required_matches(count), -(-count // 2)} - {count}, reverse=True)


def search_in_steps(request: SearchRequest, count: int, run, count_up_to=None) -> SearchResult:
    """``run(required)`` -> the result with at least ``required`` of ``count`` terms.

    Every term first (the common case, and cheap when it finds little); a
    relaxation is chosen on counts (``count_up_to(required, limit)``: the
    matches, counted no further than ``limit``; cheap where a backend can
    stop counting early), and only that step is run: facets and a page are
    the expensive part. Sets the result's ``partial`` and ``widened``.
    """
    if count_up_to is None:
        # A backend that cannot count cheaply counts by running a step, once.
        run = functools.cache(run)

        def count_up_to(required, limit):
            return run(required).total

    page = request.page_size
    steps = relaxations(count) if request.effective_sort == "relevance" else []
    result = run(count)
    complete = result.total
    if complete < page and steps:
        # Less than a page: products with most of the terms follow those with
        # all, from the strictest step that fills a page (else the loosest).
        chosen = next((required for required in steps if count_up_to(required, page) >= page), steps[-1])
        relaxed = run(chosen)
        if relaxed.total > complete:
            result = relaxed
    elif complete == 0 and count > 1:
        result = run(1)  # sorted by price or date: nothing has every term, so any will do
    result.partial, result.widened = result.total - complete, complete == 0 and result.total > 0
    return result
