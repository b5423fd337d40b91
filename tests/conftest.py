import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cs_platform.benchmarking import current_database_url
from customers.models import Customer
from feedback.models import Survey, SurveyInvitation
from metrics.models import AccountSettings, CustomerScore, ScoringRun

OWNER_PASSWORD = "correct horse battery staple"
ROOT = Path(__file__).resolve().parent.parent
HTMX = {"HX-Request": "true"}


def pytest_collection_modifyitems(config, items):
    """Service tests need REDIS_URL; CI sets CS_REQUIRE_SERVICES=1 so they can never be
    skipped silently there. Tests on SQLite files of their own run where the suite runs
    on SQLite (CI's first stage): on Postgres they would repeat that run exactly."""
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        repeat = pytest.mark.skip(reason="own SQLite files: ran in the SQLite stage")
        for item in items:
            if "own_sqlite" in item.keywords:
                item.add_marker(repeat)
    if os.environ.get("REDIS_URL"):
        return
    if os.environ.get("CS_REQUIRE_SERVICES") == "1":
        raise pytest.UsageError("CS_REQUIRE_SERVICES=1 but REDIS_URL is not set")
    skip = pytest.mark.skip(reason="needs REDIS_URL (runs in CI's Postgres + Redis stage)")
    for item in items:
        if "services" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_superuser("owner", "owner@example.com", OWNER_PASSWORD)


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def nps():
    """An NPS survey in English and Chinese, with a follow-up question."""
    return Survey.objects.create(
        name="NPS",
        kind="nps",
        recontact_days=60,
        question_en="How likely are you to recommend us?",
        question_zh="您有多大可能向朋友推荐我们？",
        followup_en="What is the main reason for your score?",
        followup_zh="您打分的主要原因是什么？",
    )


@pytest.fixture
def invite(nps):
    """invite(customer=None, survey=None) -> (invitation, token) for a survey link."""

    def make(customer=None, survey=None):
        return SurveyInvitation.create_for(survey or nps, customer or make_customer())

    return make


@pytest.fixture
def api(owner):
    token = Token.objects.create(user=owner)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


_counter = iter(range(1, 10**9))


def make_customer(**overrides) -> Customer:
    n = next(_counter)
    fields = {"external_id": f"cust-{n}", "name": f"Customer {n}", "email": f"c{n}@example.com"}
    fields.update(overrides)
    return Customer.objects.create(**fields)


@pytest.fixture
def scored():
    """Three customers scored by a current run (hand-made, so each test is fast)."""
    run = ScoringRun.objects.create(
        as_of=timezone.localdate(),
        status="succeeded",
        is_current=True,
        customers=3,
        finished_at=timezone.now(),
        summary={
            "active_customers": 2,
            "revenue": {"last_30d": 1200.0, "previous_30d": 1000.0},
            "revenue_by_month": [{"month": "2026-10", "revenue": 900.0}],
            "nps_90d": {"nps": 20.0, "n": 10, "margin": 55.0},
            "nps_trend": [{"month": "2026-10", "nps": 20.0, "n": 10}],
            "health_histogram": [0, 1, 0, 0, 0, 1, 0, 0, 1, 0],
            "health_bands": {"red": 1, "yellow": 1, "green": 1},
            "cohorts": [{"cohort": "2026-01", "customers": 3, "0": 1.0, "1": 0.66}],
            "rfm_grid": [{"r": 5, "f": 5, "customers": 1, "revenue": 500.0}],
            "segments": {"Champions": 1, "At risk": 1},
            "clusters": {
                "k": 1,
                "silhouette": 0.5,
                "groups": {"0": {"size": 3, "description": "typical customers", "medians": {}}},
            },
            "clv_total": 3000.0,
            "value_at_risk_total": 400.0,
        },
    )
    rows = [
        ("Ana Red", "red", 20, 100.0, 0.8, "At risk", 3, 200.0),
        ("Bo Yellow", "yellow", 55, 2500.0, 0.3, "Champions", None, 10.0),
        ("Cy Green", "green", 90, 900.0, 0.1, "Champions", 10, 5.0),
    ]
    customers = []
    for name, band, health, clv, churn, segment, nps, contact in rows:
        customer = make_customer(name=name, plan="Pro" if band != "green" else "Basic")
        CustomerScore.objects.create(
            run=run,
            customer=customer,
            as_of=run.as_of,
            health=health,
            health_band=band,
            clv=clv,
            churn_probability=churn,
            value_at_risk=round(clv * churn, 2),
            rfm_segment=segment,
            last_nps=nps,
            days_since_contact=contact,
            explanation=f"{name} explained.",
            components={"parts": {"engagement": health}},
        )
        customers.append(customer)
    return run, customers


def service_env(**extra) -> dict:
    """The environment for a process of ours (a worker, a command) on the test database."""
    if connection.vendor != "postgresql":
        pytest.fail("a test with real processes needs DATABASE_URL to point at Postgres")
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cs_platform.test_settings",
        "DATABASE_URL": current_database_url(),
        "TEST_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        **extra,
    }


def start_worker(name: str = "worker", pool: str = "solo", **env) -> subprocess.Popen:
    """A `celery worker` process (solo pool, or prefork with one child) on the test
    database and the configured Redis."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "cs_platform",
            "worker",
            f"--pool={pool}",
            "--concurrency=1",
            "-n",
            f"{name}@%h",
            "-Q",
            settings.CELERY_TASK_DEFAULT_QUEUE,
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=service_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def real_workers():
    """start(name, **env) -> a worker process; eager tasks are off until the test ends."""
    from cs_platform.celery import app

    app.control.purge()
    app.conf.task_always_eager = False
    started = []

    def start(name="worker", pool="solo", **env):
        started.append(start_worker(name, pool, **env))
        return started[-1]

    yield start
    app.conf.task_always_eager = True
    for worker in started:
        stop(worker)


@pytest.fixture
def real_worker(real_workers):
    """One `celery worker` process on the test database and the configured Redis."""
    return real_workers()


class Inbox:
    """What a real SMTP server on loopback (aiosmtpd) received, parsed."""

    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(settings):
    """Django's SMTP backend pointed at a real SMTP server on a free loopback port."""
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield inbox
    controller.stop()


@pytest.fixture
def account():
    """The owner's business and sender settings."""
    row = AccountSettings.load()
    row.business_name, row.sender_name = "Northwind Records", "Mia Chen"
    row.sender_email, row.reply_to = "mia@northwind.example", "help@northwind.example"
    row.save()
    return row


class Served:
    """A real gunicorn (the production logger class) on a migrated SQLite file."""

    def __init__(self, directory: Path, **env):
        self.directory = directory
        self.env = {
            "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
            "DATABASE_URL": f"sqlite:///{directory / 'db.sqlite3'}",
            "DJANGO_DEBUG": "1",
            "LOG_LEVEL": "INFO",
            **env,
        }
        self.access_log, self.app_log = directory / "access.log", directory / "app.log"
        self.base = f"http://127.0.0.1:{free_port()}"
        self.process = None

    def manage(self, *args) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True
        )
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout.decode()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "cs_platform.wsgi",
                "--bind",
                self.base.removeprefix("http://"),
                "--access-logfile",
                str(self.access_log),
                "--logger-class",
                "cs_platform.gunicorn_logging.Logger",
            ],
            cwd=ROOT,
            env=self.env,
            stderr=self.app_log.open("w"),
        )
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{self.base}/healthz/", timeout=2)
                return
            except urllib.error.HTTPError:
                return  # it answers (503 is still an answer)
            except OSError:
                time.sleep(0.1)
        pytest.fail("gunicorn did not start:\n" + self.app_log.read_text())

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


@pytest.fixture
def served(tmp_path):
    """served(**env) -> a migrated app under gunicorn, stopped after the test."""
    started = []

    def start(**env) -> Served:
        app = Served(tmp_path, **env)
        app.manage("migrate", "-v0")
        started.append(app)
        return app

    yield start
    for app in started:
        app.stop()
