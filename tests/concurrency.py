"""Running a job in many threads at once, for the race tests on PostgreSQL.

Each thread has its own database connection (Django's are per thread), so the
database's locks are what keeps the workers apart.
"""
import threading

from django.db import connection


def run_concurrently(workers, job):
    """Start ``job(i)`` in ``workers`` threads at once; return results and escaped exceptions."""
    start = threading.Barrier(workers)
    results, errors = [None] * workers, []

    def run(i):
        try:
            start.wait(timeout=30)
            results[i] = job(i)
        except Exception as error:  # noqa: BLE001  (collected and asserted on)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "workers hung: a deadlock or a lock that was never released"
    return results, errors
