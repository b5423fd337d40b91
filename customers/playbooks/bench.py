"""Benchmark: enrol 100,000 customers in a playbook and run a day of its steps against a
real SMTP server on loopback (a separate process), then count what arrived.

    python -m customers.playbooks.bench --customers 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python -m customers.playbooks.bench

Prints the time to enrol and to run, e-mails per second, peak memory of the runner,
duplicates and missing e-mails (both must be 0), what a rerun sends (must be 0), and a
floor for comparison: the same SMTP server fed pre-built e-mails over one connection
with no database at all (the fastest the runner could possibly be here).
"""

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from cs_platform.benchmarking import cpu_probe_ms, peak_rss_mb, throwaway_database

SERVER = """
import asyncio, sys
from aiosmtpd.controller import Controller

class Log:
    def __init__(self, path):
        self.out = open(path, "w", buffering=1)

    async def handle_DATA(self, server, session, envelope):
        for line in envelope.original_content.split(b"\\r\\n"):
            if line.lower().startswith(b"message-id:"):
                self.out.write(line.split(b":", 1)[1].strip().decode() + "\\n")
                break
        return "250 OK"

controller = Controller(Log(sys.argv[2]), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(log: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port), str(log)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout.readline().strip() == "ready"
    return server, port


def received(log: Path) -> Counter:
    return Counter(line for line in log.read_text().splitlines() if line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--floor", type=int, default=5_000, help="e-mails for the floor")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cs_playbook_bench_"))
    log, floor_log = folder / "received.txt", folder / "floor.txt"
    server, port = start_server(log)
    floor_server, floor_port = start_server(floor_log)
    with throwaway_database("cs_playbook_bench_"):
        from django.conf import settings
        from django.core.mail import EmailMessage, get_connection
        from django.db import connection
        from django.utils import timezone

        from customers.models import Customer, Enrolment, Playbook
        from customers.playbooks import runner
        from metrics.models import AccountSettings

        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_USE_TLS = "127.0.0.1", False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""

        # The floor: pre-built e-mails over one connection, no database.
        settings.EMAIL_PORT = floor_port
        messages = [
            EmailMessage("Welcome", "Hi,\n\n" + "text " * 60, "mia@example.com", [f"f{n}@x.org"])
            for n in range(args.floor)
        ]
        started = time.perf_counter()
        smtp = get_connection()
        smtp.open()
        for message in messages:
            smtp.send_messages([message])
        smtp.close()
        floor_rate = args.floor / (time.perf_counter() - started)

        settings.EMAIL_PORT = port
        today = timezone.localdate()
        Customer.objects.bulk_create(
            [
                Customer(
                    external_id=f"b{n}",
                    name=f"Customer {n}",
                    email=f"c{n}@example.org",
                    locale="zh-hans" if n % 5 == 0 else "",
                    signup_date=today,
                )
                for n in range(args.customers)
            ],
            batch_size=5000,
        )
        AccountSettings.load()
        AccountSettings.objects.update(quiet_start=0, quiet_end=0, business_name="Bench Shop")
        Playbook.objects.filter(key="onboarding").update(enabled=True)
        playbook = Playbook.objects.get(key="onboarding")

        now = timezone.now()
        started = time.perf_counter()
        enrolled = runner.enrol(playbook, now)
        enrol_seconds = time.perf_counter() - started
        started = time.perf_counter()
        counts = runner.run(now)
        run_seconds = time.perf_counter() - started
        rerun = runner.run(now)
        server.communicate("")  # stop: flushes the log
        floor_server.communicate("")
        arrived = received(log)
        duplicates = sum(n - 1 for n in arrived.values() if n > 1)
        waiting = Enrolment.objects.filter(step=2).count()  # sent, then the 3-day wait
        print(
            f"{connection.vendor}, {args.customers:,} customers "
            f"(CPU probe {cpu_probe_ms():.0f} ms; lower is faster)"
        )
        print(f"  enrol                  {enrolled:,} in {enrol_seconds:.1f} s")
        print(
            f"  a day of steps         {counts['sent']:,} e-mails in {run_seconds:.1f} s = "
            f"{counts['sent'] / run_seconds:,.0f} e-mails/s (steps done: {counts['done']:,})"
        )
        print(f"  floor (SMTP only)      {floor_rate:,.0f} e-mails/s, no database")
        print(f"  arrived at the server  {len(arrived):,} distinct Message-IDs")
        print(f"  duplicates             {duplicates}")
        print(f"  missing                {args.customers - len(arrived):,}")
        print(f"  at the wait step       {waiting:,}")
        print(f"  a rerun sent           {rerun.get('sent', 0)}")
        print(f"  peak RSS               {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
