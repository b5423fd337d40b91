"""One open item per customer and rule; today's queue."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.models import FollowUp
from tests.conftest import make_customer

pytestmark = pytest.mark.django_db


def assert_violates(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_one_open_followup_per_customer_and_rule_but_done_ones_may_repeat():
    customer = make_customer()
    FollowUp.objects.create(customer=customer, rule="renewal", reason="Renews soon", status="done")
    FollowUp.objects.create(customer=customer, rule="renewal", reason="Renews soon")
    assert_violates(
        lambda: FollowUp.objects.create(
            customer=customer, rule="renewal", reason="again", status="snoozed"
        )
    )
    FollowUp.objects.create(customer=customer, rule="manual", reason="Call back")
    FollowUp.objects.create(customer=customer, rule="manual", reason="Send invoice")
    assert FollowUp.objects.not_done().count() == 3


def test_todays_queue_shows_open_and_expired_snoozes_most_at_stake_first():
    today = timezone.localdate()
    a, b, c, d = (make_customer() for _ in range(4))
    small = FollowUp.objects.create(customer=a, rule="renewal", reason="r", value_at_stake=10)
    big = FollowUp.objects.create(customer=b, rule="renewal", reason="r", value_at_stake=500)
    woke = FollowUp.objects.create(
        customer=c,
        rule="renewal",
        reason="r",
        value_at_stake=50,
        status="snoozed",
        snoozed_until=today,
    )
    FollowUp.objects.create(
        customer=d,
        rule="renewal",
        reason="r",
        value_at_stake=900,
        status="snoozed",
        snoozed_until=today + timedelta(days=3),
    )
    assert list(FollowUp.objects.open_for_today(today)) == [big, woke, small]
