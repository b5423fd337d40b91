"""CLV models checked against the published CDNOW estimates and hand-computed values."""

import numpy as np
import pandas as pd
import pytest

from customers.demo_data import read_cdnow
from metrics import clv
from metrics.inputs import ScoringConfig
from metrics.purchase_summary import rfm_summary
from metrics.scoring import _subscription_clv

CALIBRATION_END = pd.Timestamp("1997-09-30")  # 39 weeks from 1997-01-01


@pytest.fixture(scope="module")
def cdnow_sample():
    frame = read_cdnow("CDNOW_sample.txt")
    assert frame is not None, "could not download the lifetimes wheel with pip"
    return frame.rename(columns={"date": "occurred_at"})


@pytest.fixture(scope="module")
def calibration(cdnow_sample):
    return rfm_summary(cdnow_sample, CALIBRATION_END, period_days=7)


@pytest.fixture(scope="module")
def bgnbd(calibration):
    return clv.fit_bgnbd(calibration["frequency"], calibration["recency"], calibration["T"])


def test_bgnbd_reproduces_the_published_cdnow_estimates(calibration, bgnbd):
    # Fader, Hardie & Lee (2005a), Table/section 4: r .243, alpha 4.414, a .793, b 2.426, LL -9582.4
    assert len(calibration) == 2357
    assert round(bgnbd.r, 3) == 0.243
    assert round(bgnbd.alpha, 3) == 4.414
    assert round(bgnbd.a, 3) == 0.793
    assert round(bgnbd.b, 3) == 2.426
    assert round(bgnbd.log_likelihood, 1) == -9582.4


def test_gamma_gamma_reproduces_the_published_cdnow_estimates(calibration):
    # Fader & Hardie (2013), the 946 repeat buyers: p 6.25, q 3.74, gamma 15.44
    fit = clv.fit_gamma_gamma(calibration["frequency"], calibration["monetary"])
    assert fit.n_customers == 946
    assert (round(fit.p, 2), round(fit.q, 2), round(fit.gamma, 2)) == (6.25, 3.74, 15.44)


def test_conditional_expectation_of_the_papers_worked_example(bgnbd):
    # x = 2, t_x = 30.43, T = 38.86 weeks: 1.226 purchases expected in the next 39 weeks.
    assert round(float(clv.expected_purchases(bgnbd, 39, 2, 30.43, 38.86)), 3) == 1.226


def test_holdout_repeat_purchases_are_predicted_within_15_percent(cdnow_sample, calibration, bgnbd):
    holdout = cdnow_sample[
        (cdnow_sample["occurred_at"] > CALIBRATION_END)
        & (cdnow_sample["occurred_at"] <= "1998-06-30")
    ]
    actual = holdout.groupby(["customer_id", "occurred_at"]).size().groupby("customer_id").size()
    predicted = clv.expected_purchases(
        bgnbd, 39, calibration["frequency"], calibration["recency"], calibration["T"]
    )
    assert actual.sum() == pytest.approx(predicted.sum(), rel=0.15)


def test_p_alive_is_one_without_repeat_purchases_and_falls_with_silence(bgnbd):
    alive = clv.probability_alive(bgnbd, [0, 3, 3], [0, 30, 5], [38, 38, 38])
    assert alive[0] == 1.0
    assert alive[1] > alive[2]


def test_subscription_clv_is_twelve_months_of_margin_times_survival_discounted():
    by_hand = sum(50 * 0.8 * 0.96**m / 1.01**m for m in range(1, 13))
    assert clv.subscription_clv(50, 0.8, 0.04) == pytest.approx(by_hand)
    # nobody leaves: twelve discounted months of margin, never "ten years of revenue"
    assert clv.subscription_clv(50, 0.8, 0.0, monthly_discount=0.0) == pytest.approx(480)
    assert clv.subscription_clv(50, 0.8, 1.0) == 0


def test_expected_spend_shrinks_a_customers_mean_towards_the_population():
    params = clv.GammaGammaParams(p=6.25, q=3.74, gamma=15.44, log_likelihood=0, n_customers=946)
    population = 6.25 * 15.44 / (3.74 - 1)
    one, many = clv.expected_average_spend(params, [1, 20], [100.0, 100.0])
    assert population < one < many < 100
    # Hand computation: (gamma + m x) p / (p x + q - 1) with x = 1, m = 100.
    assert one == pytest.approx((15.44 + 100) * 6.25 / (6.25 + 3.74 - 1))
    assert clv.expected_average_spend(params, [0], [0.0])[0] == pytest.approx(population)


def test_undiscounted_clv_is_twelve_months_of_purchases_times_spend(bgnbd):
    gg = clv.GammaGammaParams(p=6.25, q=3.74, gamma=15.44, log_likelihood=0, n_customers=1)
    rfm = pd.DataFrame(
        {"frequency": [4], "recency": [200.0], "T": [300.0], "monetary": [30.0]}
    )  # days

    def clv_of(**options):
        return clv.summary_frame_clv(rfm, bgnbd, gg, **options)["clv"].iloc[0]

    undiscounted = clv_of(monthly_discount=0.0)
    year = clv.expected_purchases(bgnbd, 365.25, [4], [200.0], [300.0]) * (
        clv.expected_average_spend(gg, [4], [30.0])
    )
    assert undiscounted == pytest.approx(year[0])
    assert clv_of(monthly_discount=0.01, margin=0.5) < 0.5 * undiscounted


GG = clv.GammaGammaParams(p=6.25, q=3.74, gamma=15.44, log_likelihood=0, n_customers=946)


def test_the_value_draws_average_to_the_models_expected_value(bgnbd):
    # The posterior predictive must agree with the closed forms it is drawn from:
    # mean of the draws = E[purchases in t] x E[spend] (Gamma-Gamma spend is
    # independent of the purchase process).
    x, t_x, big_t, m = [0, 2, 7], [0.0, 20.0, 30.0], [38.0, 38.0, 38.0], [0.0, 35.0, 60.0]
    draws = clv.value_draws(bgnbd, GG, x, t_x, big_t, m, t=39, draws=200_000)
    expected = clv.expected_purchases(bgnbd, 39, x, t_x, big_t) * clv.expected_average_spend(
        GG, x, m
    )
    assert draws.mean(axis=1) == pytest.approx(expected, rel=0.03)


def test_the_value_interval_holds_its_level(bgnbd):
    x, t_x, big_t, m = [1, 12], [30.0, 36.0], [38.0, 38.0], [40.0, 40.0]
    draws = clv.value_draws(bgnbd, GG, x, t_x, big_t, m, t=39, draws=4000, seed=5)
    low, high = clv.value_interval(bgnbd, GG, x, t_x, big_t, m, t=39)
    held = ((draws >= low[:, None]) & (draws <= high[:, None])).mean(axis=1)
    assert held == pytest.approx([0.8, 0.8], abs=0.03)
    expected = draws.mean(axis=1)
    assert (low < expected).all() and (expected < high).all()


def test_when_nothing_is_likeliest_the_interval_starts_at_zero_and_keeps_its_level(bgnbd):
    # A one-time buyer quiet for most of the period: most likely no purchase at all.
    low, high = clv.value_interval(bgnbd, GG, [0, 1], [0.0, 2.0], [38.0, 38.0], [0.0, 30.0], t=39)
    draws = clv.value_draws(bgnbd, GG, [0, 1], [0.0, 2.0], [38.0, 38.0], [0.0, 30.0], 39, 4000, 7)
    nothing = (draws == 0).mean(axis=1)
    assert (low == 0).all() and (nothing > 0.1).all()
    held = ((draws >= 0) & (draws <= high[:, None])).mean(axis=1)
    # [0, high] holds the level, or just the chance of nothing when that is larger.
    assert held == pytest.approx(np.maximum(0.8, nothing), abs=0.03)


def test_too_little_data_is_a_clear_fit_error():
    with pytest.raises(clv.FitError):
        clv.fit_bgnbd([0, 0, 0], [0, 0, 0], [5, 6, 7])
    with pytest.raises(clv.FitError):
        clv.fit_gamma_gamma([1, 2], [10.0, 12.0])


def test_rfm_summary_merges_same_day_purchases_and_nets_refunds():
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "a", "b"],
            "occurred_at": pd.to_datetime(
                [
                    "2024-01-01 09:00",
                    "2024-01-01 18:00",
                    "2024-01-11",
                    "2024-01-21",
                    "2024-01-22",
                    "2024-01-05",
                ],
                format="ISO8601",
            ),
            "amount": [10.0, 5.0, 20.0, 40.0, -15.0, 7.0],
            "kind": ["purchase", "purchase", "purchase", "purchase", "refund", "purchase"],
        }
    )
    rfm = rfm_summary(tx, pd.Timestamp("2024-01-31"))
    a, b = rfm.loc["a"], rfm.loc["b"]
    assert (a["frequency"], a["recency"], a["T"]) == (2, 20, 30)
    assert a["revenue"] == 60.0 and a["orders"] == 4
    # Repeat days are worth 20 and 40 (mean 30), scaled by net/gross = 60/75.
    assert a["monetary"] == pytest.approx(30 * 60 / 75)
    assert (b["frequency"], b["monetary"], b["T"]) == (0, 0.0, 26)


def test_subscribers_get_subscription_clv_from_their_churn_risk():

    frame = pd.DataFrame(
        {
            "mrr": [50.0, 0.0],
            "churn_probability": [0.2, 0.5],
            "margin": [0.8, 1.0],
            "tenure_days": [400, 400],
            "clv": [10.0, 99.0],
            "clv_low": [1.0, 1.0],
            "clv_high": [2.0, 2.0],
            "clv_confident": [False, True],
        }
    )
    out = _subscription_clv(frame.copy(), ScoringConfig(horizon_days=90))
    monthly = 1 - 0.8 ** (clv.DAYS_PER_MONTH / 90)
    assert out.loc[0, "clv"] == pytest.approx(
        sum(50 * 0.8 * (1 - monthly) ** m / 1.01**m for m in range(1, 13))
    )
    assert out.loc[0, "clv_confident"] and np.isnan(out.loc[0, "clv_low"])
    assert out.loc[1, "clv"] == 99.0  # not a subscriber: the BG/NBD figure stays


def test_without_a_spend_model_clv_uses_own_or_overall_mean_spend_and_flags_confidence(bgnbd):
    rfm = pd.DataFrame(
        {
            "frequency": [3, 0],
            "recency": [100.0, 0.0],
            "T": [200.0, 50.0],
            "monetary": [40.0, 0.0],
            "revenue": [160.0, 25.0],
            "orders": [4, 1],
        }
    )
    out = clv.summary_frame_clv(rfm, bgnbd, None, monthly_discount=0.0)
    purchases = clv.discounted_purchases(bgnbd, rfm["frequency"], rfm["recency"], rfm["T"], 12, 0.0)
    assert out["clv"].tolist() == pytest.approx([purchases[0] * 40.0, purchases[1] * 40.0])
    assert out["clv_confident"].tolist() == [True, False]
    # The range counts purchases, each worth that same spend.
    assert (out["clv_low"] <= out["clv_high"]).all()
    assert np.allclose(out["clv_high"] / 40.0 % 1, 0)
