"""Shared set-up for the benchmark scripts: a throw-away database and peak memory."""

import contextlib
import os
import resource
import tempfile
import time
from pathlib import Path


def cpu_probe_ms() -> float:
    """How long a fixed pure-Python loop takes here, best of five, in milliseconds. A
    shared virtual machine's speed drifts by tens of percent over minutes, so the
    benchmarks print this beside their figures (lower is faster)."""
    timings = []
    for _ in range(5):
        start = time.process_time()
        squares = {str(i): i * i for i in range(200_000)}
        sum(squares.values())
        timings.append(time.process_time() - start)
    return 1000 * min(timings)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextlib.contextmanager
def throwaway_database(prefix: str):
    """Set Django up and create a fresh database on the current DATABASE_URL's server
    (<prefix><pid> on Postgres, a temporary file on SQLite); drop it afterwards, so a
    benchmark never touches real data. Yields a temporary folder."""
    # Test settings (fast hashing, no HTTPS redirect) on whatever DATABASE_URL says.
    os.environ["DJANGO_SETTINGS_MODULE"] = "cs_platform.test_settings"
    import django

    django.setup()
    from django.db import connection

    folder = Path(tempfile.mkdtemp(prefix=prefix))
    if connection.vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] = str(folder / "bench.sqlite3")
    else:  # never test_<name>: a test run may be using that one right now
        connection.settings_dict["TEST"]["NAME"] = f"{prefix}{os.getpid()}".rstrip("_")
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        yield folder
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def current_database_url() -> str:
    """DATABASE_URL of the database Django is connected to now (for child processes,
    e.g. a worker or gunicorn, that must see the same throw-away test database)."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor != "postgresql":
        raise RuntimeError("child processes can only share a Postgres test database")
    return (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    )
