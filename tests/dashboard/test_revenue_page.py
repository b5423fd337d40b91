"""The revenue page: MRR movements per month that add up, NRR, GRR, ARPA, CES and the
loyalty coefficient, each with its formula; months still under way left out."""

import pandas as pd
import pytest
from django.core.management import call_command

from metrics import retention
from metrics.models import ScoringRun

pytestmark = pytest.mark.django_db


def test_monthly_mrr_leaves_out_the_month_under_way_and_grr_ignores_expansion():
    orders = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2, 3],
            "occurred_at": pd.to_datetime(
                ["2026-01-05", "2026-02-05", "2026-03-05", "2026-01-09", "2026-02-09", "2026-02-20"]
            ),
            "amount": [10.0, 30.0, 30.0, 20.0, 10.0, 5.0],
            "kind": ["subscription"] * 6,
        }
    )
    mrr = retention.monthly_mrr(orders, until="2026-03-10")
    assert [str(m) for m in mrr.columns] == ["2026-01", "2026-02"]  # March is not over
    moves = retention.mrr_movements(mrr).set_index("month")
    assert moves.loc["2026-02", ["new", "expansion", "contraction"]].tolist() == [5.0, 20.0, -10.0]
    assert retention.net_revenue_retention(mrr, "2026-01", "2026-02") == pytest.approx(40 / 30)
    assert retention.gross_revenue_retention(mrr, "2026-01", "2026-02") == pytest.approx(20 / 30)
    rfm = pd.DataFrame({"frequency": [0, 3, 1]})
    assert retention.repeat_share(rfm) == pytest.approx(4 / 7)


def test_the_demo_revenue_page_shows_movements_that_add_up_to_its_mrr(owner_client):
    call_command("load_demo", "--synthetic", "--customers", "800", "--no-user")
    call_command("score")
    months = ScoringRun.objects.current().summary["mrr"]
    assert len(months) >= 13
    moved = sum(
        m[k] for m in months for k in ("new", "expansion", "reactivation", "contraction", "churn")
    )
    assert moved == pytest.approx(months[-1]["mrr"])  # from nothing to today's MRR, every cent
    for before, after in zip(months, months[1:], strict=False):
        net = sum(after[k] for k in ("new", "expansion", "reactivation", "contraction", "churn"))
        assert after["mrr"] - before["mrr"] == pytest.approx(net)
    assert any(m["churn"] < 0 for m in months) and any(m["expansion"] > 0 for m in months)
    page = owner_client.get("/revenue/").content.decode()
    for text in (
        "MRR movements by month",
        "Net revenue retention, 12 months",
        "Gross revenue retention, 12 months",
        "ARPA",
        "CES, 90 days",
        "Loyalty coefficient",
        "MRR now of the accounts that paid 12 months ago",
    ):
        assert text in page
    table = page[page.index('id="movements"') :]
    assert months[-1]["month"] in table and f"{months[-1]['mrr']:,.0f}" in table
    chinese = owner_client.get("/revenue/", headers={"Accept-Language": "zh-Hans"})
    assert "净收入留存率" in chinese.content.decode()
