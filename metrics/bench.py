"""Benchmark the nightly scoring run against the I/O floor and a naive ORM loop.

    python -m metrics.bench --customers 100000 --orders 1000000
    DATABASE_URL=postgres://... python -m metrics.bench --customers 1000000 --orders 10000000

Builds a throw-away database (test_<name> on Postgres, a temp file on SQLite) with a
generated shop (fixed seed), then prints wall time per stage and peak memory.
"""

import argparse
import multiprocessing
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from cs_platform.benchmarking import peak_rss_mb, throwaway_database

AS_OF = date(2026, 6, 30)


def generate(customers: int, orders: int, seed: int = 11) -> dict:
    """A shop where each customer buys at a gamma-distributed rate until a random end."""
    rng = np.random.default_rng(seed)
    as_of = np.datetime64(AS_OF, "s") + np.timedelta64(1, "D")
    start = rng.integers(0, 700, customers)  # signup, days before as_of
    weight = rng.gamma(0.7, 1.0, customers)
    counts = rng.multinomial(orders - customers, weight / weight.sum()) + 1
    owner = np.repeat(np.arange(customers), counts)
    active_days = np.maximum(1, (start * rng.uniform(0.2, 1.0, customers)).astype(int))
    offset = (rng.random(orders) * active_days[owner]).astype(int)
    offset[np.r_[0, np.cumsum(counts)[:-1]]] = 0  # first order on signup day
    occurred = as_of - (start[owner] - offset).astype("timedelta64[D]") - np.timedelta64(14, "h")
    return {
        "customers": pd.DataFrame({"start": start}),
        "orders": pd.DataFrame(
            {
                "customer": owner,
                "occurred_at": occurred,
                "amount": np.round(rng.gamma(2.0, 25.0, orders), 2),
            }
        ),
        "interactions": pd.DataFrame(
            {
                "customer": rng.integers(0, customers, customers // 2),
                "days_ago": rng.integers(0, 400, customers // 2),
                "ticket": rng.random(customers // 2) < 0.1,
            }
        ),
    }


def load(args_tuple):
    """Child process: generate and COPY the shop into the benchmark database."""
    db_name, customers, orders = args_tuple
    import django

    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from cs_platform.bulk import upsert
    from customers.imports.load import with_customer_defaults
    from customers.models import Customer, Interaction, Order

    connection.settings_dict["NAME"] = db_name
    shop = generate(customers, orders)
    now = timezone.now()
    frame = pd.DataFrame({"external_id": [f"b{i}" for i in range(customers)]})
    frame["signup_date"] = pd.Timestamp(AS_OF) - pd.to_timedelta(
        shop["customers"]["start"], unit="D"
    )
    with transaction.atomic():
        upsert(Customer, with_customer_defaults(frame, now), key=None)
        first_id = Customer.objects.order_by("id").values_list("id", flat=True).first()
        o = shop["orders"]
        upsert(
            Order,
            pd.DataFrame(
                {
                    "customer_id": o["customer"] + first_id,
                    "external_id": "o" + pd.Series(np.arange(len(o))).astype(str),
                    "occurred_at": pd.to_datetime(o["occurred_at"]).dt.tz_localize("UTC"),
                    "amount": o["amount"].map("{:.2f}".format),
                    "currency": "USD",
                    "kind": "purchase",
                }
            ),
            key=None,
        )
        i = shop["interactions"]
        when = pd.Timestamp(AS_OF, tz="UTC") - pd.to_timedelta(i["days_ago"], unit="D")
        upsert(
            Interaction,
            pd.DataFrame(
                {
                    "customer_id": i["customer"] + first_id,
                    "kind": np.where(i["ticket"], "ticket", "usage"),
                    "direction": "inbound",
                    "occurred_at": when,
                    "subject": "",
                    "body": "",
                    "opened_at": when.where(i["ticket"]),
                    "resolved_at": (when + pd.Timedelta(hours=20)).where(i["ticket"]),
                }
            ),
            key=None,
        )
    connection.close()


def naive_loop(fitted_params, customers: int) -> float:
    """Per customer: ORM query of its orders, RFM in Python, one prediction, one INSERT."""
    from django.db import transaction

    from customers.models import Customer
    from metrics import clv
    from metrics.models import CustomerScore, ScoringRun

    run = ScoringRun.objects.create(as_of=date(2000, 1, 1), status="failed")
    started = time.perf_counter()
    with transaction.atomic():
        for customer in Customer.objects.order_by("id")[:customers]:
            days = sorted({o.occurred_at.date() for o in customer.orders.all()})
            if not days:
                continue
            x, t_x, big_t = len(days) - 1, (days[-1] - days[0]).days, (AS_OF - days[0]).days
            expected = float(clv.expected_purchases(fitted_params, 90, x, t_x, big_t))
            CustomerScore.objects.create(
                run=run, customer=customer, as_of=AS_OF, frequency=x, expected_purchases=expected
            )
    seconds = time.perf_counter() - started
    run.delete()
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--naive-customers", type=int, default=500)
    args = parser.parse_args()

    with throwaway_database("cs_score_bench_") as folder:
        run_benchmark(args, folder)


def run_benchmark(args, folder: Path) -> None:
    from django.db import connection

    from metrics import tables
    from metrics.clv import BGNBDParams
    from metrics.models import CustomerScore, ScoringRun
    from metrics.run import run_scoring

    t0 = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        pool.apply(load, ((connection.settings_dict["NAME"], args.customers, args.orders),))
    print(
        f"database: {connection.vendor}; loaded {args.customers:,} customers, "
        f"{args.orders:,} orders "
        f"in {time.perf_counter() - t0:.0f} s (generation, not timed below)"
    )

    t0 = time.perf_counter()
    orders = tables.read_orders()
    read_seconds = time.perf_counter() - t0
    print(f"I/O floor, read {len(orders):,} orders into pandas: {read_seconds:.1f} s")
    del orders

    t0 = time.perf_counter()
    run = run_scoring(as_of=AS_OF)
    total = time.perf_counter() - t0
    print(
        f"full scoring run: {total:.1f} s for {run.customers:,} customers; "
        f"peak RSS {peak_rss_mb():,.0f} MB"
    )
    for stage, seconds in run.timings.items():
        print(f"  {stage:<22}{seconds:8.1f} s")
    churn = run.model_metrics["churn"]
    print(f"  churn model: {churn['method']} auc={churn.get('auc')} brier={churn.get('brier')}")

    scores = pd.DataFrame.from_records(CustomerScore.objects.filter(run=run).values())
    dummy = ScoringRun.objects.create(as_of=date(2000, 1, 2), status="failed")
    t0 = time.perf_counter()
    tables.write_scores(dummy, scores.drop(columns=["id", "run_id"]))
    write_seconds = time.perf_counter() - t0
    print(f"I/O floor, write {len(scores):,} score rows: {write_seconds:.1f} s")
    dummy.delete()

    params = BGNBDParams(**run.model_metrics["bgnbd"])
    seconds = naive_loop(params, args.naive_customers)
    print(
        f"naive per-customer ORM loop: {seconds:.2f} s for {args.naive_customers} customers -> "
        f"{seconds / args.naive_customers * run.customers:,.0f} s extrapolated to "
        f"{run.customers:,} "
        f"(and it computes far less)"
    )


if __name__ == "__main__":
    main()
