"""gunicorn settings for tests/system/test_faults.py: one sync worker whose next checkout pauses (see pause.py).

Used instead of the project's gunicorn.conf.py, which would share its
Prometheus directory with any other gunicorn on the machine.
"""
import os

workers = 1
worker_class = "sync"
timeout = 120  # the master must not kill the paused worker itself: the test does
accesslog = None
errorlog = "-"


def post_worker_init(worker):
    from tests.system.faults.pause import pause_inside_order_transaction

    pause_inside_order_transaction(os.environ["FAULT_PAUSE_FLAG"])
