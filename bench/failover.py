"""Failover test: load.py's shopper mix against the store on a high-availability set, killing its servers mid-run.

Builds ``cluster.py``'s set in a temporary directory on free ports (a
pg_auto_failover monitor and two PostgreSQL 15 nodes, a PgBouncer in
transaction mode in front of each, a Valkey primary and replica under three
Sentinels; about 10 s), migrates and seeds ``--products`` (20,000) on it,
starts gunicorn with ``served.py``'s production settings and the set's
environment (issue 19's contract):

- ``DATABASE_URL``: both PgBouncers, ``target_session_attrs=read-write``;
- ``DATABASE_REPLICA_URLS``: the same in the other order, ``prefer-standby``;
- ``DATABASE_POOLER=pgbouncer``;
- ``VALKEY_URL=redis://store-valkey/0`` and ``VALKEY_SENTINELS`` (host:port ...),

then runs load.py's virtual shoppers (``--users``, its mix, accounts, hot
products and client) for ``--warmup`` + ``--duration`` seconds. A third of the
way through the measured run it SIGKILLs the primary PostgreSQL "machine" (its
pg_autoctl keeper, PostgreSQL and PgBouncer) and waits for the store's URL to
commit on the other node; at two thirds it SIGKILLs the Valkey primary and
waits for the Sentinels' new one. Then it stops gunicorn, settles unfinished
checkouts as beat would (``settle_unfinished_checkouts`` with
``ORDER_UNFINISHED_CHECKOUT_MINUTES=0``: an order whose charge went through
while the database went away is paid by it, not lost), audits on the surviving
primary and tears the set down (also on Ctrl-C or an error).

    .venv/bin/python bench/failover.py [--duration 180] [--products 20000] [--users 16] [--keep] [--log FILE]

Run as root on a machine with Debian's ``postgresql-15``,
``postgresql-15-auto-failover``, ``pgbouncer``, ``redis-server`` and
``redis-sentinel`` (.ci/run installs them): the set's PostgreSQL servers run as
the ``postgres`` user. Nothing shared is touched: no server on 5432 or 6379 is
used. The store must speak the contract (issue 19's replica router, pooler and
Sentinel settings): PgBouncer refuses the ``options`` startup parameter a store
without ``DATABASE_POOLER`` sends, as it would in production. ``--keep``
leaves the set's directory (its servers' logs, the charges file) behind;
gunicorn's log goes to ``--log``.

Charges are made by ``ledger.py``'s gateway: the test gateway, which also
writes each charge to a file, the way a card processor keeps books of its own
beyond the store's servers. Prints one JSON line, with among others:

- ``browse_availability``: the share of browse requests (home, category,
  product, search) answered 2xx over the measured run;
- ``checkout_unavailable_s``: from the PostgreSQL kill to the next checkout
  answered 201 (the rest of the run if none);
- ``oversold`` and ``books_unbalanced``: load.py's audit (with the rest of it
  under ``audit``);
- ``lost_paid_orders``: orders charged at the gateway (its file) that are not
  paid (or later) and not refunded, or are missing, after the settling;
  ``charged_unpaid_before_settling`` counts them before it;
- ``duplicate_charges``: charges beyond the first per idempotency key (order)
  at the gateway, plus successful charge rows beyond the first per order;
- ``per_s`` and ``ok_per_s`` (answers below 500) before the PostgreSQL kill,
  between the kills and after the Valkey kill, and ``timeline_5s``
  ([seconds into the run, answers below 500, others] per 5 s);
- ``postgres_failover_s`` and ``valkey_failover_s``: what the set took, from
  the kill to a write through the store's own URL; ``kills`` their times.

Goals (exit status 1 if one is missed): ``browse_availability`` >= 0.999,
``checkout_unavailable_s`` <= 30, and ``oversold``, ``lost_paid_orders``,
``duplicate_charges``, ``books_unbalanced`` all 0.
"""
import argparse
import asyncio
import importlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cluster import Cluster, missing_programs  # noqa: E402
from served import REPO, add_shopper_arguments, collectstatic, free_port, gunicorn, raise_on_signals, server_env  # noqa: E402

BROWSE = ("home", "category", "product", "search")
GATEWAY = "bench.ledger.LedgerGateway"
COUNTERS = ("oversold", "lost_paid_orders", "duplicate_charges", "books_unbalanced")  # each must be 0


def log(message):
    print(f"[failover] {message}", file=sys.stderr, flush=True)


def keep_timeline(stats):
    """Each measured answer with its time as well: the rates around the kills come from it."""
    timeline, record = [], stats.record

    def timed(kind, outcome, ms):
        timeline.append((time.monotonic(), kind, outcome))
        record(kind, outcome, ms)

    stats.record = timed
    return timeline


def ok(outcome):
    return isinstance(outcome, int) and outcome < 500


def breaker(cluster, args, kills):
    """The kills, as ``load.drive``'s companion: PostgreSQL's primary at 1/3 of the run, Valkey's at 2/3."""

    async def run():
        started = kills["measuring"] = time.monotonic()
        await asyncio.sleep(args.duration / 3)
        kills["postgres"] = await asyncio.to_thread(kill_postgres, cluster)
        await asyncio.sleep(max(0.0, started + args.duration * 2 / 3 - time.monotonic()))
        kills["valkey"] = await asyncio.to_thread(kill_valkey, cluster)

    return run


def kill_postgres(cluster):
    at = time.monotonic()
    node = cluster.kill_primary()
    event = {"at": at, "utc": iso(node.killed_at), "node": node.name}
    try:
        event["failover_s"] = round(cluster.wait_for_primary(node), 2)
    except RuntimeError as error:
        event["error"] = str(error)
    return event


def kill_valkey(cluster):
    at = time.monotonic()
    port, killed_at = cluster.kill_valkey_primary()
    event = {"at": at, "utc": iso(killed_at), "port": port}
    try:
        event["failover_s"] = round(cluster.wait_for_valkey_primary(port, killed_at), 2)
    except RuntimeError as error:
        event["error"] = str(error)
    return event


def iso(epoch):
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="milliseconds")


def rates(timeline, measure_start, measure_end, kills):
    """Answers per second (all, and below 500) before the PostgreSQL kill, between the kills, after the Valkey kill."""
    marks = [measure_start] + [kills[name]["at"] for name in ("postgres", "valkey") if name in kills] + [measure_end]
    names = ["before_postgres_kill", "after_postgres_kill", "after_valkey_kill"][: len(marks) - 1]
    per_s, ok_per_s = {}, {}
    for name, start, end in zip(names, marks, marks[1:]):
        window = [outcome for at, _, outcome in timeline if start <= at < end]
        seconds = max(end - start, 1e-9)
        per_s[name] = round(len(window) / seconds, 1)
        ok_per_s[name] = round(sum(ok(outcome) for outcome in window) / seconds, 1)
    return per_s, ok_per_s


def buckets(timeline, measure_start, size=5):
    counts = {}
    for at, _, outcome in timeline:
        bucket = counts.setdefault(int((at - measure_start) // size) * size, [0, 0])
        bucket[0 if ok(outcome) else 1] += 1
    return [[start, *counts[start]] for start in sorted(counts)]


def checkout_gap(timeline, kills, measure_end):
    """Seconds from the PostgreSQL kill to the next checkout answered 201 (the rest of the run if none); recovered?"""
    if "postgres" not in kills:
        return None, False
    killed = kills["postgres"]["at"]
    placed = [at for at, kind, outcome in timeline if kind == "checkout" and outcome == 201 and at >= killed]
    return (round(min(placed) - killed, 2), True) if placed else (round(measure_end - killed, 2), False)


def settle(env):
    """Beat's settling job, at once: checkouts cut off between charging and paying are asked about now."""
    answer = subprocess.run(
        [sys.executable, "manage.py", "settle_unfinished_checkouts"], cwd=REPO, capture_output=True, text=True,
        env={**env, "ORDER_UNFINISHED_CHECKOUT_MINUTES": "0"},
    )
    if answer.returncode != 0:
        log(f"settling failed: {answer.stderr[-2000:]}")
    return answer.stdout.strip() or answer.stderr.strip().splitlines()[-1:]


def read_charges(path):
    """What ``ledger.py``'s gateway wrote: [{"key", "succeeded", "amount", "at"}]."""
    with open(path) as books:
        return [json.loads(line) for line in books if line.strip()]


def charge_audit(connection, run_started, user_ids, charges):
    """Charges at the gateway against the store's orders: lost paid orders, duplicate charges."""
    from orders.models import PAID_STATUSES

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT o.number, o.status,
                   count(p.id) FILTER (WHERE p.kind = 'charge' AND p.outcome = 'succeeded'),
                   count(p.id) FILTER (WHERE p.kind = 'refund' AND p.outcome = 'succeeded')
            FROM orders_order o LEFT JOIN orders_payment p ON p.order_id = o.id
            WHERE o.created_at >= %s AND o.user_id = ANY(%s) GROUP BY o.number, o.status
            """,
            [run_started, user_ids],
        )
        orders = {number: (status, charged, refunded) for number, status, charged, refunded in cursor.fetchall()}
    charged = {}
    for charge in charges:
        if charge["succeeded"]:
            charged[charge["key"]] = charged.get(charge["key"], 0) + 1
    lost = []
    for key in charged:
        status, _, refunded = orders.get(key.removeprefix("order-"), (None, 0, 0))
        if status not in PAID_STATUSES and not refunded:
            lost.append(key)
    duplicates = sum(n - 1 for n in charged.values()) + sum(max(0, c - 1) for _, c, _ in orders.values())
    unbilled = sum(
        status in PAID_STATUSES and f"order-{number}" not in charged for number, (status, _, _) in orders.items()
    )
    return lost, duplicates, {"gateway_charges": len(charges), "gateway_succeeded": sum(charged.values()),
                              "paid_without_gateway_charge": unbilled}


def run(args, cluster, load):
    from django.db import connection

    rng = random.Random(args.seed)
    log("preparing: catalog sample, shoppers, hot stock, collectstatic")
    catalog = load.sample_catalog(rng, args.sample)
    hot = [product["id"] for product in catalog[: args.hot]]
    categories = list(load.Category.objects.values_list("slug", flat=True))
    shoppers = load.ensure_shoppers(args.shoppers)
    user_ids = [shopper["user_id"] for shopper in shoppers]
    load.stock_hot_products(rng, hot)

    port = free_port()
    env = server_env(port, args.workers)
    books = cluster.dir / "charges.jsonl"
    books.touch()
    env.update(cluster.store_env(), PAYMENT_GATEWAY=GATEWAY, PAYMENT_LEDGER=str(books))
    collectstatic(env)
    start_inventory = load.inventory_snapshot()
    run_started = load.db_now()
    connection.close()  # idle through the run, and its server dies: the audit opens a new one

    stats, kills = load.Stats(), {}
    timeline = keep_timeline(stats)
    log(f"starting gunicorn on port {port} with {args.workers} workers, log {args.log}")
    with gunicorn(env, port, args.log) as ready:
        log(f"ready: {json.dumps(ready['checks'])}")
        kill = breaker(cluster, args, kills)
        elapsed = asyncio.run(load.drive(args, port, catalog, hot, categories, shoppers, stats, kill))
    measure_start = kills.pop("measuring")
    measure_end = measure_start + elapsed
    for sample in stats.samples:
        log(f"error: {sample}")

    charges = read_charges(books)
    unpaid_before, _, _ = charge_audit(connection, run_started, user_ids, charges)
    settled = settle(env)
    lost, duplicates, charge_info = charge_audit(connection, run_started, user_ids, charges)
    checks, info = load.audit(run_started, user_ids, start_inventory)
    browse = [outcome for _, kind, outcome in timeline if kind in BROWSE]
    browse_ok = sum(1 for outcome in browse if isinstance(outcome, int) and 200 <= outcome < 300)
    gap, recovered = checkout_gap(timeline, kills, measure_end)
    per_s, ok_per_s = rates(timeline, measure_start, measure_end, kills)
    total, endpoints = load.summarise(stats, elapsed)
    result = {
        "products": args.products,
        "duration_s": round(elapsed, 1),
        "users": args.users,
        "workers": args.workers,
        "cluster_up_s": round(cluster.started_in, 1),
        "seed_s": round(args.seed_s, 1),
        "browse_availability": round(browse_ok / len(browse), 5) if browse else None,
        "browse_requests": len(browse),
        "browse_not_2xx": len(browse) - browse_ok,
        "checkout_unavailable_s": gap,
        "checkout_recovered": recovered,
        "oversold": checks["oversold"],
        "lost_paid_orders": len(lost),
        "duplicate_charges": duplicates,
        "books_unbalanced": checks["books_unbalanced"],
        "charged_unpaid_before_settling": len(unpaid_before),
        "postgres_failover_s": kills.get("postgres", {}).get("failover_s"),
        "valkey_failover_s": kills.get("valkey", {}).get("failover_s"),
        "kills": {name: {key: value for key, value in event.items() if key != "at"} | {
            "run_s": round(event["at"] - measure_start, 1)} for name, event in kills.items()},
        "requests": total,
        "per_s": per_s,
        "ok_per_s": ok_per_s,
        "timeline_5s": buckets(timeline, measure_start),
        "audit": checks,
        "orders": info,
        "charges": charge_info | {"lost": lost[:10], "settling": settled},
        "endpoints": endpoints,
        "server_log": args.log,
    }
    goals = {
        "browse_availability": result["browse_availability"] is not None and result["browse_availability"] >= 0.999,
        "checkout_unavailable_s": recovered and gap <= 30,
        **{name: result[name] == 0 for name in COUNTERS},
    }
    result["goals_missed"] = [name for name, met in goals.items() if not met]
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_shopper_arguments(parser)
    parser.add_argument("--duration", type=float, default=180, help="Seconds measured; the kills at 1/3 and 2/3.")
    parser.add_argument("--products", type=int, default=20_000, help="Products seeded.")
    parser.add_argument("--log", default=os.path.join(tempfile.gettempdir(), "failover-gunicorn.log"),
                        help="gunicorn's log.")
    parser.add_argument("--keep", action="store_true", help="Leave the set's directory (logs, charges) behind.")
    args = parser.parse_args()
    if missing := missing_programs():
        raise SystemExit(f"Install {', '.join(missing)} first (Debian packages; see .ci/run).")
    if os.geteuid() != 0:
        raise SystemExit("Run as root: the set's PostgreSQL servers are started as the postgres user.")
    if args.shoppers < args.users:
        raise SystemExit("--shoppers must be at least --users.")

    raise_on_signals()
    with Cluster(keep=args.keep) as cluster:
        args.seed_s = cluster.seed(args.products)
        # This script's own Django (set up by importing load.py): the primary directly, for setup and audit.
        for key in ("DATABASE_REPLICA_URLS", "DATABASE_POOLER", "VALKEY_SENTINELS"):
            os.environ.pop(key, None)
        os.environ.update(cluster.direct_env())
        load = importlib.import_module("load")
        result = run(args, cluster, load)
    print(json.dumps(result))
    if result["goals_missed"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
