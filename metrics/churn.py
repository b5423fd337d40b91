"""Churn risk: a calibrated scikit-learn classifier trained on the shop's own history.

Features are computed as of past cut-off days; the label says whether the customer
churned in the `horizon_days` after the cut-off (subscribers: churned_at in the
window; buyers: no purchase in the window). Validation is time-based: the model
is trained on earlier cut-offs and judged on the latest labelled one. With too
little labelled history the fallback is 1 - P(alive) from BG/NBD, and the result
says so. Pure: DataFrames in, DataFrames out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import brier_score_loss, roc_auc_score

from .inputs import Tables
from .purchase_summary import calendar_day

FEATURES = [
    "recency_days",
    "frequency",
    "monetary",
    "tenure_days",
    "orders_90d",
    "orders_prev_90d",
    "activity_trend",
    "revenue_90d",
    "logins_30d",
    "tickets_90d",
    "open_tickets",
    "days_since_contact",
    "last_nps",
    "last_csat",
    "subscribed",
]
MIN_LABELLED = 200
MAX_TRAINING_ROWS = 300_000
MIN_CLASS = 20


@dataclass
class ChurnResult:
    probability: pd.Series  # customer id -> P(churn within horizon)
    method: str  # "classifier" or "1 - P(alive)"
    reason: str = ""
    metrics: dict = field(default_factory=dict)
    features: pd.DataFrame = field(default_factory=pd.DataFrame)  # as of the prediction day


def build_features(data: Tables, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Features as of `cutoff` for customers with a purchase or signup on or before it.

    `data`: orders (customer_id, occurred_at, amount, kind), customers (index id:
    signup_date, churned_at, mrr, plan), interactions (customer_id, kind, direction,
    occurred_at, opened_at, resolved_at), responses (customer_id, kind, score,
    responded_at). All times naive local.
    """
    cutoff = pd.Timestamp(cutoff).normalize()
    end = cutoff + pd.Timedelta(days=1)  # include the cut-off day
    orders = data.orders
    orders = orders[(orders["occurred_at"] < end) & ~orders["kind"].eq("refund")]
    customers = data.customers
    known = customers[
        (customers["signup_date"].isna() | (customers["signup_date"] < end))
        & (customers["churned_at"].isna() | (customers["churned_at"] >= end))
    ]
    day = calendar_day(orders["occurred_at"])
    per = pd.DataFrame(
        {
            "customer_id": orders["customer_id"].to_numpy(),
            "day": day.to_numpy(),
            "amount": orders["amount"].to_numpy(),
        }
    )
    grouped = per.groupby("customer_id")
    first, last = grouped["day"].min(), grouped["day"].max()
    frame = pd.DataFrame(index=known.index.union(first.index))
    frame.index.name = "customer_id"
    frame["recency_days"] = ((cutoff - last) / pd.Timedelta(days=1)).reindex(frame.index)
    frame["frequency"] = (
        per.drop_duplicates(["customer_id", "day"])
        .groupby("customer_id")
        .size()
        .reindex(frame.index, fill_value=0)
    )
    frame["monetary"] = grouped["amount"].mean().reindex(frame.index)
    start = pd.concat([first, known["signup_date"]], axis=1).min(axis=1).reindex(frame.index)
    frame = frame[start.notna()]  # not a customer yet at the cut-off
    frame["tenure_days"] = (cutoff - start[frame.index]) / pd.Timedelta(days=1)
    recent = per[per["day"] > cutoff - pd.Timedelta(days=90)]
    previous = per[
        (per["day"] <= cutoff - pd.Timedelta(days=90))
        & (per["day"] > cutoff - pd.Timedelta(days=180))
    ]
    frame["orders_90d"] = recent.groupby("customer_id").size().reindex(frame.index, fill_value=0)
    frame["orders_prev_90d"] = (
        previous.groupby("customer_id").size().reindex(frame.index, fill_value=0)
    )
    frame["activity_trend"] = frame["orders_90d"] - frame["orders_prev_90d"]
    frame["revenue_90d"] = (
        recent.groupby("customer_id")["amount"].sum().reindex(frame.index, fill_value=0.0)
    )

    inter = data.interactions
    inter = inter[inter["occurred_at"] < end]
    logins = inter[
        inter["kind"].eq("usage") & (inter["occurred_at"] >= cutoff - pd.Timedelta(days=29))
    ]
    frame["logins_30d"] = logins.groupby("customer_id").size().reindex(frame.index, fill_value=0)
    tickets = inter[inter["kind"].eq("ticket")]
    frame["tickets_90d"] = (
        tickets[tickets["occurred_at"] >= cutoff - pd.Timedelta(days=89)]
        .groupby("customer_id")
        .size()
        .reindex(frame.index, fill_value=0)
    )
    still_open = tickets[tickets["resolved_at"].isna() | (tickets["resolved_at"] >= end)]
    frame["open_tickets"] = (
        still_open.groupby("customer_id").size().reindex(frame.index, fill_value=0)
    )
    contact = inter[
        inter["direction"].eq("outbound") & inter["kind"].isin(["email", "call", "meeting"])
    ]
    last_contact = contact.groupby("customer_id")["occurred_at"].max()
    frame["days_since_contact"] = ((cutoff - last_contact) / pd.Timedelta(days=1)).reindex(
        frame.index
    )

    responses = data.responses
    responses = responses[responses["responded_at"] < end].sort_values("responded_at")
    for kind in ("nps", "csat"):
        latest = responses[responses["kind"].eq(kind)].groupby("customer_id")["score"].last()
        frame[f"last_{kind}"] = latest.reindex(frame.index)
    # Subscribed as of the cut-off. Not today's MRR or plan: a subscriber who has since
    # cancelled has MRR 0 now, which would hand the model its past labels.
    frame["subscribed"] = (
        subscribed_at(customers, end).reindex(frame.index, fill_value=False).astype(int)
    )
    return frame[FEATURES].astype(float)


def subscribed_at(customers: pd.DataFrame, moment: pd.Timestamp) -> pd.Series:
    """Customers who paid a subscription at `moment`: subscribers now, and those whose
    subscription ended (churned_at) after it."""
    churned_at = customers["churned_at"]
    subscriber = (customers["mrr"] > 0) | churned_at.notna()
    return subscriber & (churned_at.isna() | (churned_at >= moment))


def churn_labels(data: Tables, cutoff: pd.Timestamp, horizon_days: int, ids: pd.Index) -> pd.Series:
    """1 if the customer churned in (cutoff, cutoff + horizon], else 0, for `ids`."""
    cutoff = pd.Timestamp(cutoff).normalize() + pd.Timedelta(days=1)
    until = cutoff + pd.Timedelta(days=horizon_days)
    orders = data.orders
    window = orders[
        (orders["occurred_at"] >= cutoff)
        & (orders["occurred_at"] < until)
        & ~orders["kind"].eq("refund")
    ]
    bought = set(window["customer_id"].unique())
    customers = data.customers
    subscriber = (customers["mrr"] > 0) | customers["churned_at"].notna()
    churned_sub = customers["churned_at"].between(cutoff, until, inclusive="left")
    is_sub = subscriber.reindex(ids, fill_value=False).to_numpy()
    sub_churn = churned_sub.reindex(ids, fill_value=False).to_numpy()
    no_purchase = ~ids.isin(list(bought))
    return pd.Series(np.where(is_sub, sub_churn, no_purchase), index=ids).astype(int)


def _dataset(data, cutoffs, horizon_days, still_active_days):
    """Labelled rows for customers who were still active at each cut-off (a customer
    gone for years is no question for the model, and would flatter its AUC)."""
    parts = []
    for cutoff in cutoffs:
        features = build_features(data, cutoff)
        features = features[
            features["recency_days"].fillna(features["tenure_days"]) <= still_active_days
        ]
        labels = churn_labels(data, cutoff, horizon_days, features.index)
        parts.append(features.assign(label=labels.to_numpy(), cutoff=cutoff))
    return pd.concat(parts) if parts else pd.DataFrame()


def fit_and_predict(
    data: Tables,
    as_of: pd.Timestamp,
    horizon_days: int = 90,
    history_cutoffs: int = 4,
    still_active_days: int = 365,
    fallback: pd.Series | None = None,
    random_state: int = 0,
) -> ChurnResult:
    """Train on cut-offs as_of - horizon - k*30 days (k = 1..history_cutoffs-1), validate
    on as_of - horizon, refit on all of them, predict as of `as_of`."""
    as_of = pd.Timestamp(as_of).normalize()
    latest_labelled = as_of - pd.Timedelta(days=horizon_days)
    first_data = data.orders["occurred_at"].min() if len(data.orders) else as_of
    cutoffs = [latest_labelled - pd.Timedelta(days=30 * k) for k in range(history_cutoffs)]
    cutoffs = [c for c in cutoffs if c - pd.Timedelta(days=30) > first_data]
    current = build_features(data, as_of)

    def fall_back(reason: str) -> ChurnResult:
        values = (
            fallback.reindex(current.index)
            if fallback is not None
            else pd.Series(np.nan, index=current.index)
        )
        return ChurnResult(values.clip(0, 1), "1 - P(alive)", reason, features=current)

    if len(cutoffs) < 2:
        return fall_back(f"less than {horizon_days + 60} days of history")
    dataset = _dataset(data, cutoffs, horizon_days, still_active_days)
    positives = int(dataset["label"].sum())
    negatives = len(dataset) - positives
    if len(dataset) < MIN_LABELLED or min(positives, negatives) < MIN_CLASS:
        return fall_back(f"too few labelled examples ({positives} churned, {negatives} stayed)")

    # A feature with no information (e.g. NPS before any survey) is left out.
    used = [f for f in FEATURES if dataset[f].nunique(dropna=True) > 1]
    if not used:
        return fall_back("no feature varies between customers")
    # A random sample is as good as all rows for a few gradient-boosted trees, and keeps
    # a million-customer shop's nightly run in minutes.
    if len(dataset) > MAX_TRAINING_ROWS:
        dataset = dataset.sample(MAX_TRAINING_ROWS, random_state=random_state)
    valid = dataset["cutoff"] == cutoffs[0]
    train, test = dataset[~valid], dataset[valid]
    model = _model(random_state)
    model.fit(train[used], train["label"])
    predicted = model.predict_proba(test[used])[:, 1]
    metrics = {
        "auc": float(roc_auc_score(test["label"], predicted))
        if test["label"].nunique() == 2
        else None,
        "brier": float(brier_score_loss(test["label"], predicted)),
        "calibration_error": expected_calibration_error(test["label"].to_numpy(), predicted),
        "base_rate": float(test["label"].mean()),
        "brier_base_rate": float(test["label"].mean() * (1 - test["label"].mean())),
        "auc_recency_only": float(roc_auc_score(test["label"], test["recency_days"].fillna(1e6)))
        if test["label"].nunique() == 2
        else None,
        "train_rows": int(len(train)),
        "validation_rows": int(len(test)),
        "validation_cutoff": cutoffs[0].date().isoformat(),
        "horizon_days": horizon_days,
        "features": used,
    }
    final = _model(random_state)
    final.fit(dataset[used], dataset["label"])
    probability = pd.Series(final.predict_proba(current[used])[:, 1], index=current.index)
    return ChurnResult(probability, "classifier", metrics=metrics, features=current)


def expected_calibration_error(labels: np.ndarray, predicted: np.ndarray, bins: int = 10) -> float:
    """Mean |observed rate - mean prediction| over equal-count bins, weighted by size."""
    order = np.argsort(predicted)
    gaps = [
        len(chunk) * abs(labels[chunk].mean() - predicted[chunk].mean())
        for chunk in np.array_split(order, bins)
        if len(chunk)
    ]
    return float(sum(gaps) / len(labels))


def _model(random_state: int):
    """Gradient boosting (handles missing NPS etc. natively), isotonic-calibrated by CV."""
    booster = HistGradientBoostingClassifier(
        max_iter=200,
        learning_rate=0.08,
        max_leaf_nodes=31,
        l2_regularization=1.0,
        random_state=random_state,
    )
    return CalibratedClassifierCV(booster, method="isotonic", cv=3)
