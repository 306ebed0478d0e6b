"""Settings pointing at a service that is down, for the tests of what the site does without it."""
import psycopg
from django.db import OperationalError, connection

DEAD_VALKEY = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
    }
}


def refuse_connection(*args, **kwargs):
    """In place of ``connection.cursor``: the database server refuses connections."""
    raise OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")


def drop_this_connection():
    """The PostgreSQL server ends this test's own connection, as a server going away mid-transaction does."""
    settings = connection.settings_dict
    with psycopg.connect(
        dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"], port=settings["PORT"], autocommit=True
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])
