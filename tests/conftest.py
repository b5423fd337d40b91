import os

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from customers.models import Customer
from feedback.models import Survey

OWNER_PASSWORD = "correct horse battery staple"


def pytest_collection_modifyitems(config, items):
    """Service tests need REDIS_URL; CI sets CS_REQUIRE_SERVICES=1 so they can never be
    skipped silently there."""
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
