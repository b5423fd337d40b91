"""Today's list: urgency first, then value; the owner's daily capacity; no pile-up; the
badge counts what "today" shows; a detractor who answers now is at the top at once."""

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from customers.followups import today as today_queue
from customers.models import FollowUp, Urgency
from metrics.models import AccountSettings, CustomerScore
from tests.conftest import HTMX, make_customer

pytestmark = pytest.mark.django_db


def items(n, urgency=Urgency.ROUTINE, value=100, rule="renewal"):
    return [
        FollowUp.objects.create(
            customer=make_customer(),
            rule=rule,
            reason=f"{rule} {i}",
            priority=urgency,
            value_at_stake=value + i,
        )
        for i in range(n)
    ]


def badge(page: str) -> str:
    start = page.index('id="nav-followups"')
    return page[page.index(">", start) + 1 : page.index("</span>", start)]


def test_urgency_comes_before_value(owner_client):
    renewal = items(1, Urgency.ROUTINE, value=900)[0]
    risk = items(1, Urgency.AT_RISK, value=500, rule="value_at_risk")[0]
    unhappy = items(1, Urgency.NOW, value=20, rule="detractor")[0]
    red = items(1, Urgency.SOON, value=60, rule="health_drop")[0]
    assert list(FollowUp.objects.open_for_today()) == [unhappy, red, risk, renewal]
    page = owner_client.get("/followups/").content.decode()
    positions = [page.index(f"followup-{item.pk}") for item in (unhappy, red, risk, renewal)]
    assert positions == sorted(positions)
    assert "Unhappy now" in page and "Routine" in page


def test_today_holds_the_daily_capacity_and_the_badge_counts_it(owner_client):
    routine = items(14)
    page = owner_client.get("/followups/").content.decode()
    today_part, later_part = page.split('id="queue-list"')
    assert today_part.count('class="item') == 10 and later_part.count('class="item') == 4
    assert badge(page) == "10" and "10 for today" in page and "4 later" in page
    account = AccountSettings.load()
    account.daily_capacity = 3
    account.save()
    page = owner_client.get("/").content.decode()
    assert badge(page) == "3"
    biggest = sorted(routine, key=lambda i: -i.value_at_stake)[:3]
    assert [i.pk for i in today_queue.split()[0]] == [i.pk for i in biggest]


def test_done_items_use_up_the_day_and_the_counts_change_in_place(owner_client):
    account = AccountSettings.load()
    account.daily_capacity = 2
    account.save()
    first, *_ = FollowUp.objects.filter(pk__in=[i.pk for i in items(5)]).order_by("-value_at_stake")
    response = owner_client.post(f"/followups/{first.pk}/done/", {"note": "Called"}, headers=HTMX)
    fragment = response.content.decode()
    assert 'id="nav-followups"' in fragment and 'hx-swap-oob="true"' in fragment
    assert badge(fragment) == "1" and "1 for today" in fragment and "3 later" in fragment
    second = today_queue.split()[0].get()
    owner_client.post(f"/followups/{second.pk}/done/", headers=HTMX)
    page = owner_client.get("/followups/").content.decode()
    assert "Nothing left for today" in page and "3 later" in page
    assert 'id="nav-followups" title="Follow-ups on today’s list" hidden' in page


def test_someone_unhappy_now_is_always_todays_even_when_the_day_is_full(owner_client):
    account = AccountSettings.load()
    account.daily_capacity = 1
    account.save()
    items(3)
    unhappy = items(2, Urgency.NOW, value=5, rule="detractor")
    assert set(today_queue.todays_ids()) == {i.pk for i in unhappy}
    assert today_queue.count() == (2, 3)


def test_an_own_task_for_a_later_day_waits_for_it(owner_client):
    customer = make_customer()
    later = FollowUp.objects.create(
        customer=customer,
        rule="manual",
        reason="Send the contract",
        due=timezone.localdate() + timedelta(days=3),
    )
    assert later.pk not in today_queue.todays_ids()
    in_three_days = timezone.localdate() + timedelta(days=3)
    assert later.pk in today_queue.todays_ids(in_three_days)


@pytest.fixture
def demo_night():
    call_command("load_demo", "--synthetic", "--customers", "600", "--no-user")
    call_command("score")


def test_a_rerun_of_the_same_day_adds_nothing_and_a_detractor_is_first_at_once(
    demo_night, owner_client, client, invite, django_capture_on_commit_callbacks
):
    before = sorted(FollowUp.objects.values_list("customer_id", "rule", "status"))
    assert len(before) > 20  # a realistic queue to compete with
    failed = FollowUp.objects.filter(rule="payment_failed")
    assert failed.exists() and set(failed.values_list("priority", flat=True)) == {Urgency.SOON}
    call_command("score")
    assert sorted(FollowUp.objects.values_list("customer_id", "rule", "status")) == before
    quiet = CustomerScore.objects.filter(run__is_current=True).order_by("clv").first().customer
    invitation, token = invite(customer=quiet)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/s/{token}/", {"score": "2", "comment": "Nobody answers my e-mails"})
    queue = owner_client.get("/followups/").content.decode()
    shown = [int(pk) for pk in re.findall(r'<li class="item[^"]*" id="followup-(\d+)"', queue)]
    mine = FollowUp.objects.get(customer=quiet, rule="detractor")
    assert shown.index(mine.pk) < 5
    dashboard = owner_client.get("/").content.decode()
    contact_today = dashboard[dashboard.index("Contact today") :]
    assert "Nobody answers my e-mails" in contact_today[: contact_today.index("</table>")]


def test_the_owner_adds_a_follow_up_from_the_queue_and_from_a_customer_page(owner_client):
    ana = make_customer(name="Ana Li", email="ana@example.com")
    response = owner_client.post(
        "/followups/add/",
        {"customer": "ANA@example.com", "reason": "Send the offer", "due": timezone.localdate()},
    )
    assert response.status_code == 302 and response.url == "/followups/"
    item = FollowUp.objects.get(customer=ana)
    assert (item.rule, item.priority, item.status) == ("manual", Urgency.SOON, "open")
    assert item.pk in today_queue.todays_ids()
    queue = owner_client.get("/followups/").content.decode()
    assert "Send the offer" in queue and f"followup-{item.pk}" in queue
    owner_client.post(f"/followups/{item.pk}/done/", {"note": "Sent"})
    assert FollowUp.objects.get(pk=item.pk).status == "done"

    week = timezone.localdate() + timedelta(days=7)
    response = owner_client.post(
        "/followups/add/",
        {
            "customer": ana.pk,
            "reason": "Ask about the team plan",
            "due": week,
            "note": "Call",
            "back": "customer",
        },
        follow=True,
    )
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == f"/customers/{ana.pk}/"
    assert "Follow-up added" in page and "Ask about the team plan" in page
    assert FollowUp.objects.get(reason="Ask about the team plan").pk not in today_queue.todays_ids()


def test_a_follow_up_for_nobody_or_the_past_is_refused_with_a_reason(owner_client):
    make_customer(name="Same"), make_customer(name="Same")
    someone = make_customer(email="one@example.com")
    for data, message in [
        ({"customer": "nobody@example.com"}, "No customer has this e-mail, id or name."),
        ({"customer": "same"}, "Several customers match"),
        ({"due": timezone.localdate() - timedelta(days=1)}, "Choose today or a later day."),
    ]:
        post = {"customer": someone.email, "reason": "x", "due": timezone.localdate(), **data}
        page = owner_client.post("/followups/add/", post, follow=True).content.decode()
        assert message in page
    assert not FollowUp.objects.exists()
