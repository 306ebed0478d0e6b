"""Set-based writes: a temporary table of rows that one statement then joins.

Bulk paths (the catalog import, stock feeds) load their rows here and write
with ``INSERT ... SELECT`` / ``UPDATE ... FROM``, instead of a statement per
row. On PostgreSQL the rows go in by COPY and the table is dropped at commit,
so it holds no state between transactions (a transaction pooler may hand the
next one to another server connection).
"""
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection


def lift_statement_timeout(cursor) -> None:
    """No statement timeout for the rest of this session, for work that cannot run in
    one transaction (VACUUM, a seed's many batches), where SET LOCAL cannot reach.

    Refused through PgBouncer's transaction pooling: the session is a server
    connection that other clients' transactions get next, so it would lose
    the timeout the web's requests rely on.
    """
    if settings.DATABASE_POOLER:
        raise ImproperlyConfigured(
            "This job runs statements outside a transaction (VACUUM, index builds) with the statement timeout "
            "lifted, which PgBouncer's transaction pooling cannot keep to one session. Run it with DATABASE_URL "
            "naming PostgreSQL itself and DATABASE_POOLER unset (see the README, \"Running on several machines\")."
        )
    cursor.execute("SET statement_timeout = 0")


def temporary_table(name: str, columns: list[tuple[str, str]], rows, *, analyze=True) -> int:
    """Create temporary table ``name`` with ``columns`` (name, SQL type) holding ``rows``; returns how many.

    Must run inside a transaction: the table lives until it ends. ``analyze``
    gives the planner the table's statistics: without them it guesses and may
    join a batch to a million-row table by reading all of it. A caller that
    joins the table to no large one can skip it.
    """
    definition = ", ".join(f"{column} {kind}" for column, kind in columns)
    names = ", ".join(column for column, _ in columns)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Dropped at commit; dropped here too for a caller inside a longer transaction (a test's).
            cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
            cursor.execute(f"CREATE TEMPORARY TABLE {name} ({definition}) ON COMMIT DROP")
            with cursor.copy(f"COPY {name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            if analyze:
                cursor.execute(f"ANALYZE {name}")
        else:
            cursor.execute(f"DROP TABLE IF EXISTS temp.{name}")
            cursor.execute(f"CREATE TEMPORARY TABLE {name} ({definition})")
            rows = list(rows)
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {name} ({names}) VALUES ({placeholders})", rows)
            count = len(rows)
    return count
