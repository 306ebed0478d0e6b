"""Star ratings: how many of a product's ratings gave each number of stars.

A product's ``review_count`` counts every rating it has (Amazon's "global
ratings"), written reviews or not; ``stars_1`` … ``stars_5`` split the same
ratings by stars, and the database refuses a product whose split does not add
up to ``review_count``. Ratings that arrive as an average and a count only (the
seeded catalog, imports, test data) get a split from ``star_counts``.
"""
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

STARS = (5, 4, 3, 2, 1)  # the order a histogram lists them in


def star_field(stars: int) -> str:
    return f"stars_{stars}"


@lru_cache(maxsize=512)
def _shares(average: float) -> tuple[float, ...]:
    """Shares of 1★ … 5★ whose mean is ``average``: p(s) ∝ exp(β·s), β found by bisection.

    One smooth family for every average: 4.2 is mostly fives and fours with a
    few of each lower star, as real ratings are, not just fours and fives.
    """
    if average >= 5:
        return (0.0, 0.0, 0.0, 0.0, 1.0)
    if average <= 1:
        return (1.0, 0.0, 0.0, 0.0, 0.0)

    def shares(beta):
        weights = [math.exp(beta * (stars - 3)) for stars in range(1, 6)]
        total = sum(weights)
        return [weight / total for weight in weights]

    low, high = -30.0, 30.0
    for _ in range(60):
        beta = (low + high) / 2
        mean = sum(stars * share for stars, share in zip(range(1, 6), shares(beta)))
        low, high = (beta, high) if mean < average else (low, beta)
    return tuple(shares((low + high) / 2))


def star_counts(count: int, average) -> dict[int, int]:
    """``count`` ratings averaging about ``average`` split by stars; the counts add up to ``count`` exactly.

    Largest remainders: each star gets the whole part of its share, and the
    ratings left over go to the largest fractions (ties to more stars).
    """
    if count <= 0:
        return dict.fromkeys(STARS, 0)
    raw = [count * share for share in _shares(round(float(average), 2))]
    counts = [math.floor(value) for value in raw]
    by_fraction = sorted(range(5), key=lambda index: (raw[index] - counts[index], index), reverse=True)
    for index in by_fraction[: count - sum(counts)]:
        counts[index] += 1
    return {stars: counts[stars - 1] for stars in STARS}


def star_fields(count: int, average) -> dict[str, int]:
    """``star_counts`` as the product's field values (``stars_5=…``)."""
    return {star_field(stars): units for stars, units in star_counts(count, average).items()}


def average_of(counts: dict[int, int]) -> Decimal:
    """The one-decimal average of a split, rounded half up; 0 without ratings."""
    total = sum(counts.values())
    if not total:
        return Decimal("0")
    return (Decimal(sum(stars * units for stars, units in counts.items())) / total).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class HistogramRow:
    stars: int
    count: int
    percent: int  # of all ratings, rounded: what the bar and its text show


@dataclass(frozen=True)
class Histogram:
    total: int  # every rating: the "N global ratings"
    rows: tuple[HistogramRow, ...]  # 5★ first


def histogram(product) -> Histogram:
    """The product's ratings by stars, 5★ first, each with its rounded share."""
    total = product.review_count
    rows = []
    for stars in STARS:
        count = getattr(product, star_field(stars))
        rows.append(HistogramRow(stars, count, round(100 * count / total) if total else 0))
    return Histogram(total, tuple(rows))
