"""The churn model learns a known signal, is honest about quality, and falls back openly."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from metrics import churn
from metrics.inputs import Tables
from tests.scoring_data import AS_OF, shop


@pytest.fixture(scope="module")
def data():
    return shop()


@pytest.fixture(scope="module")
def result(data):
    return churn.fit_and_predict(data, AS_OF, horizon_days=90)


def test_the_run_ranks_by_whichever_ranking_did_best_on_held_out_time(result):
    m = result.metrics
    assert m["validation_cutoff"] == "2026-04-01"  # the latest cut-off with a known outcome
    rankings = m["rankings"]
    assert set(rankings) == {"classifier", "recency", "bgnbd"}
    assert result.method == m["chosen"] == max(rankings, key=rankings.get)
    # The shop's tickets before leaving are a signal recency cannot see.
    assert result.method == "classifier" and m["auc"] > rankings["recency"] > 0.8
    assert m["brier"] < 0.5 * m["brier_base_rate"]  # far better than predicting the base rate
    # The AUCs are those of the held-out rows, recomputed here from their scores.
    held_out = result.validation
    for name in rankings:
        assert rankings[name] == round(roc_auc_score(held_out["label"], held_out[name]), 4)


def test_a_baseline_that_wins_is_used_and_its_scores_become_probabilities(data):
    # Without logins and tickets the classifier has nothing recency does not have.
    bare = replace(data, interactions=data.interactions.iloc[0:0])
    result = churn.fit_and_predict(bare, AS_OF, horizon_days=90)
    rankings = result.metrics["rankings"]
    assert result.method == max(rankings, key=rankings.get)
    if result.method != "classifier":
        # Probabilities rise with the ranking's score (isotonic), within 0..1.
        assert result.probability.between(0, 1).all()
        assert result.probability.nunique() > 3


def test_training_label_windows_end_before_the_validation_cut_off(result):
    m = result.metrics
    validation = pd.Timestamp(m["validation_cutoff"])
    horizon = pd.Timedelta(days=m["horizon_days"])
    assert all(pd.Timestamp(c) + horizon <= validation for c in m["training_cutoffs"])


def test_what_happens_after_the_validation_cut_off_cannot_reach_the_trained_model(data, result):
    # Another future after the validation cut-off (different orders, logins, tickets):
    # the held-out predictions must not move, or the training saw the validation window.
    cut = pd.Timestamp(result.metrics["validation_cutoff"]) + pd.Timedelta(days=1)
    other_future = replace(
        data,
        orders=pd.concat(
            [
                data.orders[data.orders["occurred_at"] < cut],
                data.orders[data.orders["occurred_at"] >= cut].sample(frac=0.5, random_state=1),
            ]
        ),
        interactions=data.interactions[data.interactions["occurred_at"] < cut],
    )
    again = churn.fit_and_predict(other_future, AS_OF, horizon_days=90)
    both = result.validation.join(again.validation.add_suffix("_again"))
    assert len(both) == len(result.validation)
    assert np.allclose(both["classifier"], both["classifier_again"])
    assert not both["label"].equals(both["label_again"])  # the outcomes did change


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
    # Without a BG/NBD fit either, there is no churn estimate, not an invented one.
    none = churn.fit_and_predict(young, AS_OF, horizon_days=90)
    assert none.method == "none" and none.probability.isna().all()


def _subscription_history():
    """Four customers on 2026-03-01: 1 subscribed and cancels in the window, 2 subscribed
    and stays, 3 cancelled in January and still buys CDs, 4 cancelled in January and
    never bought anything."""
    customers = pd.DataFrame(
        {
            "signup_date": pd.Timestamp("2025-06-01"),
            "churned_at": [
                pd.Timestamp("2026-04-15"),
                pd.NaT,
                pd.Timestamp("2026-01-10"),
                pd.Timestamp("2026-01-10"),
            ],
            "mrr": [0.0, 19.0, 0.0, 0.0],  # today's MRR: 0 for everyone who has cancelled
            "plan": ["", "Club", "", ""],
            "lifecycle_stage": ["churned", "active", "churned", "churned"],
        },
        index=pd.Index([1, 2, 3, 4], name="id"),
    )
    orders = pd.DataFrame(
        {
            "customer_id": [3, 3, 3],
            "occurred_at": pd.to_datetime(["2025-12-01", "2026-02-01", "2026-04-20"]),
            "amount": [20.0, 25.0, 30.0],
            "kind": "purchase",
        }
    )
    return Tables.orders_only(orders, customers)


def test_labels_follow_one_definition_per_kind_of_customer():
    data = _subscription_history()
    cutoff = pd.Timestamp("2026-03-01")
    ids = data.customers.index
    kinds = churn.example_kinds(data, cutoff, ids)
    assert kinds.to_dict() == {1: "subscriber", 2: "subscriber", 3: "buyer", 4: ""}
    labels = churn.churn_labels(data, cutoff, 90, ids)
    assert labels[1] == 1  # cancelled inside the horizon
    assert labels[2] == 0  # still subscribed, though they never bought a thing
    assert labels[3] == 0  # cancelled before the cut-off: a buyer, who bought in April
    assert np.isnan(labels[4])  # already gone at the cut-off: not an example at all
    # The same customer judged from a cut-off after their cancel is no subscriber.
    assert churn.example_kinds(data, pd.Timestamp("2026-05-01"), ids)[1] == ""


def test_features_at_a_past_cut_off_ignore_todays_plan_mrr_and_stage():
    data = _subscription_history()
    cutoff = pd.Timestamp("2026-03-01")
    before = churn.build_features(data, cutoff)
    changed = data.customers.assign(
        mrr=[99.0, 0.0, 5.0, 0.0], plan=["Gold", "", "Basic", ""], lifecycle_stage="active"
    )
    changed.loc[2, "churned_at"] = pd.Timestamp("2026-06-01")  # cancels later than the cut-off
    after = churn.build_features(replace(data, customers=changed), cutoff)
    pd.testing.assert_frame_equal(before, after)
    assert before.loc[[1, 2, 3], "subscribed"].tolist() == [1.0, 1.0, 0.0]


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
