"""On the demo shop, segments mean what they say (issue: Champions full of churned
customers). Run with -s to see each segment's size and mean days since purchase."""

import pytest
from django.core.management import call_command
from django.db.models import Avg, Count

from customers.followups.nightly import score_and_refresh
from metrics.models import CustomerScore
from segmentation.rfm import VALUE_SEGMENTS

pytestmark = pytest.mark.django_db


def test_the_demo_has_no_churned_or_worthless_customers_in_a_value_segment(capsys):
    call_command("load_demo", "--no-user")
    run = score_and_refresh()
    scores = CustomerScore.objects.filter(run=run).exclude(rfm_segment="")
    sizes = scores.values("rfm_segment").annotate(n=Count("id"), days=Avg("recency_days"))
    with capsys.disabled():
        for row in sizes.order_by("-n"):
            print(f"{row['rfm_segment']:<20} {row['n']:>6} customers, {row['days']:>6.0f} days")
    valued = scores.filter(rfm_segment__in=VALUE_SEGMENTS)
    assert valued.exists()
    assert not valued.filter(behaviour="churned").exists()
    assert not valued.filter(revenue__lte=0).exists()
    one_time = scores.filter(frequency=0).values_list("rfm_f", flat=True).distinct()
    assert list(one_time) == [1]  # identical one-time buyers share one F score
