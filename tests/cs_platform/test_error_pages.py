"""Friendly error pages in the visitor's language: 404, 500, and 503 with Retry-After
while the database is down; never a stack trace; JSON on the API."""

import pytest
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper

from customers.views import customers as customer_views

pytestmark = pytest.mark.django_db

ZH = {"Accept-Language": "zh-Hans"}


def database_down(monkeypatch):
    def refuse(self):
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", refuse)


def test_an_unknown_address_is_a_friendly_404_in_english_and_chinese(owner_client, client):
    page = owner_client.get("/no-such-page/")
    assert page.status_code == 404 and "Page not found" in page.content.decode()
    assert "Go to the start page" in page.content.decode()
    chinese = client.get("/no-such-page/", headers=ZH).content.decode()
    assert "页面不存在" in chinese and 'lang="zh-hans"' in chinese


def test_a_crash_is_a_friendly_500_without_a_trace(owner_client, monkeypatch):
    def crash(*args):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(customer_views, "listed_customers", crash)
    owner_client.raise_request_exception = False
    response = owner_client.get("/customers/")
    body = response.content.decode()
    assert response.status_code == 500 and "Something went wrong" in body
    assert "secret internals" not in body and "Traceback" not in body


def test_a_database_outage_is_a_503_with_retry_after_on_public_and_owner_pages(
    owner_client, client, invite, monkeypatch
):
    _, token = invite()
    database_down(monkeypatch)
    client.raise_request_exception = owner_client.raise_request_exception = False
    survey = client.get(f"/s/{token}/", headers=ZH)
    assert survey.status_code == 503 and survey["Retry-After"] == "30"
    assert "稍后" in survey.content.decode() and "Traceback" not in survey.content.decode()
    owner = owner_client.get("/")
    assert owner.status_code == 503 and "Back in a moment" in owner.content.decode()
    api = client.get("/api/customers/")
    assert api.status_code == 503 and "database" in api.json()["detail"]
