"""Database constraints protect the data; domain querysets say what they mean."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.models import Customer, FollowUp, Interaction, Order
from tests.conftest import make_customer

pytestmark = pytest.mark.django_db


def assert_violates(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_external_ids_are_unique_and_required():
    make_customer(external_id="c1")
    assert_violates(lambda: Customer.objects.create(external_id="c1"))
    assert_violates(lambda: Customer.objects.create(external_id=""))


def test_amount_signs_follow_the_order_kind():
    customer = make_customer()
    now = timezone.now()
    assert_violates(
        lambda: Order.objects.create(
            customer=customer, external_id="o1", occurred_at=now, amount=-1
        )
    )
    assert_violates(
        lambda: Order.objects.create(
            customer=customer, external_id="o2", occurred_at=now, amount=5, kind="refund"
        )
    )
    Order.objects.create(
        customer=customer, external_id="o3", occurred_at=now, amount=-5, kind="refund"
    )
    assert_violates(
        lambda: Order.objects.create(
            customer=customer, external_id="o4", occurred_at=now, amount=5, margin=2
        )
    )
    assert_violates(lambda: Customer.objects.filter(pk=customer.pk).update(mrr=-1))


def test_a_ticket_cannot_be_answered_before_it_was_opened():
    customer = make_customer()
    now = timezone.now()
    assert_violates(
        lambda: Interaction.objects.create(
            customer=customer,
            kind="ticket",
            opened_at=now,
            first_response_at=now - timedelta(hours=1),
        )
    )


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


def test_with_tag_matches_a_whole_tag_only():
    risky = make_customer(lifecycle_stage="at_risk", tags=["vip", "beta"])
    make_customer(lifecycle_stage="churned", tags=["vipx"])
    assert list(Customer.objects.with_tag("vip")) == [risky]
