"""Saved segments filter customers, including by the current run's scores."""

import pytest

from customers.listing import segment_customers
from metrics.models import CustomerScore, ScoringRun
from segmentation.models import SavedSegment
from tests.conftest import make_customer

pytestmark = pytest.mark.django_db


def test_a_saved_segment_combines_customer_and_score_filters():
    vip_red = make_customer(plan="Pro", tags=["vip"])
    vip_green = make_customer(plan="Pro", tags=["vip"])
    make_customer(plan="Basic", tags=["vip"])
    run = ScoringRun.objects.create(as_of="2026-06-30", status="succeeded", is_current=True)
    old = ScoringRun.objects.create(as_of="2026-06-01", status="succeeded")
    CustomerScore.objects.create(
        run=run, customer=vip_red, as_of=run.as_of, health=20, health_band="red"
    )
    CustomerScore.objects.create(
        run=run, customer=vip_green, as_of=run.as_of, health=90, health_band="green"
    )
    CustomerScore.objects.create(
        run=old, customer=vip_green, as_of=old.as_of, health=10, health_band="red"
    )
    segment = SavedSegment.objects.create(
        name="Pro VIPs in trouble", filters={"plan": "Pro", "tag": "vip", "health": "red"}
    )
    assert list(segment_customers(segment)) == [vip_red]
    assert segment_customers(SavedSegment(name="All Pro", filters={"plan": "Pro"})).count() == 2


def test_score_filters_match_nothing_before_the_first_run():
    make_customer()
    assert not segment_customers(SavedSegment(name="Red", filters={"health": "red"})).exists()
