"""Load benchmark of public survey submissions: gunicorn on loopback, driven by wrk.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/0 \
        python -m feedback.bench --seconds 30 --repeat 5

Builds a throw-away database with one unused invitation per request, starts gunicorn
with the production settings (first with 1 worker as the naive baseline, then --repeat
times with --workers), fires POSTs with wrk for --seconds, and prints throughput,
p50/p99 latency, errors, and whether the number of stored answers equals the number of
successful submissions. Every answer is a 9 with a comment, so each one also creates a
follow-up item (the heaviest path). With REDIS_URL the rate-limit counters live in
Redis, as in production. Each line also shows a CPU probe (see
cs_platform.benchmarking.cpu_probe_ms): this machine's speed drifts. Needs wrk (Debian:
apt-get install wrk).
"""

import argparse
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cs_platform.benchmarking import cpu_probe_ms, current_database_url, throwaway_database

ROOT = Path(__file__).resolve().parent.parent
LUA = """
local count = 0
function setup(thread)
  thread:set("id", count)
  count = count + 1
end
function init(args)
  tokens = {}
  for line in io.lines("%(tokens)s") do tokens[#tokens + 1] = line end
  n = 0
  stride = tonumber(args[1])
end
function request()
  local token = tokens[id + n * stride + 1]
  n = n + 1
  return wrk.format("POST", "/s/" .. token .. "/", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken=%(cookie)s",
  }, "csrfmiddlewaretoken=%(form)s&score=9&comment=Quick+and+friendly")
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_invitations(count: int) -> list[str]:
    import pandas as pd
    from django.utils import timezone

    from cs_platform.bulk import upsert
    from customers.imports.load import with_customer_defaults
    from customers.models import Customer
    from feedback.models import Survey, SurveyInvitation, hash_token

    survey = Survey.objects.create(
        name="Bench", kind="nps", question_en="Recommend us?", link_days=30
    )
    now = timezone.now()
    upsert(
        Customer,
        with_customer_defaults(pd.DataFrame({"external_id": [f"b{i}" for i in range(count)]}), now),
        key=None,
    )
    tokens = [secrets.token_urlsafe(24) for _ in range(count)]
    ids = list(Customer.objects.order_by("id").values_list("id", flat=True))
    SurveyInvitation.objects.bulk_create(
        [
            SurveyInvitation(
                survey=survey,
                customer_id=c,
                token_hash=hash_token(t),
                sent_at=now,
                expires_at=now + timezone.timedelta(days=30),
            )
            for c, t in zip(ids, tokens, strict=True)
        ],
        batch_size=5000,
    )
    return tokens


def production_env() -> dict:
    """The production settings, as a real deployment runs them (DEBUG off, collected
    static files, Celery on Redis when REDIS_URL is set), except: plain HTTP on
    loopback (no TLS proxy in front) and the per-IP rate limit raised, because every
    request comes from one address."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cs_platform.settings",
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": current_database_url(),
        "CELERY_QUEUE": f"survey-bench-{os.getpid()}",
        "RATE_LIMIT_FACTOR": "1000000",
        "LOG_LEVEL": "WARNING",
    }


def run_wrk(workers: int, tokens: list[str], seconds: int, connections: int, folder: Path) -> dict:
    import urllib.request
    from http.cookiejar import CookieJar

    from customers.models import FollowUp
    from feedback.models import SurveyResponse

    port = free_port()
    access_log = folder / "access.log"
    env = production_env()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "cs_platform.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--access-logfile",
            str(access_log),
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        for _ in range(100):
            try:
                page = opener.open(f"http://127.0.0.1:{port}/s/{tokens[0]}/").read().decode()
                break
            except OSError:
                time.sleep(0.2)
        form = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        cookie = next(c.value for c in jar if c.name == "csrftoken")
        token_file = folder / f"tokens-{workers}.txt"
        token_file.write_text("\n".join(tokens[1:]) + "\n")
        script = folder / f"post-{workers}.lua"
        script.write_text(LUA % {"tokens": token_file, "cookie": cookie, "form": form})
        before = SurveyResponse.objects.count()
        followups_before = FollowUp.objects.count()
        threads = 2
        out = subprocess.run(
            [
                "wrk",
                "-t",
                str(threads),
                "-c",
                str(connections),
                "-d",
                f"{seconds}s",
                "--latency",
                "-s",
                str(script),
                f"http://127.0.0.1:{port}",
                "--",
                str(threads),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        server.terminate()
        server.wait(timeout=30)
    answered = sum(
        1 for line in access_log.read_text().splitlines() if '"POST ' in line and '" 200 ' in line
    )
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non_2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "workers": workers,
        "requests": total,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1),
        "p99": re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1),
        "non_2xx": non_2xx,
        "socket_errors": errors.group(1) if errors else "none",
        "stored": SurveyResponse.objects.count() - before,
        "followups": FollowUp.objects.count() - followups_before,
        "server_200": answered,
    }


def vacuum(table: str) -> None:
    """VACUUM ANALYZE, as autovacuum would have done between the sending and the answers
    (this machine's Postgres runs with autovacuum off). Without it the first touch of
    each freshly loaded page also rewrites it, and the run measures that instead."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {table}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=30)
    cores = os.cpu_count() or 2
    parser.add_argument(
        "--workers", type=int, default=cores, help="gunicorn workers (default: one per core)"
    )
    parser.add_argument(
        "--connections", type=int, default=2 * cores, help="wrk connections (default: 2 per core)"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs with --workers (the machine's speed drifts)"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")
    with throwaway_database("cs_survey_bench_") as folder:
        from django.db import connection

        from feedback.models import SurveyInvitation

        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT,
            env=production_env(),
            check=True,
        )
        per_run = 1000 * args.seconds  # unused invitations for up to 1,000 answers/s
        runs = [1] + [args.workers] * args.repeat
        tokens = make_invitations(per_run * len(runs))
        vacuum(SurveyInvitation._meta.db_table)
        print(
            f"database: {connection.vendor}; {len(tokens):,} invitations; "
            f"wrk {args.connections} connections, {args.seconds} s per run; "
            f"CPU probe {cpu_probe_ms():.0f} ms (lower is faster)"
        )
        for i, workers in enumerate(runs):
            batch = tokens[i * per_run : (i + 1) * per_run]
            r = run_wrk(
                workers, batch, args.seconds, args.connections, Path(tempfile.mkdtemp(dir=folder))
            )
            print(
                f"gunicorn {r['workers']} worker(s): {r['rps']:.0f} submissions/s, p50 {r['p50']}, "
                f"p99 {r['p99']}, {r['non_2xx']} non-2xx, socket errors: {r['socket_errors']}; "
                f"{r['stored']:,} answers stored, {r['server_200']:,} answered 200 by the server"
                f"{' (equal)' if r['stored'] == r['server_200'] else ' (MISMATCH)'}, "
                f"{r['followups']:,} follow-up items; wrk saw "
                f"{r['requests'] - r['non_2xx']:,} (requests in flight at the stop are not "
                f"counted); CPU probe {cpu_probe_ms():.0f} ms"
            )


if __name__ == "__main__":
    main()
