"""Sessions in Valkey, written through to the database, that outlive a database outage.

Django's ``cached_db`` store writes the database first: with the database (its
primary) unreachable, any page that changes the session fails, even one that
needs nothing else from the database. This store keeps the session in the
cache alone then, with a warning; loading already asks the cache first. A
session first saved during the outage has no row yet, so it is marked: its
next save once the database is back inserts the row instead of failing as a
deleted session (Django's ``UpdateError``). Every other error is raised as before.
"""
import logging

from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, UpdateError
from django.db import InterfaceError, OperationalError
from django.utils.crypto import get_random_string

logger = logging.getLogger(__name__)

UNREACHABLE = (OperationalError, InterfaceError)
CACHE_ONLY_SUFFIX = ":cache-only"


class SessionStore(cached_db.SessionStore):
    def save(self, must_create=False):
        try:
            super().save(must_create)
        except UpdateError as error:
            # Django reports any database error while updating as UpdateError; the database's own is its context.
            if isinstance(error.__context__, UNREACHABLE):
                self._keep_in_cache_only(error.__context__, new=False)
            elif self._cache.get(self.cache_key + CACHE_ONLY_SUFFIX):
                super().save(must_create=True)
                self._cache.delete(self.cache_key + CACHE_ONLY_SUFFIX)
            else:
                raise
        except UNREACHABLE as error:
            self._keep_in_cache_only(error, new=must_create)

    def _keep_in_cache_only(self, error, *, new):
        if self.session_key is None:  # a new session whose key could not be checked against the database
            self._session_key = self._new_key_in_cache()
            new = True
        if new:
            self._cache.set(self.cache_key + CACHE_ONLY_SUFFIX, True, self.get_expiry_age())
        self._cache.set(self.cache_key, self._session, self.get_expiry_age())
        logger.warning("The database is unreachable (%s): session kept in the cache only", error)

    def _new_key_in_cache(self) -> str:
        """A key no cached session has (32 random characters: a database-only session having it is out of reach)."""
        while True:
            key = get_random_string(32, VALID_KEY_CHARS)
            if self.cache_key_prefix + key not in self._cache:
                return key
