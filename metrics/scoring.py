"""The nightly computation, pure: data frames in, score frames out.

`fit_population` does everything that needs the whole customer base once (model
fits, churn probabilities, quintiles, clusters, population metrics);
`score_chunk` turns any slice of customers into CustomerScore rows, so chunks can
run in several Celery workers after one population fit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from segmentation import clusters as clustering
from segmentation.rfm import behaviour_state, rfm_segments

from . import churn, clv, feedback_scores, health, retention, support
from .inputs import ScoringConfig, Tables
from .purchase_summary import rfm_summary


@dataclass
class Fitted:
    as_of: pd.Timestamp
    config: ScoringConfig
    bgnbd: clv.BGNBDParams | None
    gamma_gamma: clv.GammaGammaParams | None
    facts: pd.DataFrame  # one row per customer id
    model_metrics: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)


class Stopwatch:
    """Seconds per stage; `on_lap(timings)` after each stage (a run's progress)."""

    def __init__(self, on_lap: Callable[[dict[str, float]], object] | None = None):
        self.timings: dict[str, float] = {}
        self._last = time.perf_counter()
        self._on_lap = on_lap

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = round(self.timings.get(stage, 0) + now - self._last, 3)
        self._last = now
        if self._on_lap is not None:
            self._on_lap(dict(self.timings))


def as_seen_on(data: Tables, as_of) -> Tables:
    """The data as it stood at the end of day `as_of`, so that a run for a past day (a
    backfill) sees only its past: later orders, interactions and answers left out,
    later ticket replies and cancellations not yet happened, customers who signed up
    later not yet there. What is not dated (a plan changed since) stays as it is now.
    Frames with nothing later are returned as they are (no copy of 10M orders)."""
    end = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)

    def before(frame: pd.DataFrame, column: str) -> pd.DataFrame:
        later = frame[column] >= end
        return frame[~later] if later.any() else frame

    def not_yet(frame: pd.DataFrame, columns) -> pd.DataFrame:
        if not any((frame[c] >= end).any() for c in columns):
            return frame
        frame = frame.copy()
        for column in columns:
            frame[column] = frame[column].where(frame[column] < end)
        return frame

    interactions = before(data.interactions, "occurred_at")
    customers = data.customers
    signed_up_later = customers["signup_date"] >= end
    if signed_up_later.any():
        customers = customers[~signed_up_later]
    return _only_customers(
        Tables(
            orders=before(data.orders, "occurred_at"),
            interactions=not_yet(interactions, ["first_response_at", "resolved_at"]),
            responses=before(data.responses, "responded_at"),
            customers=not_yet(customers, ["churned_at"]),
        )
    )


FUTURE_SLACK = pd.Timedelta(days=1)  # as the import allows
MIN_HISTORY_DAYS = 90  # of orders, before BG/NBD is fitted


def screen(data: Tables, today, currency: str | None = None) -> tuple[Tables, dict[str, int]]:
    """Leave out what cannot be true, so that one bad record never stops the run, and
    count it for the run's record (docs/metrics.md#history-backfills-and-the-runs-numbers):
    customers who sign up more than a day after `today` (with their orders, interactions
    and answers), orders dated more than a day after it, and orders in another currency
    than the account's (adding 2,000 JPY as 2,000 USD would be wrong)."""
    latest = pd.Timestamp(today).normalize() + FUTURE_SLACK + pd.Timedelta(days=1)
    customers, orders = data.customers, data.orders
    impossible = customers["signup_date"] >= latest
    of_impossible = orders["customer_id"].isin(customers.index[impossible])
    future_orders = (orders["occurred_at"] >= latest) & ~of_impossible
    foreign = pd.Series(False, index=orders.index)
    if currency and "currency" in orders:
        foreign = (orders["currency"].astype(str) != currency) & ~of_impossible & ~future_orders
    skipped = {
        "future_signup": int(impossible.sum()),
        "future_orders": int(future_orders.sum()),
        "other_currency": int(foreign.sum()),
    }
    if impossible.any() or future_orders.any() or foreign.any():
        data = _only_customers(
            Tables(
                orders=orders[~(future_orders | foreign)],
                customers=customers[~impossible],
                interactions=data.interactions,
                responses=data.responses,
            )
        )
    return data, {reason: n for reason, n in skipped.items() if n}


def _only_customers(data: Tables) -> Tables:
    """The rows of the customers that are in `data.customers`."""
    ids = data.customers.index

    def known(frame: pd.DataFrame) -> pd.DataFrame:
        inside = frame["customer_id"].isin(ids)
        return frame if inside.all() else frame[inside]

    return Tables(
        orders=known(data.orders),
        customers=data.customers,
        interactions=known(data.interactions),
        responses=known(data.responses),
    )


def fit_population(
    data: Tables,
    as_of,
    config: ScoringConfig | None = None,
    on_lap: Callable[[dict[str, float]], object] | None = None,
) -> Fitted:
    config = config or ScoringConfig()
    as_of = pd.Timestamp(as_of).normalize()
    watch = Stopwatch()
    customers = data.customers
    orders = data.orders
    rfm = rfm_summary(orders, as_of)
    watch.lap("rfm")

    metrics: dict = {}
    bgnbd = gamma_gamma = None
    history = int(rfm["T"].max()) if len(rfm) else 0
    if history < MIN_HISTORY_DAYS:
        metrics["bgnbd"] = {
            "error": f"needs {MIN_HISTORY_DAYS} days of orders (has {history})",
            "code": "history",
            "n": history,
            "needed": MIN_HISTORY_DAYS,
        }
    else:
        try:
            bgnbd = clv.fit_bgnbd(rfm["frequency"], rfm["recency"], rfm["T"])
            metrics["bgnbd"] = bgnbd.as_dict()
        except clv.FitError as exc:
            metrics["bgnbd"] = exc.as_dict()
    try:
        gamma_gamma = clv.fit_gamma_gamma(rfm["frequency"], rfm["monetary"])
        metrics["gamma_gamma"] = gamma_gamma.as_dict()
    except clv.FitError as exc:
        metrics["gamma_gamma"] = exc.as_dict()
    watch.lap("clv_fit")

    p_alive = (
        pd.Series(
            clv.probability_alive(bgnbd, rfm["frequency"], rfm["recency"], rfm["T"]),
            index=rfm.index,
        )
        if bgnbd
        else pd.Series(dtype=float)
    )
    risk = churn.fit_and_predict(
        data,
        as_of,
        config.horizon_days,
        fallback=1 - p_alive if bgnbd else None,
        bgnbd=bgnbd,
    )
    metrics["churn"] = {"method": risk.method, "reason": risk.reason, **risk.metrics}
    watch.lap("churn")

    current = risk.features  # the churn model's features as of today are facts too
    facts = pd.DataFrame(index=customers.index.union(rfm.index))
    facts.index.name = "customer_id"
    for name in ("frequency", "monetary", "revenue", "orders", "first", "last"):
        facts[name] = rfm[name].reindex(facts.index)
    facts["frequency"] = facts["frequency"].fillna(0).astype(int)
    facts["orders"] = facts["orders"].fillna(0).astype(int)
    facts[["monetary", "revenue"]] = facts[["monetary", "revenue"]].fillna(0.0)
    facts["recency_T"] = rfm["recency"].reindex(facts.index)
    facts["T"] = rfm["T"].reindex(facts.index)
    facts["recency_days"] = (as_of - facts["last"]) / pd.Timedelta(days=1)
    signup = customers["signup_date"].reindex(facts.index)
    start = pd.concat([facts["first"], signup], axis=1).min(axis=1)
    facts["tenure_days"] = (as_of - start) / pd.Timedelta(days=1)
    interactions = data.interactions
    logins = (
        interactions[interactions["kind"].eq("usage")].groupby("customer_id")["occurred_at"].max()
    )
    last_activity = pd.concat([facts["last"], logins.reindex(facts.index)], axis=1).max(axis=1)
    facts["days_since_activity"] = (as_of - last_activity.dt.normalize()) / pd.Timedelta(days=1)
    for name in (
        "orders_90d",
        "orders_prev_90d",
        "tickets_90d",
        "open_tickets",
        "last_nps",
        "last_csat",
        "days_since_contact",
    ):
        facts[name] = current[name].reindex(facts.index)
    for name in ("orders_90d", "orders_prev_90d", "tickets_90d", "open_tickets"):
        facts[name] = facts[name].fillna(0)
    facts["p_alive"] = p_alive.reindex(facts.index)
    facts["churn_probability"] = risk.probability.reindex(facts.index).clip(0, 1)
    facts["loyalty"] = retention.loyalty_coefficient(facts).fillna(0.0)
    facts["mrr"] = customers["mrr"].reindex(facts.index).fillna(0.0)
    facts["subscription_ends_on"] = customers["subscription_ends_on"].reindex(facts.index)
    margins = (
        orders.dropna(subset=["margin"]).groupby("customer_id")["margin"].mean()
        if "margin" in orders
        else pd.Series(dtype=float)
    )
    facts["margin"] = margins.reindex(facts.index).fillna(config.gross_margin or 1.0)

    churned = customers["churned_at"].reindex(facts.index).notna() | customers[
        "lifecycle_stage"
    ].reindex(facts.index).eq("churned").fillna(False).astype(bool)
    paying = (facts["mrr"] > 0) & customers["churned_at"].reindex(facts.index).isna()
    facts["behaviour"] = behaviour_state(
        facts["days_since_activity"],
        churned,
        paying,
        inactive_after_days=config.inactive_after_days,
    )
    buyers = facts["last"].notna()
    segments = rfm_segments(
        facts.loc[buyers, "recency_days"],
        facts.loc[buyers, "frequency"],
        facts.loc[buyers, "revenue"],
        gone=facts.loc[buyers, "behaviour"].eq("churned"),
    )
    facts = facts.join(
        segments.rename(
            columns={"r": "rfm_r", "f": "rfm_f", "m": "rfm_m", "segment": "rfm_segment"}
        )
    )
    facts["rfm_segment"] = facts["rfm_segment"].astype(object).fillna("")  # non-buyers: ""
    cluster_input = pd.DataFrame(
        {
            "days_since_last": facts.loc[buyers, "recency_days"],
            "frequency": facts.loc[buyers, "frequency"],
            "monetary": facts.loc[buyers, "revenue"] / facts.loc[buyers, "orders"].clip(lower=1),
            "tenure_days": facts.loc[buyers, "tenure_days"],
        }
    )
    grouping = clustering.cluster_customers(cluster_input)
    facts["cluster"] = grouping.labels.reindex(facts.index) if grouping else np.nan
    watch.lap("segments")

    summary = population_summary(data, facts, rfm, as_of, config)
    if bgnbd is None:  # no CLV for buyers: the dashboard says why instead of a number
        summary["clv_not_estimated"] = metrics["bgnbd"]
    summary["clusters"] = (
        {
            "k": grouping.k,
            "silhouette": round(grouping.silhouette, 3),
            "groups": {str(k): v for k, v in grouping.descriptions.items()},
        }
        if grouping
        else None
    )
    watch.lap("population_metrics")
    return Fitted(as_of, config, bgnbd, gamma_gamma, facts, metrics, summary, watch.timings)


def population_summary(
    data: Tables, facts: pd.DataFrame, rfm: pd.DataFrame, as_of, config: ScoringConfig
) -> dict:
    """The numbers the dashboard shows about the whole base (JSON-ready)."""
    orders, customers = data.orders, data.customers
    day = pd.Timedelta(days=1)
    revenue = {
        f"last_{n}d": float(
            orders.loc[orders["occurred_at"] > as_of + day - n * day, "amount"].sum()
        )
        for n in (30, 90)
    }
    revenue["previous_30d"] = float(
        orders.loc[
            (orders["occurred_at"] > as_of + day - 60 * day)
            & (orders["occurred_at"] <= as_of + day - 30 * day),
            "amount",
        ].sum()
    )
    last_activity = as_of - pd.to_timedelta(facts["days_since_activity"], unit="D")
    spans = retention.activity_spans(
        customers, last_activity, rfm, as_of, config.inactive_after_days
    )
    month_start = as_of.to_period("M").to_timestamp()
    by_month = retention.retention_by_period(
        spans, month_start - pd.DateOffset(months=12), month_start
    )
    cohorts = retention.cohort_retention(
        spans[spans["start"] >= month_start - pd.DateOffset(months=24)],
        orders,
        customers,
        as_of,
    )
    recent = orders[orders["occurred_at"] >= month_start - pd.DateOffset(months=12)]
    revenue_by_month = recent.groupby(recent["occurred_at"].dt.to_period("M"))["amount"].sum()
    mrr = retention.monthly_mrr(orders, until=as_of)
    moves = retention.mrr_movements(mrr)
    nrr = grr = None
    if not mrr.empty and len(mrr.columns) >= 13:
        nrr = retention.net_revenue_retention(mrr, mrr.columns[-13], mrr.columns[-1])
        grr = retention.gross_revenue_retention(mrr, mrr.columns[-13], mrr.columns[-1])
    responses = data.responses
    tickets = data.interactions[data.interactions["kind"].eq("ticket")]
    buyers = facts[facts["rfm_r"].notna()]
    grid = buyers.groupby(["rfm_r", "rfm_f"]).agg(
        customers=("revenue", "size"), revenue=("revenue", "sum")
    )
    return _jsonable(
        {
            "customers": int(len(facts)),
            "active_customers": int((facts["behaviour"] == "active").sum()),
            "mrr_total": float(customers["mrr"].sum()) if "mrr" in customers else 0.0,
            "subscribers": int((customers["mrr"] > 0).sum()) if "mrr" in customers else 0,
            "behaviour": facts["behaviour"].value_counts().to_dict(),
            "revenue": revenue,
            "revenue_by_month": [
                {"month": str(month), "revenue": float(value)}
                for month, value in revenue_by_month.items()
            ],
            "retention_by_month": by_month.to_dict(orient="records"),
            "cohorts": cohorts.reset_index().to_dict(orient="records"),
            "mrr": moves.to_dict(orient="records"),
            "net_revenue_retention_12m": nrr,
            "gross_revenue_retention_12m": grr,
            "loyalty": retention.repeat_share(rfm),
            "nps_90d": feedback_scores.score_window(responses, "nps", as_of, 90),
            "csat_90d": feedback_scores.score_window(responses, "csat", as_of, 90),
            "ces_90d": feedback_scores.score_window(responses, "ces", as_of, 90),
            "nps_trend": feedback_scores.monthly_trend(responses, "nps").to_dict(orient="records"),
            "support": support.support_load(tickets, as_of + day, 30) if len(tickets) else None,
            "rfm_grid": [
                {"r": int(r), "f": int(f), **row}
                for (r, f), row in grid.to_dict(orient="index").items()
            ],
            "segments": buyers["rfm_segment"].value_counts().to_dict(),
        }
    )


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float | np.floating):
        return None if np.isnan(value) or np.isinf(value) else round(float(value), 6)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is pd.NaT or value is None:
        return None
    return value


SCORE_COLUMNS = [
    "customer_id",
    "as_of",
    "frequency",
    "recency_days",
    "tenure_days",
    "days_since_activity",
    "monetary",
    "revenue",
    "orders",
    "loyalty",
    "p_alive",
    "expected_purchases",
    "expected_spend",
    "clv",
    "clv_low",
    "clv_high",
    "clv_confident",
    "churn_probability",
    "value_at_risk",
    "health",
    "health_band",
    "health_change_7d",
    "health_change_30d",
    "components",
    "explanation",
    "rfm_r",
    "rfm_f",
    "rfm_m",
    "rfm_segment",
    "behaviour",
    "cluster",
    "last_nps",
    "days_since_contact",
]
FACT_KEYS = [
    "days_since_activity",
    "orders_90d",
    "orders_prev_90d",
    "last_nps",
    "last_csat",
    "tickets_90d",
    "open_tickets",
    "churn_probability",
    "days_since_contact",
]


def score_chunk(fitted: Fitted, ids, previous: pd.DataFrame | None = None) -> pd.DataFrame:
    """CustomerScore rows for customers `ids`. `previous`: index customer id, columns
    health_7d, health_30d (the health of the runs a week and a month ago)."""
    config = fitted.config
    facts = fitted.facts.loc[ids]
    out = facts.copy()
    buyers = facts["last"].notna()
    if fitted.bgnbd is not None and buyers.any():
        rfm = pd.DataFrame(
            {
                "frequency": facts.loc[buyers, "frequency"],
                "recency": facts.loc[buyers, "recency_T"],
                "T": facts.loc[buyers, "T"],
                "monetary": facts.loc[buyers, "monetary"],
                "revenue": facts.loc[buyers, "revenue"],
                "orders": facts.loc[buyers, "orders"],
            }
        )
        predicted = clv.summary_frame_clv(
            rfm,
            fitted.bgnbd,
            fitted.gamma_gamma,
            horizon_days=config.horizon_days,
            months=config.clv_months,
            monthly_discount=config.monthly_discount,
            margin=facts.loc[buyers, "margin"],
        )
        out = out.join(predicted.drop(columns=["p_alive"]))
    else:
        for name in ("expected_purchases", "expected_spend", "clv", "clv_low", "clv_high"):
            out[name] = np.nan
        out["clv_confident"] = False
    out["clv_confident"] = out["clv_confident"].fillna(False).astype(bool)
    out = _subscription_clv(out, config)
    out["value_at_risk"] = (out["churn_probability"].fillna(0) * out["clv"].fillna(0)).round(2)

    parts = health.components(out, config.inactive_after_days)
    out["health"] = health.health_score(parts, config.health_weights)
    out["health_band"] = health.band(out["health"].fillna(0), config.health_thresholds).where(
        out["health"].notna(), ""
    )
    if previous is not None and len(previous):
        previous = previous.reindex(out.index)
        out["health_change_7d"] = (out["health"] - previous["health_7d"]).round(1)
        out["health_change_30d"] = (out["health"] - previous["health_30d"]).round(1)
    else:
        out["health_change_7d"] = out["health_change_30d"] = np.nan
    part_records = parts.round(1).to_dict(orient="index")
    fact_records = out[FACT_KEYS].to_dict(orient="index")
    out["components"] = [
        _clean({"parts": part_records[i], "facts": fact_records[i]}) for i in out.index
    ]
    out["explanation"] = [health.explain(part_records[i], fact_records[i])[:300] for i in out.index]
    out["as_of"] = fitted.as_of
    out = out.reset_index()
    return out[SCORE_COLUMNS]


def _subscription_clv(out: pd.DataFrame, config: ScoringConfig) -> pd.DataFrame:
    """Subscribers (MRR > 0) get the same horizon as buyers: `clv_months` of discounted
    MRR x margin x survival (docs/metrics.md#clv), their monthly churn taken from their
    own churn probability over the churn horizon. Purchase-count models do not fit a
    subscription's fixed payments, so this replaces the BG/NBD figure for them."""
    subscriber = (out["mrr"] > 0) & out["churn_probability"].notna()
    if not subscriber.any():
        return out
    p = out.loc[subscriber, "churn_probability"].clip(0, 1)
    monthly = 1 - (1 - p) ** (clv.DAYS_PER_MONTH / config.horizon_days)
    out.loc[subscriber, "clv"] = clv.subscription_clv(
        out.loc[subscriber, "mrr"],
        out.loc[subscriber, "margin"],
        monthly,
        months=config.clv_months,
        monthly_discount=config.monthly_discount,
    )
    out.loc[subscriber, ["clv_low", "clv_high"]] = np.nan
    out.loc[subscriber, "clv_confident"] = out.loc[subscriber, "tenure_days"].fillna(0) >= 90
    return out


def _clean(record: dict) -> dict:
    return {
        k: _clean(v)
        if isinstance(v, dict)
        else (None if v is None or pd.isna(v) else round(float(v), 4))
        for k, v in record.items()
    }
