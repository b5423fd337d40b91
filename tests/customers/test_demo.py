"""load_demo builds a believable shop from the real CDNOW log (or a same-shaped stand-in)."""

import re

import pandas as pd
import pytest
from django.core.management import call_command
from django.utils import timezone

from customers import demo_data
from customers.models import Customer, Interaction, Order

pytestmark = pytest.mark.django_db


def test_the_cdnow_log_is_read_from_the_lifetimes_wheel():
    frame = demo_data.read_cdnow()
    assert frame is not None, "could not download the lifetimes wheel with pip"
    assert len(frame) == 69_659
    assert frame["customer_id"].nunique() == 23_570
    assert frame["date"].min().isoformat()[:10] == "1997-01-01"
    assert frame["date"].max().isoformat()[:10] == "1998-06-30"


def test_load_demo_loads_cdnow_shifted_to_end_yesterday_and_prints_the_login(capsys, client):
    call_command("load_demo")
    out = capsys.readouterr().out
    assert "CDNOW_master.txt" in out
    assert Customer.objects.count() == 23_570
    purchases = Order.objects.filter(kind="purchase")
    assert purchases.count() == 69_659
    last = purchases.latest("occurred_at").occurred_at
    assert (timezone.localdate() - timezone.localtime(last).date()).days <= 2
    assert Interaction.objects.filter(kind="ticket", resolved_at__isnull=False).exists()
    assert Customer.objects.filter(locale="zh-hans").count() > 5000
    assert not Customer.objects.filter(email="").exists()
    username, password = re.search(r"Demo login: (\S+) / (\S+)", out).groups()
    assert client.login(username=username, password=password)


def test_load_demo_twice_changes_no_counts(capsys):
    call_command("load_demo", "--synthetic", "--customers", "400")
    counts = (Customer.objects.count(), Order.objects.count(), Interaction.objects.count())
    names = dict(Customer.objects.values_list("external_id", "name"))
    call_command("load_demo", "--synthetic", "--customers", "400")
    assert (Customer.objects.count(), Order.objects.count(), Interaction.objects.count()) == counts
    assert dict(Customer.objects.values_list("external_id", "name")) == names
    assert counts[0] > 300 and counts[1] > counts[0]


def test_without_the_wheel_a_synthetic_generator_is_used_and_says_so(monkeypatch, capsys):
    monkeypatch.setattr(demo_data, "lifetimes_wheel", lambda download=True: None)
    call_command("load_demo", "--customers", "200", "--no-user")
    captured = capsys.readouterr()
    assert "could not be downloaded" in captured.err
    assert "synthetic" in captured.out
    assert Customer.objects.count() > 100


def test_synthetic_data_has_the_shape_of_cdnow():
    frame = demo_data.synthetic_transactions(customers=3000, seed=1)
    per_customer = frame.groupby("customer_id").size()
    assert per_customer.min() >= 1
    # In CDNOW about 60% of customers never buy again after the first purchase.
    assert 0.45 < (per_customer == 1).mean() < 0.8
    assert frame["date"].max() < timezone.datetime(1998, 7, 1)


@pytest.fixture(scope="module")
def demo_frames():
    transactions = demo_data.synthetic_transactions(customers=6000, seed=2)
    today = timezone.localdate()
    customers, orders, interactions = demo_data.build_demo(transactions, today)
    return customers, orders, interactions, demo_data.survey_answers(customers, orders, today)


def test_demo_members_cancel_throughout_the_history_and_fade_before_they_do(demo_frames):
    customers, _orders, interactions, _answers = demo_frames
    cancelled = pd.to_datetime(customers["churned_at"], utc=True).dropna()
    members = customers["tags"].str.len() > 0
    assert 0.2 < len(cancelled) / members.sum() < 0.9  # some stay, many leave
    assert cancelled.dt.strftime("%Y-%m").nunique() >= 12  # not all at one time
    # Members who cancelled within the last 90 days have MRR 0 and a cancel date: the
    # churn model has recent cancellations to learn from.
    assert (customers.loc[customers["churned_at"].notna(), "mrr"] == "0.00").all()
    logins = interactions[interactions["kind"].eq("usage")]
    when = logins["customer_external_id"].map(
        pd.to_datetime(customers.set_index("external_id")["churned_at"], utc=True)
    )
    before = (when - logins["occurred_at"]).dt.days
    last_month = before.between(0, 29).sum()
    two_months_earlier = before.between(60, 89).sum()
    assert last_month < 0.6 * two_months_earlier  # visits fade before a cancel


def test_demo_logins_and_answers_come_from_the_past_never_the_future(demo_frames):
    customers, orders, interactions, answers = demo_frames
    first = (
        pd.to_datetime(orders["occurred_at"], utc=True)
        .dt.normalize()
        .groupby(orders["customer_external_id"])
        .min()
    )
    logins = interactions[interactions["kind"].eq("usage")]
    # Nobody signs in before the day they became a customer (a login "because they
    # will buy" would hand the churn model the future).
    assert (logins["occurred_at"] >= logins["customer_external_id"].map(first)).all()
    # Everyone invited had bought before the invitation was sent.
    assert (
        pd.to_datetime(answers["sent_at"], utc=True) > answers["customer_external_id"].map(first)
    ).all()
