"""Database constraints protect the data."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.models import Customer, Interaction, Order
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


def test_with_tag_matches_a_whole_tag_only():
    risky = make_customer(lifecycle_stage="at_risk", tags=["vip", "beta"])
    make_customer(lifecycle_stage="churned", tags=["vipx"])
    assert list(Customer.objects.with_tag("vip")) == [risky]
