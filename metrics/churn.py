"""Churn risk ranked by whichever of three rankings did best on the shop's own
held-out time: a calibrated scikit-learn classifier, BG/NBD's expected purchases,
or days since the last activity (docs/metrics.md#churn-risk).

Features are computed as of past cut-off days, from what was known then; the label
says whether the customer churned in the `horizon_days` after the cut-off, by what
they were at the cut-off (subscriber: cancelled in the window; buyer: no purchase in
it). Training label windows end before the validation cut-off. With too little
labelled history the fallback is 1 - P(alive) from BG/NBD, and the result says so.
Pure: DataFrames in, DataFrames out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import brier_score_loss, roc_auc_score

from . import clv
from .inputs import Tables
from .purchase_summary import calendar_day, rfm_summary

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
    "days_since_login",
    "tickets_90d",
    "open_tickets",
    "days_since_contact",
    "last_nps",
    "last_csat",
    "subscribed",
]
RANKINGS = ("classifier", "recency", "bgnbd")
MIN_LABELLED = 200
MAX_TRAINING_ROWS = 300_000
MIN_CLASS = 20


@dataclass
class ChurnResult:
    probability: pd.Series  # customer id -> P(churn within horizon)
    method: str  # the ranking used: "classifier", "recency", "bgnbd"; or "1 - P(alive)", "none"
    reason: str = ""
    metrics: dict = field(default_factory=dict)
    features: pd.DataFrame = field(default_factory=pd.DataFrame)  # as of the prediction day
    # The held-out customers: label and each ranking's score (higher = more at risk).
    validation: pd.DataFrame = field(default_factory=pd.DataFrame)
    # The rankings' scores as of the prediction day (higher = more at risk): the chosen
    # one, or all of them for a backtest (the classifier as validated, before its refit).
    today: pd.DataFrame = field(default_factory=pd.DataFrame)


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
    orders = orders[(orders["occurred_at"] < end) & orders["kind"].eq("purchase")]
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
    last_login = inter[inter["kind"].eq("usage")].groupby("customer_id")["occurred_at"].max()
    frame["days_since_login"] = (
        (cutoff - last_login.dt.normalize()) / pd.Timedelta(days=1)
    ).reindex(frame.index)
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
    # Contact either way: what the owner sent, and the customer's e-mails (replies).
    contact = inter[
        (inter["direction"].eq("outbound") & inter["kind"].isin(["email", "call", "meeting"]))
        | (inter["direction"].eq("inbound") & inter["kind"].eq("email"))
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


def example_kinds(data: Tables, cutoff: pd.Timestamp, ids: pd.Index) -> pd.Series:
    """What each of `ids` was at `cutoff` (docs/metrics.md#churn-risk): "subscriber" if
    they paid a subscription then, else "buyer" if they had bought by then, else ""
    (no example: a subscriber who had already cancelled and never bought)."""
    end = pd.Timestamp(cutoff).normalize() + pd.Timedelta(days=1)
    orders = data.orders
    bought = orders.loc[
        (orders["occurred_at"] < end) & orders["kind"].eq("purchase"), "customer_id"
    ].unique()
    subscriber = subscribed_at(data.customers, end).reindex(ids, fill_value=False).to_numpy()
    buyer = ids.isin(bought)
    return pd.Series(np.select([subscriber, buyer], ["subscriber", "buyer"], ""), index=ids)


def churn_labels(
    data: Tables, cutoff: pd.Timestamp, horizon_days: int, ids: pd.Index, kinds=None
) -> pd.Series:
    """1 if the customer churned in (cutoff, cutoff + horizon], else 0, for `ids`, by
    what they were at the cut-off: a subscriber churns by cancelling inside the
    horizon; a buyer by not buying inside it. Customers who were neither get no label
    (they are not examples; see `example_kinds`, which `kinds` may hand over)."""
    start = pd.Timestamp(cutoff).normalize() + pd.Timedelta(days=1)
    until = start + pd.Timedelta(days=horizon_days)
    orders = data.orders
    window = orders[
        (orders["occurred_at"] >= start)
        & (orders["occurred_at"] < until)
        & orders["kind"].eq("purchase")
    ]
    kinds = example_kinds(data, cutoff, ids) if kinds is None else kinds
    cancelled = data.customers["churned_at"].between(start, until, inclusive="left")
    cancelled = cancelled.reindex(ids, fill_value=False).to_numpy()
    no_purchase = ~ids.isin(window["customer_id"].unique())
    labels = np.where(kinds.eq("subscriber"), cancelled, no_purchase).astype(float)
    return pd.Series(np.where(kinds.eq(""), np.nan, labels), index=ids)


def days_since_activity(features: pd.DataFrame) -> pd.Series:
    """Days since the last purchase or login at the cut-off (tenure when neither): the
    recency baseline the classifier has to beat."""
    return (
        features[["recency_days", "days_since_login"]].min(axis=1).fillna(features["tenure_days"])
    )


def _dataset(data, cutoffs, horizon_days, still_active_days):
    """Labelled rows for each cut-off: everyone subscribed then, and the buyers active
    within `still_active_days` of it (a buyer gone for years is no question for the
    model, and would flatter its AUC)."""
    parts = []
    for cutoff in cutoffs:
        features = build_features(data, cutoff)
        kinds = example_kinds(data, cutoff, features.index)
        labels = churn_labels(data, cutoff, horizon_days, features.index, kinds)
        recent = days_since_activity(features) <= still_active_days
        keep = labels.notna() & (kinds.eq("subscriber") | recent)
        parts.append(
            features[keep].assign(label=labels[keep].astype(int).to_numpy(), cutoff=cutoff)
        )
    return pd.concat(parts) if parts else pd.DataFrame()


def _bgnbd_scores(
    data: Tables, as_of: pd.Timestamp, horizon_days: int, ids, params=None, start=None
):
    """Expected purchases in the next `horizon_days` from BG/NBD fitted on the orders up
    to `as_of` (0 for customers who never bought), or from `params` when given; `start`:
    parameters to start the fit from. None when it cannot be fitted."""
    rfm = rfm_summary(data.orders, as_of)
    try:
        initial = (start.r, start.alpha, start.a, start.b) if start else (1.0, 1.0, 1.0, 1.0)
        params = params or clv.fit_bgnbd(rfm["frequency"], rfm["recency"], rfm["T"], initial)
    except clv.FitError:
        return None
    expected = clv.expected_purchases(
        params, horizon_days, rfm["frequency"], rfm["recency"], rfm["T"]
    )
    return pd.Series(expected, index=rfm.index).reindex(ids, fill_value=0.0)


def auc(labels, scores) -> float | None:
    """ROC AUC of `scores` for `labels` (4 digits); None when only one class occurs."""
    labels = np.asarray(labels)
    if labels.min() == labels.max():
        return None
    return round(float(roc_auc_score(labels, scores)), 4)


def _calibrated(score_fit, labels, score_today) -> np.ndarray:
    """A ranking's scores turned into probabilities: the churn rate of labelled
    customers with a similar score (isotonic regression, monotone in the score)."""
    mapping = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
    mapping.fit(np.asarray(score_fit, float), np.asarray(labels, float))
    return mapping.predict(np.asarray(score_today, float))


def fit_and_predict(
    data: Tables,
    as_of: pd.Timestamp,
    horizon_days: int = 90,
    history_cutoffs: int = 3,
    still_active_days: int = 365,
    fallback: pd.Series | None = None,
    bgnbd: clv.BGNBDParams | None = None,
    every_ranking_today: bool = False,
    random_state: int = 0,
) -> ChurnResult:
    """Rank churn by whichever of the classifier, BG/NBD and recency did best on held-out
    time, and predict as of `as_of`.

    Validation cut-off v = as_of - horizon (its outcome is known today). Training
    cut-offs are v - horizon - 30k days (k = 0..history_cutoffs-1), so that every
    training label window ends before v: nothing the validation judges was seen in
    training. `bgnbd`: the run's fit as of `as_of`, for the BG/NBD ranking today.
    `every_ranking_today`: score today by every ranking, not only the chosen one (for a
    backtest to judge them all; the nightly run needs only the chosen one).
    """
    as_of = pd.Timestamp(as_of).normalize()
    horizon = pd.Timedelta(days=horizon_days)
    validation_cutoff = as_of - horizon
    first_data = data.orders["occurred_at"].min() if len(data.orders) else as_of
    training_cutoffs = [
        validation_cutoff - horizon - pd.Timedelta(days=30 * k) for k in range(history_cutoffs)
    ]
    training_cutoffs = [c for c in training_cutoffs if c - pd.Timedelta(days=30) > first_data]
    current = build_features(data, as_of)

    def fall_back(reason: str, **why) -> ChurnResult:
        if fallback is None:
            values = pd.Series(np.nan, index=current.index)
            method = "none"
        else:
            values = fallback.reindex(current.index)
            method = "1 - P(alive)"
        return ChurnResult(
            values.clip(0, 1), method, reason, metrics={"why": why}, features=current
        )

    if not training_cutoffs:
        days = 2 * horizon_days + 30
        return fall_back(f"less than {days} days of history", code="history", days=days)
    train = _dataset(data, training_cutoffs, horizon_days, still_active_days)
    test = _dataset(data, [validation_cutoff], horizon_days, still_active_days)
    dataset = pd.concat([train, test])
    positives = int(dataset["label"].sum()) if len(dataset) else 0
    negatives = len(dataset) - positives
    if (
        len(train) < MIN_LABELLED
        or min(positives, negatives) < MIN_CLASS
        or test["label"].nunique() < 2
        or train["label"].nunique() < 2
    ):
        return fall_back(
            f"too few labelled examples ({positives} churned, {negatives} stayed)",
            code="examples",
            churned=positives,
            stayed=negatives,
        )

    # A feature with no information (e.g. NPS before any survey) is left out.
    used = [f for f in FEATURES if dataset[f].nunique(dropna=True) > 1]
    if not used:
        return fall_back("no feature varies between customers", code="features")
    # A random sample is as good as all rows for a few gradient-boosted trees, and keeps
    # a million-customer shop's nightly run in minutes.
    if len(train) > MAX_TRAINING_ROWS:
        train = train.sample(MAX_TRAINING_ROWS, random_state=random_state)
    model = _model(random_state)
    model.fit(train[used], train["label"])
    predicted = model.predict_proba(test[used])[:, 1]

    # The rankings to choose from, each judged on the same held-out customers.
    recency_valid = days_since_activity(test)
    # Started from today's fit: the optimum three months earlier is near it.
    bgnbd_valid = _bgnbd_scores(data, validation_cutoff, horizon_days, test.index, start=bgnbd)
    rankings = {
        "classifier": auc(test["label"], predicted),
        "recency": auc(test["label"], recency_valid),
        "bgnbd": auc(test["label"], -bgnbd_valid) if bgnbd_valid is not None else None,
    }
    chosen = max(
        (name for name in rankings if rankings[name] is not None),
        key=lambda name: rankings[name] or 0.0,
    )
    metrics = {
        "auc": rankings[chosen],
        "rankings": rankings,
        "chosen": chosen,
        "brier": float(brier_score_loss(test["label"], predicted)),
        "calibration_error": expected_calibration_error(test["label"].to_numpy(), predicted),
        "base_rate": float(test["label"].mean()),
        "brier_base_rate": float(test["label"].mean() * (1 - test["label"].mean())),
        "train_rows": int(len(train)),
        "validation_rows": int(len(test)),
        "validation_subscribers": int(test["subscribed"].sum()),
        "validation_cutoff": validation_cutoff.date().isoformat(),
        "training_cutoffs": [c.date().isoformat() for c in training_cutoffs],
        "horizon_days": horizon_days,
        "features": used,
    }
    wanted = set(RANKINGS) if every_ranking_today else {chosen}
    today = pd.DataFrame(index=current.index)
    if "classifier" in wanted:  # as validated, before the refit on all cut-offs
        today["classifier"] = model.predict_proba(current[used])[:, 1]
    if "recency" in wanted:
        today["recency"] = days_since_activity(current)
    if "bgnbd" in wanted:
        scores = _bgnbd_scores(data, as_of, horizon_days, current.index, params=bgnbd)
        today["bgnbd"] = -scores if scores is not None else np.nan
    if chosen == "classifier":
        final = _model(random_state)
        final.fit(dataset[used], dataset["label"])
        probability = final.predict_proba(current[used])[:, 1]
    else:
        validated = -bgnbd_valid if chosen == "bgnbd" else recency_valid
        probability = _calibrated(validated, test["label"], today[chosen])
    validation = pd.DataFrame(
        {
            "label": test["label"],
            "classifier": predicted,
            "recency": recency_valid,
            "bgnbd": -bgnbd_valid if bgnbd_valid is not None else np.nan,
        }
    )
    return ChurnResult(
        pd.Series(probability, index=current.index),
        chosen,
        metrics=metrics,
        features=current,
        validation=validation,
        today=today,
    )


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
