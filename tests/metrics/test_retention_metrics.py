"""Retention, cohorts, MRR movements, survey scores and support load against hand-computed values."""

import math

import numpy as np
import pandas as pd
import pytest

from metrics import feedback_scores, retention, support
from metrics.purchase_summary import rfm_summary

T = pd.Timestamp


def spans(rows):
    return pd.DataFrame(rows, columns=["start", "end"]).astype("datetime64[ns]")


def test_retention_and_churn_for_one_month_by_hand():
    frame = spans(
        [
            (T("2024-01-05"), None),  # active all February
            (T("2024-01-10"), T("2024-02-10")),  # lost in February
            (T("2024-01-20"), None),  # active
            (T("2024-01-25"), T("2024-02-20")),  # lost
            (T("2024-02-03"), None),  # new, stays
            (T("2024-02-04"), T("2024-02-14")),  # new, leaves within the month
        ]
    )
    feb = retention.retention_by_period(frame, "2024-02-01", "2024-03-01").iloc[0]
    assert (feb.at_start, feb.new, feb.lost, feb.at_end) == (4, 2, 2, 3)
    # (at end 3 - new still there 1) / 4 = 0.5 ; churn 2 / 4 = 0.5
    assert feb.retention_rate == 0.5 and feb.churn_rate == 0.5


def test_cohort_retention_is_the_share_buying_or_paying_in_month_k_by_hand():
    frame = spans(
        [
            (T("2024-01-03"), None),  # 1: buys in January and March
            (T("2024-01-15"), None),  # 2: buys in January only
            (T("2024-01-20"), None),  # 3: a member from January, cancels in February
            (T("2024-02-02"), None),  # 4: buys in February
        ]
    ).set_axis([1, 2, 3, 4])
    orders = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2, 4, 3],
            "occurred_at": [
                T("2024-01-03"),
                T("2024-03-09"),
                T("2024-01-15"),
                T("2024-01-29"),
                T("2024-02-02"),
                T("2024-01-20"),
            ],
            "kind": ["purchase"] * 3 + ["refund", "purchase", "subscription"],
        }
    )
    customers = pd.DataFrame(
        {
            "signup_date": [T("2024-01-03"), T("2024-01-15"), T("2024-01-20"), T("2024-02-02")],
            "churned_at": [pd.NaT, pd.NaT, T("2024-02-12"), pd.NaT],
            "mrr": [0.0, 0.0, 0.0, 0.0],
        },
        index=[1, 2, 3, 4],
    )
    table = retention.cohort_retention(frame, orders, customers, as_of="2024-03-31", max_months=3)
    jan = table.loc["2024-01"]
    assert jan["customers"] == 3
    # February: only the member, still paying until the 12th; March: customer 1 buys
    # again. Not a trailing window: nobody is counted for having bought in January.
    assert [jan[0], jan[1], jan[2]] == [1.0, pytest.approx(1 / 3), pytest.approx(1 / 3)]
    assert math.isnan(jan[3])  # April is not over
    assert table.loc["2024-02", 0] == 1.0 and table.loc["2024-02", 1] == 0.0


def test_activity_spans_for_subscribers_and_buyers():
    customers = pd.DataFrame(
        {
            "signup_date": [T("2024-01-01"), T("2024-01-01")],
            "churned_at": [T("2024-05-02 13:00"), pd.NaT],
            "mrr": [0.0, 0.0],
        },
        index=[1, 2],
    )
    tx = pd.DataFrame(
        {
            "customer_id": [2, 2],
            "occurred_at": [T("2024-02-01"), T("2024-03-01")],
            "amount": [10.0, 10.0],
        }
    )
    rfm = rfm_summary(tx, T("2024-12-31"))
    last_activity = pd.Series([pd.NaT, T("2024-03-20 18:00")], index=[1, 2])  # a login after
    result = retention.activity_spans(
        customers, last_activity, rfm, as_of=T("2024-12-31"), inactive_after_days=90
    )
    assert result.loc[1, "end"] == T("2024-05-02")
    # Retained until 90 days after the last purchase or login, whichever is later.
    assert result.loc[2, "start"] == T("2024-02-01") and result.loc[2, "end"] == T("2024-06-18")


def test_mrr_movements_by_hand():
    months = pd.period_range("2024-01", "2024-05", freq="M")
    mrr = pd.DataFrame(
        [
            [10, 10, 20, 20, 20],  # expansion in March
            [30, 30, 15, 0, 15],  # contraction, churn, reactivation
            [0, 50, 50, 50, 50],  # new in February
        ],
        columns=months,
        dtype=float,
    )
    moves = retention.mrr_movements(mrr).set_index("month")
    assert moves.loc["2024-02", "new"] == 50
    assert moves.loc["2024-03", "expansion"] == 10 and moves.loc["2024-03", "contraction"] == -15
    assert moves.loc["2024-04", "churn"] == -15 and moves.loc["2024-05", "reactivation"] == 15
    assert moves.loc["2024-03", "arpa"] == pytest.approx((20 + 15 + 50) / 3)
    # Every change of MRR is explained by exactly one movement.
    explained = moves[["new", "reactivation", "expansion", "contraction", "churn"]].sum(axis=1)
    assert np.allclose(explained.iloc[1:], moves["mrr"].diff().iloc[1:])
    assert retention.net_revenue_retention(mrr, "2024-01", "2024-05") == pytest.approx(
        (20 + 15) / 40
    )


def test_monthly_mrr_from_subscription_payments():
    orders = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 1],
            "occurred_at": [T("2024-01-03"), T("2024-03-03"), T("2024-01-09"), T("2024-03-20")],
            "amount": [9.0, 9.0, 19.0, 5.0],
            "kind": ["subscription", "subscription", "subscription", "purchase"],
        }
    )
    table = retention.monthly_mrr(orders)
    assert list(table.columns.astype(str)) == ["2024-01", "2024-02", "2024-03"]
    assert table.loc[1].tolist() == [9.0, 0.0, 9.0]


def test_loyalty_coefficient_is_repeat_over_all_purchases():
    rfm = pd.DataFrame({"frequency": [0, 1, 3]})
    assert retention.loyalty_coefficient(rfm).tolist() == [0.0, 0.5, 0.75]


def test_nps_of_the_brief_and_its_adjusted_wald_margin():
    scores = [10] * 30 + [8] * 60 + [3] * 10
    result = feedback_scores.nps(scores)
    assert result["nps"] == 20 and (
        result["promoters"],
        result["passives"],
        result["detractors"],
    ) == (30, 60, 10)
    # Adjusted Wald (Rocks 2016): n' = 103, p = 30.75/103, d = 10.75/103,
    # var = p + d - (p - d)^2 = 0.3652, 1.96 * sqrt(0.3652 / 103) * 100 = 11.67
    assert result["margin"] == 11.7 and not result["few"]
    assert feedback_scores.nps([])["nps"] is None


def test_few_answers_never_look_certain():
    two_promoters = feedback_scores.nps([10, 10])
    assert two_promoters["nps"] == 100 and two_promoters["margin"] > 50
    assert two_promoters["few"]
    csat = feedback_scores.csat([5, 5, 5])
    assert csat["csat"] == 100 and csat["margin"] > 25 and csat["few"]
    ces = feedback_scores.ces([2, 2])
    assert ces["ces"] == 2 and ces["margin"] > 1 and ces["few"]
    # and many answers narrow the interval
    assert feedback_scores.csat([5] * 300)["margin"] < 2


def test_csat_and_ces():
    assert feedback_scores.csat([5, 4, 3, 1])["csat"] == 50.0
    assert feedback_scores.ces([1, 2, 6])["ces"] == 3.0


def test_scores_over_a_window_and_by_month():
    responses = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 1],
            "kind": ["nps", "nps", "nps", "csat"],
            "score": [10, 0, 9, 5],
            "responded_at": [T("2024-01-10"), T("2024-03-01"), T("2024-03-20"), T("2024-03-21")],
        }
    )
    window = feedback_scores.score_window(responses, "nps", as_of="2024-03-31", days=31)
    assert (window["nps"], window["n"]) == (0.0, 2)
    trend = feedback_scores.monthly_trend(responses, "nps")
    assert trend["month"].tolist() == ["2024-01", "2024-03"] and trend["nps"].tolist() == [
        100.0,
        0.0,
    ]


def test_support_load_as_an_mm1_queue_by_hand():
    day = pd.Timedelta(days=1)
    as_of = T("2024-03-31")
    opened = [as_of - k * day for k in range(1, 16)]  # 15 tickets in 30 days: lambda 0.5
    tickets = pd.DataFrame(
        {
            "opened_at": opened,
            "first_response_at": [t + pd.Timedelta(hours=2) for t in opened],
            # resolved on 5 distinct days, 3 a day: mu = 3 per busy day
            "resolved_at": [as_of - (k // 3 + 1) * day + pd.Timedelta(hours=12) for k in range(15)],
        }
    )
    load = support.support_load(tickets, as_of, days=30)
    assert load["lambda_per_day"] == 0.5 and load["mu_per_day"] == 3.0
    rho = 0.5 / 3
    assert load["rho"] == round(rho, 3)
    assert load["lq"] == round(rho**2 / (1 - rho), 3)
    assert load["wq_days"] == round(rho**2 / (1 - rho) / 0.5, 3)
    assert load["median_first_response_hours"] == 2.0 and not load["overloaded"]
