"""load_demo builds a believable shop from the real CDNOW log (or a same-shaped stand-in)."""

import re

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
