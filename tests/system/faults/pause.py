"""Stops the next order-placing transaction before it commits, for tests/system/test_faults.py.

``orders.timeline.log_move`` writes the order's timeline row and outbox event, the
last writes of the transaction that places an order. Wrapped here, it does its
work, prints ``paused <backend pid> <process id>`` and sleeps: the process
holds the transaction open with the stock sold, the cart emptied and the order
inserted, until the test kills it. Only the process that removes the flag file
pauses, so a worker started after the kill places orders normally.
"""
import os
import time

from django.db import connection


def pause_inside_order_transaction(flag):
    from orders import timeline

    real_log = timeline.log_move

    def log_then_pause(order, source, **fields):
        real_log(order, source, **fields)
        try:
            os.unlink(flag)
        except FileNotFoundError:
            return
        assert connection.in_atomic_block
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend_pid = cursor.fetchone()[0]
        print(f"paused {backend_pid} {os.getpid()}", flush=True)
        while True:
            time.sleep(60)

    timeline.log_move = log_then_pause
