"""The bulk writer stores text exactly and counts what it changed (COPY on Postgres)."""

from decimal import Decimal

import pandas as pd
import pytest
from django.utils import timezone

from cs_platform.bulk import upsert
from customers.models import Customer, Interaction
from tests.conftest import make_customer

pytestmark = pytest.mark.django_db

TRICKY = [
    "tab\there",
    "new\nline",
    "back\\slash \\N",
    "quote \" and '",
    "中文，逗号",
    "",
    "\\",
    "a\r\nb",
]


def test_text_round_trips_exactly_including_escapes_and_empty_strings():
    customer = make_customer()
    frame = pd.DataFrame(
        {
            "external_id": [f"i{n}" for n in range(len(TRICKY))],
            "customer_id": customer.pk,
            "kind": "note",
            "direction": "internal",
            "occurred_at": pd.Timestamp("2024-01-01 10:00", tz="UTC"),
            "subject": TRICKY,
            "body": TRICKY[::-1],
            "opened_at": pd.NaT,
        }
    )
    result = upsert(Interaction, frame, key="external_id")
    assert (result.created, result.changed) == (len(TRICKY), 0)
    stored = dict(Interaction.objects.values_list("external_id", "subject"))
    assert [stored[f"i{n}"] for n in range(len(TRICKY))] == TRICKY
    assert Interaction.objects.get(external_id="i0").opened_at is None


def test_counts_created_changed_and_unchanged_rows():
    now = timezone.now()

    def frame(names):
        return pd.DataFrame(
            {
                "external_id": ["a", "b", "c"][: len(names)],
                "name": names,
                "mrr": "5.50",
                "email": "",
                "company": "",
                "locale": "",
                "plan": "",
                "lifecycle_stage": "active",
                "survey_opt_out": False,
                "tags": [["x"]] * len(names),
                "custom": [{}] * len(names),
                "created_at": now,
                "updated_at": now,
            }
        )

    first = upsert(
        Customer,
        frame(["A", "B"]),
        key="external_id",
        update_columns=["name", "mrr"],
        touch_columns=["updated_at"],
    )
    assert (first.created, first.changed, first.unchanged) == (2, 0, 0)
    second = upsert(
        Customer,
        frame(["A", "B2", "C"]),
        key="external_id",
        update_columns=["name", "mrr"],
        touch_columns=["updated_at"],
    )
    assert (second.created, second.changed, second.unchanged) == (1, 1, 1)
    b = Customer.objects.get(external_id="b")
    assert b.name == "B2" and b.mrr == Decimal("5.50") and b.tags == ["x"]
