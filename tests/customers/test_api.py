"""REST API: token auth, filters, pagination, validation errors, bulk orders."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from customers.models import Customer, Order
from tests.conftest import make_customer

pytestmark = pytest.mark.django_db


def test_anonymous_requests_are_refused():
    anonymous = APIClient()
    assert anonymous.get("/api/customers/").status_code == 401
    assert anonymous.post("/api/orders/bulk/", [], format="json").status_code == 401
    assert anonymous.get("/api/schema/").status_code == 401


def test_a_wrong_token_is_refused():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/customers/").status_code == 401


def test_a_non_staff_users_token_is_forbidden(django_user_model):
    from rest_framework.authtoken.models import Token

    user = django_user_model.objects.create_user("assistant", password="x")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    assert client.get("/api/customers/").status_code == 403


def test_customers_list_filters_searches_and_paginates(api):
    for n in range(60):
        make_customer(
            external_id=f"c{n}", plan="Pro" if n % 2 else "Basic", tags=["vip"] if n < 3 else []
        )
    make_customer(external_id="zh", name="王小明", company="上海乐声")
    page = api.get("/api/customers/", {"plan": "Pro"}).json()
    assert page["count"] == 30 and len(page["results"]) == 30
    first = api.get("/api/customers/").json()
    assert first["count"] == 61 and len(first["results"]) == 50 and first["next"]
    assert api.get("/api/customers/", {"page_size": 5, "page": 2}).json()["results"][0][
        "external_id"
    ]
    assert [
        c["external_id"] for c in api.get("/api/customers/", {"search": "乐声"}).json()["results"]
    ] == ["zh"]
    assert api.get("/api/customers/", {"tag": "vip"}).json()["count"] == 3


def test_create_and_update_a_customer(api):
    response = api.post(
        "/api/customers/",
        {"external_id": "new-1", "name": "Ana", "email": "ana@example.com", "tags": ["beta"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    response = api.patch(f"/api/customers/{pk}/", {"plan": "Pro", "mrr": "49.00"}, format="json")
    assert response.status_code == 200
    customer = Customer.objects.get(pk=pk)
    assert (customer.plan, str(customer.mrr), customer.tags) == ("Pro", "49.00", ["beta"])


def test_customer_validation_errors_are_clear_json(api):
    make_customer(external_id="taken")
    response = api.post(
        "/api/customers/",
        {"external_id": "taken", "email": "nope", "mrr": "-5", "lifecycle_stage": "zombie"},
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"external_id", "email", "mrr", "lifecycle_stage"}
    assert "already exists" in errors["external_id"][0]


def test_create_orders_and_filter_by_customer_and_time(api):
    make_customer(external_id="c1")
    make_customer(external_id="c2")
    for n, (cust, when) in enumerate(
        [
            ("c1", "2024-01-05T10:00:00Z"),
            ("c1", "2024-03-05T10:00:00Z"),
            ("c2", "2024-02-05T10:00:00Z"),
        ]
    ):
        response = api.post(
            "/api/orders/",
            {
                "external_id": f"o{n}",
                "customer": cust,
                "occurred_at": when,
                "amount": "10.00",
                "currency": "usd",
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
    assert Order.objects.get(external_id="o0").currency == "USD"
    result = api.get(
        "/api/orders/", {"customer": "c1", "occurred_after": "2024-02-01T00:00:00Z"}
    ).json()
    assert [o["external_id"] for o in result["results"]] == ["o1"]


def test_order_validation_rejects_unknown_customers_and_wrong_signs(api):
    make_customer(external_id="c1")
    response = api.post(
        "/api/orders/",
        {
            "external_id": "o1",
            "customer": "ghost",
            "occurred_at": "2024-01-01T00:00Z",
            "amount": "5",
        },
        format="json",
    )
    assert response.status_code == 400 and "customer" in response.json()
    response = api.post(
        "/api/orders/",
        {
            "external_id": "o1",
            "customer": "c1",
            "occurred_at": "2024-01-01T00:00Z",
            "amount": "-5",
            "kind": "purchase",
        },
        format="json",
    )
    assert response.status_code == 400 and "amount" in response.json()
    response = api.post(
        "/api/orders/",
        {
            "external_id": "o1",
            "customer": "c1",
            "occurred_at": "2024-01-01T00:00Z",
            "amount": "5",
            "margin": "1.5",
        },
        format="json",
    )
    assert response.status_code == 400 and "margin" in response.json()
    assert Order.objects.count() == 0


def test_bulk_orders_are_all_or_nothing_with_indexed_errors(api):
    make_customer(external_id="c1")
    items = [
        {
            "external_id": "b1",
            "customer": "c1",
            "occurred_at": "2024-01-01T10:00:00Z",
            "amount": 12.5,
        },
        {
            "external_id": "b2",
            "customer": "ghost",
            "occurred_at": "2024-01-02T10:00:00Z",
            "amount": "3",
        },
        {"external_id": "b3", "customer": "c1", "occurred_at": "yesterday-ish", "amount": "3"},
    ]
    response = api.post("/api/orders/bulk/", items, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {
        "index": 1,
        "field": "customer",
        "value": "ghost",
        "message": "no customer has this external id; import customers first",
    } in errors
    assert any(e["index"] == 2 and e["field"] == "occurred_at" for e in errors)
    assert Order.objects.count() == 0


def test_bulk_orders_create_then_are_idempotent(api):
    make_customer(external_id="c1")
    items = [
        {
            "external_id": f"b{n}",
            "customer": "c1",
            "occurred_at": "2024-01-01T10:00:00Z",
            "amount": "9.99",
            "kind": "subscription",
            "margin": 0.8,
        }
        for n in range(100)
    ]
    assert api.post("/api/orders/bulk/", items, format="json").json() == {
        "created": 100,
        "updated": 0,
        "unchanged": 0,
    }
    assert api.post("/api/orders/bulk/", items, format="json").json() == {
        "created": 0,
        "updated": 0,
        "unchanged": 100,
    }
    assert Order.objects.filter(kind="subscription").count() == 100


def test_bulk_rejects_a_body_that_is_not_a_list(api):
    response = api.post("/api/orders/bulk/", {"external_id": "x"}, format="json")
    assert response.status_code == 400 and "JSON list" in response.json()["detail"]
    response = api.post("/api/orders/bulk/", ["x"], format="json")
    assert response.status_code == 400


def test_interactions_api_validates_ticket_times(api):
    make_customer(external_id="c1")
    response = api.post(
        "/api/interactions/",
        {
            "customer": "c1",
            "kind": "ticket",
            "subject": "Crash",
            "occurred_at": "2024-01-02T10:00:00Z",
            "opened_at": "2024-01-02T10:00:00Z",
            "resolved_at": "2024-01-01T10:00:00Z",
        },
        format="json",
    )
    assert response.status_code == 400 and "resolved_at" in response.json()
    response = api.post(
        "/api/interactions/",
        {
            "customer": "c1",
            "kind": "call",
            "direction": "outbound",
            "subject": "Hi",
            "occurred_at": "2024-01-02T10:00:00Z",
        },
        format="json",
    )
    assert response.status_code == 201
    assert api.get("/api/interactions/", {"kind": "call"}).json()["count"] == 1


def test_openapi_schema_and_docs_page(api, owner_client):
    schema = api.get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    description = schema.json()["info"]["description"]  # Markdown: <key> survives in code
    assert (
        "`Authorization: Token <key>`" in description and "drf_create_token <user>`" in description
    )
    assert {"/api/customers/", "/api/orders/", "/api/orders/bulk/", "/api/interactions/"} <= set(
        paths
    )
    docs = owner_client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content
    assert b"cdn.jsdelivr" not in docs.content and b"unpkg" not in docs.content


def test_future_signup_and_order_dates_are_refused_with_a_clear_message(api):
    customer = make_customer()
    ahead = timezone.localdate() + timedelta(days=3)
    patch = api.patch(
        f"/api/customers/{customer.pk}/", {"signup_date": ahead.isoformat()}, format="json"
    )
    assert patch.status_code == 400
    assert patch.json()["signup_date"] == ["is more than a day in the future"]
    order = api.post(
        "/api/orders/",
        {
            "external_id": "o-late",
            "customer": customer.external_id,
            "occurred_at": f"{ahead.isoformat()}T10:00:00Z",
            "amount": "10.00",
        },
        format="json",
    )
    assert order.status_code == 400 and "occurred_at" in order.json()
    assert not Order.objects.exists()


def test_an_order_in_another_currency_is_refused(api):
    customer = make_customer()
    response = api.post(
        "/api/orders/",
        {
            "external_id": "o-yen",
            "customer": customer.external_id,
            "occurred_at": "2024-01-05T10:00:00Z",
            "amount": "2000",
            "currency": "JPY",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["currency"] == [
        "is not the account currency (USD): convert the amount to USD first"
    ]


def test_odd_but_valid_moments_filter_and_impossible_ones_are_refused(api):
    make_customer(external_id="c1")
    far_offset = api.get("/api/customers/?updated_after=2020-01-01T00:00:00-22:39")
    assert far_offset.status_code == 200 and far_offset.json()["count"] == 1
    for path in (
        "customers/?updated_after",
        "orders/?occurred_after",
        "interactions/?occurred_before",
    ):
        assert api.get(f"/api/{path}=0001-01-01T00:00:00%2B01:00").status_code == 400
        assert api.get(f"/api/{path}=9999-12-31T23:59:59-01:00").status_code == 400


def test_filters_and_paging_refuse_what_they_cannot_read(api):
    make_customer(external_id="c1", survey_opt_out=True)
    assert api.get("/api/customers/?survey_opt_out=true").json()["count"] == 1
    assert api.get("/api/customers/?survey_opt_out=false").json()["count"] == 0
    for query in ("survey_opt_out=maybe", "page_size=abc", "page_size=0", "page_size=1001"):
        response = api.get(f"/api/customers/?{query}")
        assert response.status_code == 400, query
        assert query.split("=")[0] in response.json()


def test_a_bulk_order_from_the_year_820_is_a_row_error_not_a_crash(api):
    make_customer(external_id="c1")
    order = {"external_id": "o1", "customer": "c1", "amount": "10", "currency": "USD"}
    response = api.post(
        "/api/orders/bulk/",
        [{**order, "occurred_at": "0820-09-16T18:10:39.0-15:40"}],
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "occurred_at"
    assert not Order.objects.exists()


def test_a_number_where_the_schema_says_string_is_refused(api):
    make_customer(external_id="c1")
    created = api.post("/api/customers/", {"external_id": 123, "name": "Ana"}, format="json")
    assert created.status_code == 400 and "external_id" in created.json()
    order = {"external_id": 7, "customer": "c1", "occurred_at": "2026-01-01T00:00:00Z"}
    bulk = api.post("/api/orders/bulk/", [{**order, "amount": 10}], format="json")
    assert bulk.status_code == 400
    assert bulk.json()["errors"] == [
        {"index": 0, "field": "external_id", "message": "must be a string"}
    ]
    # A decimal may come as a number: the schema says so.
    fine = api.post(
        "/api/orders/bulk/", [{**order, "external_id": "o7", "amount": 10}], format="json"
    )
    assert fine.status_code == 201 and Order.objects.get().amount == 10


def test_a_nul_character_is_refused_with_the_row_and_field_never_a_crash(api):
    # SQLite stores a NUL; Postgres can neither store nor look one up (the fuzz test's find).
    make_customer(external_id="c1")
    order = {"external_id": "o1", "customer": "c1", "occurred_at": "2026-01-01T00:00:00Z"}
    bulk = api.post(
        "/api/orders/bulk/",
        [{**order, "amount": "5"}, {**order, "external_id": "o2", "customer": "c\x001"}],
        format="json",
    )
    assert bulk.status_code == 400
    assert bulk.json()["errors"] == [
        {
            "index": 1,
            "field": "customer",
            "value": "c\\01",
            "message": "contains a NUL character (\\0)",
        }
    ]
    created = api.post(
        "/api/customers/", {"external_id": "c2", "custom": {"note": ["a\x00"]}}, format="json"
    )
    assert created.status_code == 400 and "NUL" in created.json()["custom"][0]
    assert not Order.objects.exists() and Customer.objects.count() == 1
