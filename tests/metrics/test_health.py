"""Health score by hand: components, weights, bands, the explanation."""

import re

import numpy as np
import pandas as pd
import pytest
from django.utils import translation

from metrics import health


def facts(**overrides):
    row = {
        "days_since_activity": 9.0,
        "orders_90d": 2,
        "orders_prev_90d": 2,
        "last_nps": np.nan,
        "last_csat": np.nan,
        "tickets_90d": 0,
        "open_tickets": 0,
        "churn_probability": 0.1,
    }
    row.update(overrides)
    return pd.DataFrame([row])


def test_components_by_hand():
    parts = health.components(
        facts(last_nps=8.0, open_tickets=1, tickets_90d=1), inactive_after_days=90
    )
    row = parts.iloc[0]
    assert row["engagement"] == 90.0  # 100 x (1 - 9/90)
    assert row["purchase_trend"] == 50.0  # flat
    assert row["satisfaction"] == 80.0
    assert row["support"] == 65.0  # 100 - 25 - 10
    assert row["churn_risk"] == 90.0


def test_missing_components_are_left_out_and_weights_renormalised():
    parts = health.components(facts())
    assert np.isnan(parts.iloc[0]["satisfaction"])
    weights = {
        "engagement": 1,
        "purchase_trend": 1,
        "satisfaction": 5,
        "support": 1,
        "churn_risk": 1,
    }
    # (90 + 50 + 100 + 90) / 4 = 82.5; the heavy satisfaction weight does not count.
    assert health.health_score(parts, weights).iloc[0] == 82.5


def test_owner_weights_change_the_score():
    parts = health.components(facts(days_since_activity=80.0, churn_probability=0.9))
    engagement_only = {
        "engagement": 1,
        "purchase_trend": 0,
        "satisfaction": 0,
        "support": 0,
        "churn_risk": 0,
    }
    assert health.health_score(parts, engagement_only).iloc[0] == pytest.approx(11.1)


def test_bands_follow_thresholds():
    scores = pd.Series([85, 70, 69.9, 40, 39.9])
    assert health.band(scores).tolist() == ["green", "green", "yellow", "yellow", "red"]
    assert health.band(scores, {"green": 90, "yellow": 50}).tolist() == [
        "yellow",
        "yellow",
        "yellow",
        "red",
        "red",
    ]


def test_the_explanation_names_the_weak_components():
    row = facts(
        days_since_activity=120.0, open_tickets=2, tickets_90d=3, churn_probability=0.8
    ).iloc[0]
    parts = health.components(row.to_frame().T).iloc[0].to_dict()
    text = health.explain(parts, row.to_dict())
    assert text.startswith("Held back by ")
    assert "no purchase or login for 120 days" in text or "80% chance of churning" in text
    healthy = health.explain({"engagement": 95, "churn_risk": 97}, {"days_since_activity": 3})
    assert healthy.startswith("Healthy:")


def test_a_customer_with_no_purchase_and_no_login_has_no_engagement_score_and_is_told_so():
    nothing = facts(days_since_activity=np.nan, churn_probability=0.2)
    parts = health.components(nothing)
    assert np.isnan(parts.loc[0, "engagement"])
    score = health.health_score(parts).iloc[0]
    # the other four, re-weighted: trend 50, support 100, churn 80 (no survey answer)
    expected = (0.15 * 50 + 0.1 * 100 + 0.3 * 80) / (0.15 + 0.1 + 0.3)
    assert score == pytest.approx(round(expected, 1))
    sentence = health.explain(parts.iloc[0].to_dict(), nothing.iloc[0].to_dict())
    assert "0 days" not in sentence
    assert sentence.endswith("No purchase or login yet, so engagement is not counted.")


def test_the_explanation_is_written_in_the_active_language():
    row = facts(days_since_activity=120.0, churn_probability=0.8).iloc[0]
    parts = health.components(row.to_frame().T).iloc[0].to_dict()
    with translation.override("zh-hans"):
        text = health.explain(parts, row.to_dict())
    assert "120" in text and not re.search(r"[A-Za-z]{3,}", text), text
