"""The dashboard: KPI cards with formulas and trends, charts, the no-run state."""

from datetime import timedelta

import pytest

from customers.dashboard.kpis import kpis
from metrics.feedback_scores import csat, nps
from metrics.models import ScoringRun

pytestmark = pytest.mark.django_db


def test_the_dashboard_says_when_there_is_no_run_yet(owner_client):
    page = owner_client.get("/").content.decode()
    assert "No scoring run yet." in page and 'href="/settings/"' in page


def test_the_dashboard_shows_kpis_with_formulas_trends_and_charts(owner_client, scored):
    page = owner_client.get("/").content.decode()
    assert 'data-kpi="revenue"' in page and "1,200" in page
    assert "▲" in page and "vs previous 30 days" in page  # 1,200 against 1,000
    assert 'data-tip="Sum of orders minus refunds' in page
    assert "10 answers ± 55" in page  # a small sample looks uncertain
    assert page.count("<svg") == 3  # health, NPS, revenue
    assert 'id="cohorts"' in page and ">66<" in page


def test_kpis_compare_with_a_run_four_weeks_older(owner_client, scored):
    run, _ = scored
    ScoringRun.objects.create(
        as_of=run.as_of - timedelta(days=30),
        status="succeeded",
        summary={"active_customers": 5, "clv_total": 2000.0},
    )
    page = owner_client.get("/").content.decode()
    active = page.split('data-kpi="active"')[1].split("data-kpi=")[0]
    assert "▼" in active and "vs 4 weeks ago" in active and "worse" in active
    clv = page.split('data-kpi="clv_total"')[1].split("data-kpi=")[0]
    assert "▲" in clv and "1,000" in clv


def test_the_health_histogram_is_coloured_by_the_runs_bands(owner_client, scored):
    run, _ = scored
    run.summary["health_thresholds"] = {"green": 80, "yellow": 50}
    run.save()
    page = owner_client.get("/").content.decode()
    chart = page.split('id="health-chart"')[1].split("</svg>")[0]
    colours = [part.split('"')[0] for part in chart.split('class="bar ')[1:]]
    assert colours == ["red"] * 5 + ["yellow"] * 3 + ["green"] * 2


def test_the_nps_and_csat_cards_say_few_answers_and_keep_a_wide_margin():
    cards = {c.key: c for c in kpis({"nps_90d": nps([10, 10]), "csat_90d": csat([5])}, None)}
    assert cards["nps"].value == 100 and "few answers" in cards["nps"].detail
    assert "± 64.4" in cards["nps"].detail
    assert "few answers" in cards["csat"].detail and "%" in cards["csat"].detail


def test_the_dashboard_and_run_page_say_which_churn_ranking_is_used_and_by_how_much(
    owner_client, scored
):
    run, _ = scored
    run.model_metrics = {
        "churn": {
            "method": "recency",
            "rankings": {"classifier": 0.66, "recency": 0.74, "bgnbd": 0.70},
            "brier": 0.19,
            "brier_base_rate": 0.24,
            "validation_rows": 1500,
            "validation_subscribers": 210,
        }
    }
    run.save()
    said = (
        "Churn risk is ranked by days since the last purchase or login: AUC 0.74 on the "
        "held-out months (0.66 for the trained model, 0.70 for BG/NBD expected purchases"
    )
    assert said in owner_client.get("/").content.decode()
    detail = owner_client.get(f"/runs/{run.pk}/").content.decode()
    assert said in detail and "1,500 held-out customers (210 of them subscribers)" in detail
    chinese = owner_client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "流失风险按距最近一次购买或登录的天数排序：在留出月份上 AUC 为 0.74" in chinese


def test_without_a_churn_estimate_the_dashboard_says_why(owner_client, scored):
    run, _ = scored
    run.model_metrics = {"churn": {"method": "none", "why": {"code": "history", "days": 210}}}
    run.save()
    assert "No churn risk yet: less than 210 days of history." in (
        owner_client.get("/").content.decode()
    )


def test_when_clv_cannot_be_fitted_the_card_and_run_page_say_why(owner_client, scored):
    run, _ = scored
    problem = {"error": "…", "code": "repeat_buyers", "n": 0, "needed": 20}
    run.summary = {**run.summary, "clv_total": None, "clv_not_estimated": problem}
    run.model_metrics = {
        "bgnbd": problem,
        "gamma_gamma": {**problem, "code": "flat", "parameter": "mean spend"},
    }
    run.save()
    page = owner_client.get("/").content.decode()
    assert "not estimated for buyers: needs at least 20 repeat buyers (has 0)" in page
    detail = owner_client.get(f"/runs/{run.pk}/").content.decode()
    assert "Not fitted: needs at least 20 repeat buyers (has 0)." in detail
    assert "the fit was degenerate (the mean spend is not pinned down by the data)" in detail
    chinese = owner_client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "needs at least" not in chinese
