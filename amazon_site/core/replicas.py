"""Which read replicas are usable now: answering, and no further behind the primary than allowed.

Each process asks each replica for its lag at most every
``DATABASE_REPLICA_CHECK_SECONDS``, on the connection the reads then use,
and remembers the answer until then: a request pays for a check only when it
is due, and a dead replica costs one refused connection per interval, not one
per request. The lag is the age of the last transaction replayed while WAL
is still waiting to be replayed; a replica that has replayed everything it
received is not behind, however quiet the primary has been. A server that is
not in recovery (a replica promoted by a failover) has no lag.
"""
import logging
import random
import time

from django.conf import settings
from django.db import DatabaseError, connections

logger = logging.getLogger(__name__)

LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
    ELSE COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp()), 0)
END
"""

# alias -> (monotonic time of the check, usable)
_checked: dict[str, tuple[float, bool]] = {}


def lag_seconds(alias: str) -> float:
    with connections[alias].cursor() as cursor:
        cursor.execute(LAG_SQL)
        return float(cursor.fetchone()[0])


def too_far_behind(lag: float) -> bool:
    return lag > settings.DATABASE_REPLICA_MAX_LAG_SECONDS


def _usable(alias: str) -> bool:
    now = time.monotonic()
    checked = _checked.get(alias)
    if checked and now - checked[0] < settings.DATABASE_REPLICA_CHECK_SECONDS:
        return checked[1]
    try:
        lag = lag_seconds(alias)
    except DatabaseError as error:
        mark_unusable(alias, error)
        return False
    usable = not too_far_behind(lag)
    if not usable:
        logger.warning("Read replica %s is %.1f s behind, reading from the primary", alias, lag)
    _checked[alias] = (now, usable)
    return usable


def mark_unusable(alias: str, error: Exception) -> None:
    """Skip the replica until its next check is due."""
    logger.warning("Read replica %s does not answer, reading from the primary: %s", alias, error)
    _checked[alias] = (time.monotonic(), False)
    try:
        connections[alias].close()  # the next check opens a new connection
    except DatabaseError:
        pass  # already broken


def pick() -> str | None:
    """A usable replica's alias, chosen at random among them; None when none is."""
    usable = [alias for alias in settings.DATABASE_REPLICAS if _usable(alias)]
    return random.choice(usable) if usable else None


def forget() -> None:
    """Check every replica again at the next read (tests; a new configuration)."""
    _checked.clear()
