"""Fixed-window rate limits counted in Django's cache (local memory or Valkey).

A limit is a setting such as ``"5/15min"``: at most 5 hits per 15-minute
window, the window starting at a multiple of its length. Counts live in the
default cache, so every process behind the same Valkey shares them (local
memory counts per process). With the cache down (django-redis with
IGNORE_EXCEPTIONS) a count cannot be read or written and the limit fails
open: shoppers are never locked out by an outage, at the price of no limit
while it lasts.
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

    def _cache_key(self, now: float) -> str:
        # Hashed: usernames and IPs may hold characters cache backends refuse.
        digest = hashlib.sha256(self.key.encode()).hexdigest()[:32]
        return f"ratelimit:{self.scope}:{digest}:{int(now // self.rate.period)}"

    def retry_after(self, now: float | None = None) -> int:
        """Seconds until the current window ends."""
        now = time.time() if now is None else now
        return max(1, math.ceil(self.rate.period - now % self.rate.period))

    def count(self, now: float | None = None) -> int:
        try:
            return int(cache.get(self._cache_key(time.time() if now is None else now)) or 0)
        except Exception:  # the cache is down: fail open
            logger.warning("rate limit %s not read: cache unavailable", self.scope)
            return 0

    def exceeded(self, now: float | None = None) -> bool:
        """True once the window holds ``limit`` hits; asking counts nothing."""
        return enabled() and self.count(now) >= self.rate.limit

    def hit(self, now: float | None = None) -> bool:
        """Count one hit; False when it is over the limit (the hit is counted anyway)."""
        if not enabled():
            return True
        key = self._cache_key(time.time() if now is None else now)
        try:
            cache.add(key, 0, timeout=self.rate.period + 1)
            count = cache.incr(key)
        except ValueError:  # expired between add and incr: start the window again
            cache.set(key, 1, timeout=self.rate.period + 1)
            count = 1
        except Exception:
            logger.warning("rate limit %s not counted: cache unavailable", self.scope)
            return True
        if count is None:  # django-redis ignoring an error: fail open
            return True
        return count <= self.rate.limit

    def reset(self, now: float | None = None) -> None:
        try:
            cache.delete(self._cache_key(time.time() if now is None else now))
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
