"""Sliding-window rate limits counted in Django's cache (local memory or Valkey).

A limit is a setting such as ``"5/15min"``: at most 5 hits in any 15 minutes.
The window slides: each period has its own counter, and a hit is weighed
against the current period's count plus the previous period's count times the
share of it still inside the last ``period`` seconds (the sliding-window
counter). So hits straddling a period boundary still add up, where fixed
windows let twice the limit through within seconds around each boundary. It
is an estimate, assuming the previous period's hits were spread evenly: after
a burst at the end of a period, the next period lets one hit through each
time another share of the burst slides out (180 s apart for 5/15min).

The atomic increment decides: a hit is counted before the work it guards, so
parallel requests each see a distinct count and at most the limit get
through; a refused hit is taken back, so refusals do not push the wait further
out. Counts live in the default cache, so every process behind the same
Valkey shares them (local memory counts per process). With the cache down
(django-redis with IGNORE_EXCEPTIONS) a count cannot be read or written and
the limit fails open: shoppers are never locked out by an outage, at the
price of no limit while it lasts.
"""
import hashlib
import logging
import math
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(s|sec|second|m|min|minute|h|hour|d|day)s?\s*$")
_SECONDS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


@dataclass(frozen=True)
class Rate:
    limit: int
    period: int  # seconds

    @classmethod
    def parse(cls, text: str) -> "Rate":
        match = _RATE.match(text or "")
        if not match:
            raise ValueError(f"Not a rate: {text!r} (expected e.g. '10/min', '5/15min', '5/h')")
        count, multiple, unit = match.groups()
        return cls(int(count), int(multiple or 1) * _SECONDS[unit])


@dataclass(frozen=True)
class Limit:
    """One counter: what it limits (scope), whose it is (key), and its rate."""

    scope: str
    key: str
    rate: Rate

    def _cache_key(self, window: int) -> str:
        # Hashed: usernames and IPs may hold characters cache backends refuse.
        digest = hashlib.sha256(self.key.encode()).hexdigest()[:32]
        return f"ratelimit:{self.scope}:{digest}:{window}"

    def _window(self, now: float | None) -> tuple[float, int]:
        now = time.time() if now is None else now
        return now, int(now // self.rate.period)

    def _counts(self, window: int) -> tuple[int, int]:
        """The previous and the current period's counts (0, 0 with the cache down)."""
        previous, current = self._cache_key(window - 1), self._cache_key(window)
        try:
            counts = cache.get_many([previous, current])
        except Exception:  # the cache is down: fail open
            logger.warning("rate limit %s not read: cache unavailable", self.scope)
            return 0, 0
        return int(counts.get(previous) or 0), int(counts.get(current) or 0)

    def _weight(self, now: float) -> float:
        """The share of the previous period still inside the sliding window."""
        return 1 - (now % self.rate.period) / self.rate.period

    def count(self, now: float | None = None) -> float:
        """Hits in the last ``period`` seconds, as the sliding-window counter estimates them."""
        now, window = self._window(now)
        previous, current = self._counts(window)
        return previous * self._weight(now) + current

    def exceeded(self, now: float | None = None) -> bool:
        """True once the window holds ``limit`` hits, so the next would be refused; asking counts nothing."""
        return enabled() and self.count(now) + 1 > self.rate.limit

    def hit(self, now: float | None = None) -> bool:
        """Count one hit; False, with the hit taken back, when it is over the limit."""
        if not enabled():
            return True
        now, window = self._window(now)
        key = self._cache_key(window)
        try:
            # Kept two periods: it is the previous period's count for the whole next one.
            cache.add(key, 0, timeout=2 * self.rate.period + 1)
            count = cache.incr(key)
            previous = int(cache.get(self._cache_key(window - 1)) or 0)
        except ValueError:  # deleted between add and incr (a reset, an eviction): count again from 1
            cache.set(key, 1, timeout=2 * self.rate.period + 1)
            return 1 <= self.rate.limit
        except Exception:
            logger.warning("rate limit %s not counted: cache unavailable", self.scope)
            return True
        if count is None:  # django-redis ignoring an error: fail open
            return True
        if previous * self._weight(now) + count <= self.rate.limit:
            return True
        try:
            cache.decr(key)
        except Exception:  # gone or unreachable: nothing left to take back
            pass
        return False

    def retry_after(self, now: float | None = None) -> int:
        """Seconds until a hit would be let through again, if nothing else is counted meanwhile."""
        now, window = self._window(now)
        period, room = self.rate.period, self.rate.limit - 1  # a hit passes while the count is <= room
        if room < 0:
            return period
        previous, current = self._counts(window)
        elapsed = now % period
        if current <= room:
            # In this period, once the previous period's weighed share has shrunk enough.
            wait = period * (1 - (room - current) / previous) - elapsed if previous else 0
        else:
            # In the next period, once this period's count, then the previous one, has shrunk enough.
            wait = period - elapsed + period * (1 - room / current)
        return max(1, math.ceil(wait))

    def reset(self, now: float | None = None) -> None:
        _, window = self._window(now)
        try:
            cache.delete_many([self._cache_key(window - 1), self._cache_key(window)])
        except Exception:
            pass


def enabled() -> bool:
    return settings.RATELIMIT_ENABLED


def limit(scope: str, key, setting: str) -> Limit:
    """The limit named by a setting (``"RATELIMIT_LOGIN_IP"``) for one key."""
    return Limit(scope, str(key), Rate.parse(getattr(settings, setting)))


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or the Nth address from the right of
    X-Forwarded-For behind RATELIMIT_NUM_PROXIES trusted proxies (a client can
    only prepend addresses, never pick the one counted)."""
    proxies = settings.RATELIMIT_NUM_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        addresses = [part.strip() for part in forwarded.split(",") if part.strip()]
        if addresses:
            return addresses[-min(proxies, len(addresses))]
    return request.META.get("REMOTE_ADDR", "") or "unknown"
