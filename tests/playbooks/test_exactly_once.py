"""Exactly once with real processes (CI services stage, Postgres + Redis): two Celery
workers running the playbooks at the same moment, and a runner killed with SIGKILL
after it claimed its steps and before the e-mails went out."""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from celery.result import allow_join_result

from cs_platform.celery import app
from customers.models import Enrolment, Playbook
from customers.playbooks.shipped import PLAYBOOKS
from customers.playbooks.tasks import run_playbooks
from metrics.models import AccountSettings
from tests.conftest import ROOT, free_port, make_customer, service_env

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
CUSTOMERS = 600  # three claims of 200: enough for two workers to overlap


class Server:
    """A loopback SMTP server that can hold every client at RCPT (a send in flight)."""

    def __init__(self):
        self.received = []
        self.hold = False
        self.held = threading.Event()  # a client is held
        self.holding = set()  # the clients held now

    def wait_for_held(self, clients: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while len(self.holding) < clients:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        while self.hold:
            self.holding.add(session.peer)
            self.held.set()
            await asyncio.sleep(0.05)
        self.holding.discard(session.peer)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.received.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp_server():
    server, port = Server(), free_port()
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    server.env = {
        "TEST_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "EMAIL_USE_TLS": "0",
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
    }
    yield server
    server.hold = False
    controller.stop()


@pytest.fixture
def onboarding():
    """CUSTOMERS new customers, the onboarding playbook on, no quiet hours."""
    AccountSettings.load()
    AccountSettings.objects.update(quiet_start=0, quiet_end=0, sender_email="mia@northwind.example")
    for n in range(CUSTOMERS):
        make_customer(email=f"new{n}@example.com", signup_date=time.strftime("%Y-%m-%d"))
    # A transactional test empties every table, the shipped playbooks too: put it back.
    spec = next(spec for spec in PLAYBOOKS if spec["key"] == "onboarding")
    Playbook.objects.update_or_create(key="onboarding", defaults={**spec, "enabled": True})


def once_each(received) -> Counter:
    return Counter(m["To"] for m in received)


def test_two_workers_at_once_send_each_email_once(real_workers, smtp_server, onboarding):
    first = real_workers("first", **smtp_server.env)
    second = real_workers("second", **smtp_server.env)
    ready_both(timeout=60)
    smtp_server.hold = True  # each worker's first e-mail waits until both are sending
    results = [run_playbooks.delay(), run_playbooks.delay()]
    both = smtp_server.wait_for_held(clients=2, timeout=120)
    smtp_server.hold = False
    assert both, f"the two workers were never sending at once:\n{tails(first, second)}"
    # This process is no task; an eager task elsewhere may have set Celery's global
    # "joining would block" flag, which only guards tasks.
    with allow_join_result():
        counts = [result.get(timeout=180) for result in results]
    sent = once_each(smtp_server.received)
    assert len(sent) == CUSTOMERS and set(sent.values()) == {1}, counts
    assert sum(c.get("sent", 0) for c in counts) == CUSTOMERS
    assert all(c.get("sent", 0) > 0 for c in counts), "one worker did everything"
    assert len({m["Message-ID"] for m in smtp_server.received}) == CUSTOMERS
    assert first.poll() is None and second.poll() is None


def tails(*workers: subprocess.Popen) -> str:
    """What the workers logged (they are stopped): why a test found no overlap."""
    for worker in workers:
        worker.terminate()
    return "\n".join(worker.communicate(timeout=30)[0][-3000:] for worker in workers)


def ready_both(timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(app.control.ping(timeout=1)) >= 2:
            return
    pytest.fail("the two workers did not come up")


def run_playbooks_command(env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_playbooks"],
        cwd=ROOT,
        env=service_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_a_runner_killed_between_claim_and_send_is_retried_without_a_duplicate(
    smtp_server, onboarding
):
    smtp_server.hold = True  # the first e-mail gets stuck in flight
    runner = run_playbooks_command(smtp_server.env)
    assert smtp_server.held.wait(timeout=120), runner.stdout.read()
    os.kill(runner.pid, signal.SIGKILL)
    runner.wait(timeout=10)
    smtp_server.hold = False
    claimed = Enrolment.objects.exclude(claimed_by="").count()
    assert claimed > 0 and smtp_server.received == []

    # Another runner while the claim is fresh: it leaves the claimed steps alone.
    second = run_playbooks_command(smtp_server.env)
    assert second.wait(timeout=120) == 0, second.stdout.read()
    assert len(smtp_server.received) == CUSTOMERS - claimed
    # Once the claim is stale (a short lease here), the steps are taken over and sent.
    time.sleep(2)
    third = run_playbooks_command({**smtp_server.env, "PLAYBOOK_LEASE_SECONDS": "1"})
    assert third.wait(timeout=120) == 0, third.stdout.read()
    sent = once_each(smtp_server.received)
    assert len(sent) == CUSTOMERS and set(sent.values()) == {1}
    assert not Enrolment.objects.exclude(claimed_by="").exists()
    assert Enrolment.objects.filter(step__gte=2).count() == CUSTOMERS  # sent, then the wait
