"""The follow-up queue page: order, filters, done and snooze inline (HTMX)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from customers.models import FollowUp, Interaction
from tests.conftest import HTMX

pytestmark = pytest.mark.django_db


def test_the_queue_is_ordered_by_value_at_stake_and_filters_by_rule(owner_client, scored):
    _, (ana, bo, cy) = scored
    FollowUp.objects.create(customer=ana, rule="detractor", reason="Said 2", value_at_stake=80)
    FollowUp.objects.create(customer=bo, rule="renewal", reason="Renews soon", value_at_stake=750)
    page = owner_client.get("/followups/").content.decode()
    assert page.index("Renews soon") < page.index("Said 2")
    filtered = owner_client.get("/followups/?rule=detractor", headers=HTMX).content.decode()
    assert "Said 2" in filtered and "Renews soon" not in filtered and "<html" not in filtered


def test_done_with_a_note_logs_an_interaction_and_returns_the_item(owner_client, scored):
    _, (ana, *_rest) = scored
    item = FollowUp.objects.create(customer=ana, rule="detractor", reason="Said 2")
    response = owner_client.post(
        f"/followups/{item.pk}/done/", {"note": "Called, refund sent"}, headers=HTMX
    )
    assert response.status_code == 200 and b"<html" not in response.content
    assert "Done" in response.content.decode()
    item.refresh_from_db()
    assert item.status == "done" and item.outcome == "Called, refund sent"
    logged = Interaction.objects.get(customer=ana)
    assert logged.kind == "note" and logged.body == "Called, refund sent"
    assert not FollowUp.objects.open_for_today().exists()


def test_snooze_for_a_week_or_until_a_date_and_refuse_the_past(owner_client, scored):
    _, (ana, bo, _cy) = scored
    today = timezone.localdate()
    a = FollowUp.objects.create(customer=ana, rule="detractor", reason="x")
    b = FollowUp.objects.create(customer=bo, rule="renewal", reason="y")
    fragment = owner_client.post(f"/followups/{a.pk}/snooze/", {"days": "7"}, headers=HTMX)
    assert "Snoozed until" in fragment.content.decode()
    owner_client.post(f"/followups/{b.pk}/snooze/", {"until": str(today + timedelta(days=3))})
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, a.snoozed_until) == ("snoozed", today + timedelta(days=7))
    assert b.snoozed_until == today + timedelta(days=3)
    assert not FollowUp.objects.open_for_today().exists()
    past = owner_client.post(
        f"/followups/{a.pk}/snooze/", {"until": str(today - timedelta(days=1))}, headers=HTMX
    )
    assert past.status_code == 400
