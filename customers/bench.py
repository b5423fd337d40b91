"""Benchmark: import N order rows from CSV, against a naive one-INSERT-per-row baseline.

    python -m customers.bench --orders 1000000 [--customers 100000]

Runs in a throw-away test database (test_<name> on Postgres, a temp file on SQLite)
built from the current DATABASE_URL, so your data is never touched. Prints wall
time and peak memory (RSS) for each step.
"""

import argparse
import multiprocessing
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cs_platform.benchmarking import peak_rss_mb, throwaway_database


def write_files(folder: Path, customers: int, orders: int, seed: int = 7) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    customer_ids = np.char.add("c", np.arange(customers).astype(str))
    pd.DataFrame(
        {
            "external_id": customer_ids,
            "name": np.char.add("Customer ", np.arange(customers).astype(str)),
            "email": np.char.add(customer_ids, "@example.com"),
            "signup_date": "2024-01-01",
        }
    ).to_csv(folder / "customers.csv", index=False)
    start = np.datetime64("2024-01-01T00:00:00")
    stamps = start + rng.integers(0, 700 * 86400, orders).astype("timedelta64[s]")
    pd.DataFrame(
        {
            "external_id": np.char.add("o", np.arange(orders).astype(str)),
            "customer_external_id": customer_ids[rng.integers(0, customers, orders)],
            "occurred_at": pd.to_datetime(stamps).strftime("%Y-%m-%d %H:%M:%S"),
            "amount": np.round(rng.gamma(2.0, 20.0, orders), 2),
            "currency": "USD",
            "kind": "purchase",
        }
    ).to_csv(folder / "orders.csv", index=False)
    return folder / "customers.csv", folder / "orders.csv"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--naive-rows", type=int, default=2000)
    args = parser.parse_args()

    with throwaway_database("cs_bench_") as folder:
        run_benchmark(args, folder)


def run_benchmark(args, folder: Path) -> None:
    from django.conf import settings
    from django.db import connection, transaction

    from customers.imports.load import import_csv
    from customers.models import Customer, Order

    t0 = time.perf_counter()
    # Generate in a child process so the peak memory printed below is the import's.
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        customers_csv, orders_csv = pool.apply(write_files, (folder, args.customers, args.orders))
    print(
        f"database: {connection.vendor}; generated {args.customers:,} customers and "
        f"{args.orders:,} orders ({orders_csv.stat().st_size / 1e6:.0f} MB) in "
        f"{time.perf_counter() - t0:.1f} s"
    )

    for label, path, kind in [
        ("customers", customers_csv, "customers"),
        ("orders", orders_csv, "orders"),
        ("orders again (idempotent)", orders_csv, "orders"),
    ]:
        t0 = time.perf_counter()
        with open(path, "rb") as binary:
            report = import_csv(kind, binary, settings.ACCOUNT_CURRENCY)
        seconds = time.perf_counter() - t0
        assert report.ok, report.errors[:5]
        print(
            f"import {label:<26} {report.rows:>10,} rows {seconds:8.1f} s "
            f"{report.rows / seconds:>10,.0f} rows/s  peak RSS {peak_rss_mb():,.0f} MB  "
            f"({report.summary()})"
        )

    # Naive baseline: one ORM INSERT per row, as a simple loop would do it.
    rows = pd.read_csv(orders_csv, nrows=args.naive_rows, dtype=str)
    ids = dict(Customer.objects.values_list("external_id", "id"))
    t0 = time.perf_counter()
    with transaction.atomic():
        for row in rows.itertuples():
            Order.objects.create(
                external_id="naive-" + row.external_id,
                customer_id=ids[row.customer_external_id],
                occurred_at=pd.Timestamp(row.occurred_at, tz="UTC").to_pydatetime(),
                amount=row.amount,
                currency=row.currency,
                kind=row.kind,
            )
    seconds = time.perf_counter() - t0
    print(
        f"naive ORM loop {args.naive_rows:,} rows {seconds:.2f} s -> "
        f"{args.orders / args.naive_rows * seconds:,.0f} s extrapolated to "
        f"{args.orders:,} rows (no validation, no parsing)"
    )


if __name__ == "__main__":
    main()
