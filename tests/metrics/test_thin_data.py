"""Thin data is handled and said: no fit on too little, degenerate fits refused, heavy
single orders shrunk as the Gamma-Gamma posterior implies (issue 12, point 8)."""

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from customers.demo_data import read_cdnow
from metrics import clv, scoring
from metrics.bench import generate
from metrics.inputs import Tables
from metrics.purchase_summary import rfm_summary

AS_OF = pd.Timestamp("2026-06-30")


def _tables(orders: pd.DataFrame) -> Tables:
    ids = pd.Index(sorted(orders["customer_id"].unique()), name="id")
    customers = pd.DataFrame(
        {
            "signup_date": orders.groupby("customer_id")["occurred_at"].min().dt.normalize(),
            "churned_at": pd.NaT,
            "mrr": 0.0,
            "plan": "",
            "subscription_ends_on": pd.NaT,
            "lifecycle_stage": "active",
        },
        index=ids,
    )
    return Tables.orders_only(orders.assign(kind="purchase"), customers)


def _score(data: Tables) -> tuple[scoring.Fitted, pd.DataFrame]:
    fitted = scoring.fit_population(data, AS_OF)
    return fitted, scoring.score_chunk(fitted, fitted.facts.index)


def test_a_shop_where_everyone_is_new_gets_no_fit_and_nobody_is_called_confident():
    # 500 customers who all bought for the first time in the last three weeks; fitted
    # anyway, BG/NBD gave r in the thousands and some customers a "confident" CLV.
    rng = np.random.default_rng(1)
    rows = []
    for customer in range(500):
        start = AS_OF - pd.Timedelta(days=int(rng.integers(0, 20)))
        for _ in range(rng.choice([1, 1, 2, 3])):
            day = start + pd.Timedelta(days=int(rng.integers(0, (AS_OF - start).days + 1)))
            rows.append((customer, day + pd.Timedelta(hours=12), float(rng.gamma(3, 15))))
    orders = pd.DataFrame(rows, columns=["customer_id", "occurred_at", "amount"])
    fitted, scores = _score(_tables(orders))
    assert fitted.bgnbd is None and fitted.model_metrics["bgnbd"]["code"] == "history"
    assert fitted.summary["clv_not_estimated"]["needed"] == 90
    assert scores["clv"].isna().all() and not scores["clv_confident"].any()
    assert fitted.model_metrics["churn"]["method"] == "none"
    assert scores["churn_probability"].isna().all()


def test_a_fit_the_data_leave_flat_is_refused_as_degenerate():
    # Every repeat buyer bought again today: nobody has had the chance to drop out, so
    # nothing in the data says how often customers do (the likelihood is flat in it).
    rng = np.random.default_rng(0)
    big_t = rng.integers(5, 60, 300).astype(float)
    x = rng.integers(0, 4, 300).astype(float)
    with pytest.raises(clv.FitError) as refused:
        clv.fit_bgnbd(x, np.where(x > 0, big_t, 0.0), big_t)
    assert refused.value.code == "flat"
    assert refused.value.details["parameter"] == "mean dropout chance"
    # A shape parameter running off with its ratio fixed ("everyone alike") is no such
    # failure: the benchmark shop, where buyers stop at random, not after a purchase.
    shop = generate(5000, 50_000)["orders"].rename(columns={"customer": "customer_id"})
    rfm = rfm_summary(shop, AS_OF)
    params = clv.fit_bgnbd(rfm["frequency"], rfm["recency"], rfm["T"])
    assert params.a > 100 and params.b > 100


def test_a_shop_of_one_time_buyers_says_there_is_no_clv_yet_not_one_minus_p_alive():
    rng = np.random.default_rng(2)
    days = rng.integers(1, 400, 300)
    orders = pd.DataFrame(
        {
            "customer_id": np.arange(300),
            "occurred_at": AS_OF - pd.to_timedelta(days, unit="D"),
            "amount": rng.gamma(3, 15, 300),
        }
    )
    fitted, scores = _score(_tables(orders))
    problem = fitted.model_metrics["bgnbd"]
    assert problem["code"] == "repeat_buyers" and problem["n"] == 0
    assert scores["clv"].isna().all()
    churn = fitted.model_metrics["churn"]
    assert churn["method"] != "1 - P(alive)"  # there is no P(alive) without BG/NBD
    assert "bgnbd" not in {k for k, v in (churn.get("rankings") or {}).items() if v is not None}


def test_fits_need_enough_customers_and_repeat_buyers_and_say_how_many():
    with pytest.raises(clv.FitError, match="at least 50 customers \\(has 3\\)"):
        clv.fit_bgnbd([1, 0, 2], [5, 0, 9], [10, 12, 14])
    with pytest.raises(clv.FitError, match="at least 20 repeat buyers \\(has 2\\)"):
        clv.fit_gamma_gamma([1, 2], [10.0, 12.0])


def test_a_single_repeat_order_of_a_million_is_shrunk_as_the_posterior_implies():
    sample = read_cdnow("CDNOW_sample.txt")
    assert sample is not None, "could not download the lifetimes wheel with pip"
    rfm = rfm_summary(sample.rename(columns={"date": "occurred_at"}), pd.Timestamp("1997-09-30"), 7)
    x = np.append(rfm["frequency"].to_numpy(float), 1)
    m = np.append(rfm["monetary"].to_numpy(float), 1_000_000.0)
    params = clv.fit_gamma_gamma(x, m)
    assert params.q > 1  # the population mean spend still exists
    estimate = clv.expected_average_spend(params, [1], [1_000_000.0])[0]
    # E[spend] = E[p / nu] with nu | data ~ Gamma(p x + q, rate gamma + m x), integrated
    # numerically: the model's own posterior, not its closed form.
    posterior = stats.gamma(params.p + params.q, scale=1 / (params.gamma + 1_000_000.0))
    by_integration, _ = integrate.quad(
        lambda nu: params.p / nu * posterior.pdf(nu), posterior.ppf(1e-12), posterior.ppf(1 - 1e-12)
    )
    assert estimate == pytest.approx(by_integration, rel=1e-4)
    shrink = (params.p + params.q - 1) / params.p  # m x p / (p x + q - 1) = m / shrink
    assert estimate == pytest.approx(1_000_000 / shrink, rel=1e-3)
    assert estimate < 0.8 * 1_000_000  # pulled towards the population, as the model says
    # One purchase says little: next year's 80% range runs from nothing (they may never
    # buy again) to hundreds of thousands.
    bgnbd = clv.BGNBDParams(0.243, 4.414, 0.793, 2.426, 0.0, 2357)
    low, high = clv.value_interval(bgnbd, params, [1], [10.0], [38.0], [1_000_000.0], t=52)
    assert low[0] == 0 and high[0] > 100_000
