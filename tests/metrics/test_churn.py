"""The churn model learns a known signal, is honest about quality, and falls back openly."""

from dataclasses import replace

import pandas as pd
import pytest

from metrics import churn
from tests.scoring_data import AS_OF, shop


@pytest.fixture(scope="module")
def data():
    return shop()


@pytest.fixture(scope="module")
def result(data):
    return churn.fit_and_predict(data, AS_OF, horizon_days=90)


def test_the_classifier_beats_the_trivial_baselines_on_held_out_time(result):
    assert result.method == "classifier"
    m = result.metrics
    assert m["validation_cutoff"] == "2026-04-01"  # the latest cut-off with a known outcome
    assert m["auc"] > 0.85
    assert m["brier"] < 0.5 * m["brier_base_rate"]  # far better than predicting the base rate
    assert m["auc"] >= m["auc_recency_only"]  # the ticket signal adds to recency


def test_probabilities_are_calibrated_on_held_out_time(result):
    # Within each tenth of the predictions, the share that churned matches the forecast.
    assert result.metrics["calibration_error"] < 0.08
    assert result.probability.between(0, 1).all()


def test_features_only_use_what_was_known_at_the_cutoff(data):
    cutoff = AS_OF - pd.Timedelta(days=200)
    early = churn.build_features(data, cutoff)
    trimmed = replace(
        data,
        orders=data.orders[data.orders["occurred_at"] < cutoff + pd.Timedelta(days=1)],
        interactions=data.interactions[
            data.interactions["occurred_at"] < cutoff + pd.Timedelta(days=1)
        ],
    )
    pd.testing.assert_frame_equal(early, churn.build_features(trimmed, cutoff))


def test_a_customer_who_buys_in_the_window_is_not_churned(data):
    cutoff = AS_OF - pd.Timedelta(days=120)
    orders = data.orders
    buyer = orders[
        (orders["occurred_at"] > cutoff + pd.Timedelta(days=1))
        & (orders["occurred_at"] < cutoff + pd.Timedelta(days=60))
    ]["customer_id"].iloc[0]
    labels = churn.churn_labels(data, cutoff, 90, pd.Index([buyer]))
    assert labels.loc[buyer] == 0


def test_too_little_history_falls_back_to_one_minus_p_alive_and_says_so(data):
    young = replace(
        data, orders=data.orders[data.orders["occurred_at"] > AS_OF - pd.Timedelta(days=100)]
    )
    fallback = pd.Series(0.3, index=data.customers.index)
    result = churn.fit_and_predict(young, AS_OF, horizon_days=90, fallback=fallback)
    assert result.method == "1 - P(alive)"
    assert "history" in result.reason
    assert (result.probability.dropna() == 0.3).all()


def test_a_cancelled_subscriber_counts_as_subscribed_before_the_cancel_not_after():
    # Today the cancelled customer has MRR 0; using today's MRR as a feature at past
    # cut-offs would tell the model who churned (the labels it is learning).
    customers = pd.DataFrame(
        {
            "mrr": [0.0, 49.0, 0.0],
            "churned_at": [pd.Timestamp("2026-05-10"), pd.NaT, pd.NaT],
        },
        index=[1, 2, 3],
    )
    before = churn.subscribed_at(customers, pd.Timestamp("2026-05-01"))
    after = churn.subscribed_at(customers, pd.Timestamp("2026-06-01"))
    assert before.to_dict() == {1: True, 2: True, 3: False}
    assert after.to_dict() == {1: False, 2: True, 3: False}
    assert "mrr" not in churn.FEATURES and "subscribed" in churn.FEATURES
