"""Benchmark: peak memory (RSS) of validating a CSV import of N order rows, in a fresh
process, against reading the same file whole with pandas (the naive floor the old
import stayed above).

    .venv/bin/python scripts/validation_memory.py --orders 1000000

Works in a temporary SQLite database with 100,000 customers; the file's last row is
invalid, so the import validates everything and writes nothing."""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PREPARE = """
import django; django.setup()
from django.core.management import call_command
from customers.bench import write_files
from customers.imports.load import import_csv
call_command("migrate", verbosity=0)
customers, orders = write_files(FOLDER, 100_000, ORDERS)
with open(orders, "a") as f:
    f.write("bad,c1,not-a-date,abc,USD,purchase\\n")
with open(customers, "rb") as f:
    assert import_csv("customers", f, "USD").ok
"""
VALIDATE = """
import time, django; django.setup()
from cs_platform.benchmarking import peak_rss_mb
from customers.imports.load import import_csv
start, t0 = peak_rss_mb(), time.perf_counter()
with open(FOLDER / "orders.csv", "rb") as f:
    report = import_csv("orders", f, "USD")
assert report.error_count == 2, report.errors  # the bad row's date and amount
print(f"validate {report.rows:,} rows: {time.perf_counter() - t0:.1f} s, "
      f"peak RSS {peak_rss_mb():,.0f} MB (Django and pandas loaded: {start:,.0f} MB)")
"""
WHOLE = """
import pandas as pd
from cs_platform.benchmarking import peak_rss_mb
frame = pd.read_csv(FOLDER / "orders.csv", dtype=str, keep_default_na=False)
print(f"naive floor, the file read whole with pandas: peak RSS {peak_rss_mb():,.0f} MB")
"""


def run(code: str, folder: Path, orders: int, env: dict) -> str:
    prologue = f"from pathlib import Path\nFOLDER = Path({str(folder)!r})\nORDERS = {orders}\n"
    done = subprocess.run(
        [sys.executable, "-c", prologue + code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(done.stderr)
    return done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "cs_platform.settings",
            # Production settings: with DEBUG on, Django keeps every query's SQL in memory.
            "DJANGO_DEBUG": "0",
            "SECRET_KEY": "validation-memory-benchmark-only-" + "x" * 40,
            "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
        }
        env.pop("REDIS_URL", None)
        run(PREPARE, folder, args.orders, env)
        size = (folder / "orders.csv").stat().st_size / 1e6
        print(f"orders file: {args.orders:,} rows, {size:.0f} MB")
        print(run(VALIDATE, folder, args.orders, env))
        print(run(WHOLE, folder, args.orders, env))


if __name__ == "__main__":
    main()
