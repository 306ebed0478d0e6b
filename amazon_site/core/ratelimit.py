"""Sliding-window rate limits: at most N hits in any ``period`` seconds, counted in the cache.

A limit is a setting such as ``"5/15min"``: at most 5 hits in any 15 minutes.
Each key keeps a log of its hits' times, so the window truly slides: hits
straddling a boundary add up, and a hit is let through again exactly when
the oldest one counted leaves the window (fixed windows let twice the limit
through within seconds around each boundary; a weighted counter still lets
almost twice through in some windows).

The hit is decided, and recorded, in one atomic step taken before the work
it guards, so parallel requests cannot all pass on the same count; a refused
hit is not recorded, so refusals do not push the wait further out.

- On Valkey the log is a sorted set, changed by one Lua script: atomic for
  every process behind that Valkey.
- On any other cache (the local-memory default) it is a list in that cache,
  changed under a lock of this process: exact per process, as local memory is.

With the cache down a hit cannot be counted and the limit fails open:
shoppers are never locked out by an outage, at the price of no limit while
it lasts.
"""
import hashlib
import logging
import math
import re
import threading
import time
import uuid
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


# Prune what left the window, then record the hit only if the window has room.
# KEYS[1]: the log; ARGV: now, period, limit, a unique member. Returns 1 if let through.
_HIT_SCRIPT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) * 1000) + 1000)
return 1
"""


class _ValkeyLog:
    """Hit logs as sorted sets scored by time, on the default cache's Valkey connection."""

    def _client(self):
        from django_redis import get_redis_connection

        return get_redis_connection("default")

    def hit(self, key, now, rate) -> bool:
        member = f"{now!r}:{uuid.uuid4().hex[:12]}"
        return bool(self._client().eval(_HIT_SCRIPT, 1, key, repr(now), rate.period, rate.limit, member))

    def times(self, key, now, rate) -> list[float]:
        return [score for _, score in self._client().zrangebyscore(key, f"({now - rate.period!r}", "+inf", withscores=True)]

    def reset(self, key) -> None:
        self._client().delete(key)


class _CacheLog:
    """Hit logs as lists in the cache, changed under this process's lock."""

    _lock = threading.Lock()

    def hit(self, key, now, rate) -> bool:
        with self._lock:
            times = self.times(key, now, rate)
            if len(times) >= rate.limit:
                return False
            cache.set(key, sorted([*times, now]), timeout=rate.period + 1)
            return True

    def times(self, key, now, rate) -> list[float]:
        return [at for at in cache.get(key) or [] if at > now - rate.period]

    def reset(self, key) -> None:
        cache.delete(key)


def _log():
    return _ValkeyLog() if settings.CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache" else _CacheLog()


@dataclass(frozen=True)
class Limit:
    """One log of hits: what it limits (scope), whose it is (key), and its rate."""

    scope: str
    key: str
    rate: Rate

    @property
    def _cache_key(self) -> str:
        # Hashed: usernames and IPs may hold characters cache backends refuse.
        digest = hashlib.sha256(self.key.encode()).hexdigest()[:32]
        return f"store:ratelimit:{self.scope}:{digest}"

    def _times(self, now: float) -> list[float]:
        """The hits inside the window ending at ``now``, oldest first (none with the cache down)."""
        try:
            return sorted(_log().times(self._cache_key, now, self.rate))
        except Exception:  # the cache is down: fail open
            logger.warning("rate limit %s not read: cache unavailable", self.scope)
            return []

    def count(self, now: float | None = None) -> int:
        """Hits in the last ``period`` seconds."""
        return len(self._times(time.time() if now is None else now))

    def exceeded(self, now: float | None = None) -> bool:
        """True once the window holds ``limit`` hits, so the next would be refused; asking counts nothing."""
        return enabled() and self.count(now) >= self.rate.limit

    def hit(self, now: float | None = None) -> bool:
        """Count one hit if the window has room; False, counting nothing, when it is full."""
        if not enabled():
            return True
        try:
            return _log().hit(self._cache_key, time.time() if now is None else now, self.rate)
        except Exception:
            logger.warning("rate limit %s not counted: cache unavailable", self.scope)
            return True

    def retry_after(self, now: float | None = None) -> int:
        """Seconds until a hit would be let through again, if nothing else is counted meanwhile."""
        now = time.time() if now is None else now
        times = self._times(now)
        if len(times) < self.rate.limit:
            return 1
        # Room opens when the hit that makes the window full leaves it.
        return max(1, math.ceil(times[len(times) - self.rate.limit] + self.rate.period - now))

    def reset(self) -> None:
        try:
            _log().reset(self._cache_key)
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
