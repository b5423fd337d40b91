"""What scoring is handed: the account's tables as frames and the owner's scoring
settings, as small typed records (a missing field is a type error, not a KeyError)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from . import health


@dataclass(frozen=True)
class Tables:
    """The tables scoring reads (metrics.tables.read_all), times naive in the owner's
    zone. orders: customer_id, occurred_at, amount, kind, margin. customers: index id;
    plan, mrr, signup_date, subscription_ends_on, churned_at, lifecycle_stage,
    created_at. interactions: customer_id, kind, direction, occurred_at, opened_at,
    first_response_at, resolved_at. responses: customer_id, kind, score, responded_at,
    comment."""

    orders: pd.DataFrame
    customers: pd.DataFrame
    interactions: pd.DataFrame
    responses: pd.DataFrame

    @classmethod
    def orders_only(cls, orders: pd.DataFrame, customers: pd.DataFrame) -> Tables:
        """Orders and customers with no interactions or answers (a transaction log)."""
        when = {
            c: pd.Series(dtype="datetime64[ns]")
            for c in ("occurred_at", "opened_at", "first_response_at", "resolved_at")
        }
        interactions = pd.DataFrame(
            {
                "customer_id": pd.Series(dtype=object),
                "kind": pd.Series(dtype=str),
                "direction": pd.Series(dtype=str),
                **when,
            }
        )
        responses = pd.DataFrame(
            {
                "customer_id": pd.Series(dtype=object),
                "kind": pd.Series(dtype=str),
                "score": pd.Series(dtype=float),
                "responded_at": pd.Series(dtype="datetime64[ns]"),
            }
        )
        return cls(orders, customers, interactions, responses)


@dataclass(frozen=True)
class ScoringConfig:
    """The owner's scoring settings (docs/metrics.md), with the product's defaults."""

    health_weights: dict[str, float] = field(default_factory=lambda: dict(health.DEFAULT_WEIGHTS))
    health_thresholds: dict[str, float] = field(
        default_factory=lambda: dict(health.DEFAULT_THRESHOLDS)
    )
    horizon_days: int = 90  # churn horizon and expected-purchases window
    inactive_after_days: int = 90  # a buyer silent this long counts as churned
    clv_months: int = 12
    monthly_discount: float = 0.01
    gross_margin: float | None = None  # used when orders carry no margin
