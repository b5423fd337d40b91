"""How fast the owner's pages render server-side on a scored shop, with query counts.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        python -m customers.pagebench --customers 100000 --orders 1000000

Builds a throw-away database with the scoring benchmark's generated shop, runs the
nightly scoring (which also fills the follow-up queue), then renders each page
--repeat times through Django's test client (the full middleware stack, no network)
and prints p50/p95 milliseconds and the number of SQL queries per page. The naive
baseline is the old start page's approach: counting and summing the tables live on
every request instead of reading the run's summary.
"""

import argparse
import multiprocessing
import random
import statistics
import time

from cs_platform.benchmarking import throwaway_database

LIST_VARIANTS = [
    "",
    "?sort=clv",
    "?sort=churn",
    "?sort=health",
    "?sort=-health",
    "?sort=contact",
    "?sort=-contact",
    "?sort=name",
    "?health=red",
    "?health=green&sort=clv",
    "?segment=Champions",
    "?segment=At+risk&sort=churn",
    "?stage=active",
    "?nps=none&sort=contact",
    "?q=customer+4242",
    "?q=customer+42&sort=clv",
    "?q=example.com&health=yellow",  # worst case: the search matches every customer
    "?page=100",
    "?sort=clv&page=1500",
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def measure(client, url: str, repeat: int) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):  # warm caches, as on a server that has been up a while
        assert client.get(url).status_code == 200, url
    times, queries = [], 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, url
        queries = len(captured)
    return statistics.median(times), percentile(times, 0.95), queries


def naive_dashboard() -> None:
    """Live aggregates over the tables (what a dashboard without a run summary does)."""
    from datetime import timedelta

    from django.db.models import Count, Sum
    from django.utils import timezone

    from customers.models import Customer, Order
    from metrics.models import CustomerScore

    since = timezone.now() - timedelta(days=30)
    Customer.objects.count()
    Customer.objects.filter(lifecycle_stage__in=["active", "at_risk"]).count()
    Order.objects.filter(occurred_at__gte=since).aggregate(Sum("amount"))
    current = CustomerScore.objects.filter(run__is_current=True)
    current.aggregate(Sum("clv"), Sum("value_at_risk"))
    list(current.values("health_band").annotate(n=Count("id")))
    list(Customer.objects.values("lifecycle_stage").annotate(n=Count("id")))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with throwaway_database("cs_page_bench_"):
        run(args)


def run(args) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from customers.followups.nightly import score_and_refresh
    from customers.models import Customer
    from metrics.bench import AS_OF, load

    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        pool.apply(load, ((connection.settings_dict["NAME"], args.customers, args.orders),))
    with connection.cursor() as cursor:  # names and addresses to search for
        cursor.execute(
            "UPDATE customers_customer SET name = 'Customer ' || id, "
            "email = 'c' || id || '@example.com', lifecycle_stage = 'active'"
        )
        cursor.execute("VACUUM ANALYZE customers_customer")  # the UPDATE left dead rows
    run = score_and_refresh(as_of=AS_OF)
    print(
        f"database: {connection.vendor}; {args.customers:,} customers, {args.orders:,} orders, "
        f"scored in {time.perf_counter() - started:.0f} s (set-up, not timed below); "
        f"{run.customers:,} scores; each page {args.repeat}× after 2 warm-ups"
    )
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "x")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    ids = list(Customer.objects.values_list("id", flat=True)[:: max(1, args.customers // 20)])
    rows = [("dashboard /", *measure(client, "/", args.repeat))]
    rows.append(("follow-up queue /followups/", *measure(client, "/followups/", args.repeat)))
    for variant in LIST_VARIANTS:
        rows.append(
            (
                f"customers /customers/{variant}",
                *measure(client, f"/customers/{variant}", args.repeat),
            )
        )
    detail = [
        measure(client, f"/customers/{i}/", max(3, args.repeat // 4))
        for i in random.Random(1).sample(ids, 10)
    ]
    rows.append(
        (
            "customer page, 10 customers",
            statistics.median(d[0] for d in detail),
            max(d[1] for d in detail),
            max(d[2] for d in detail),
        )
    )
    width = max(len(r[0]) for r in rows)
    print(f"{'page':<{width}}  {'p50 ms':>7}  {'p95 ms':>7}  queries")
    for name, p50, p95, queries in rows:
        print(f"{name:<{width}}  {p50:7.1f}  {p95:7.1f}  {queries:7d}")
    worst = max(rows, key=lambda r: r[2])
    print(f"slowest p95: {worst[2]:.1f} ms ({worst[0]})")
    times = []
    for _ in range(max(3, args.repeat // 4)):
        start = time.perf_counter()
        naive_dashboard()
        times.append((time.perf_counter() - start) * 1000)
    print(
        f"naive baseline, live aggregates for the dashboard's numbers: "
        f"p50 {statistics.median(times):.1f} ms (vs the dashboard above, which reads the "
        f"run summary)"
    )


if __name__ == "__main__":
    main()
