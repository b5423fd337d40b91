"""RFM quintile scores, named segments and behaviour states (docs/metrics.md#segments).
Pure pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.utils.translation import gettext_noop

# (name, rule on R and F scores 1-5), checked in order; the first match wins.
SEGMENT_RULES = [
    (gettext_noop("Champions"), lambda r, f: (r >= 4) & (f >= 4)),
    (gettext_noop("Can't lose them"), lambda r, f: (r == 1) & (f >= 4)),
    (gettext_noop("At risk"), lambda r, f: (r <= 2) & (f >= 3)),
    (gettext_noop("Loyal"), lambda r, f: (r >= 3) & (f >= 4)),
    (gettext_noop("New"), lambda r, f: (r == 5) & (f == 1)),
    (gettext_noop("Promising"), lambda r, f: (r == 4) & (f == 1)),
    (gettext_noop("Potential loyalists"), lambda r, f: (r >= 4) & (f >= 2)),
    (gettext_noop("Need attention"), lambda r, f: (r == 3) & (f == 3)),
    (gettext_noop("About to sleep"), lambda r, f: (r == 3) & (f <= 2)),
    (gettext_noop("Lost"), lambda r, f: (r == 1) & (f == 1)),
    (gettext_noop("Hibernating"), lambda r, f: (r <= 2) & (f <= 2)),
]
SEGMENT_NAMES = [name for name, _ in SEGMENT_RULES]


# Segments that say the customer is worth something now: never for a customer who is
# gone past the churn window or whose purchases net to nothing (refunds).
VALUE_SEGMENTS = ("Champions", "Loyal", "Potential loyalists")


def quintile_scores(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """1-5: which fifth of the customers a value falls in, counted by how many
    customers are strictly worse; equal values get equal scores (heavy ties, such as
    many one-time buyers, share the score of the lowest of them)."""
    ranks = values.rank(method="min", ascending=higher_is_better)
    worse = (ranks - 1) / len(values)
    return (np.floor(worse * 5) + 1).clip(1, 5).astype(int)


def _named(r: np.ndarray, f: np.ndarray) -> np.ndarray:
    conditions = [rule(r, f) for _, rule in SEGMENT_RULES]
    return np.select(conditions, SEGMENT_NAMES, "Need attention")


def rfm_segments(
    days_since_last: pd.Series,
    frequency: pd.Series,
    monetary: pd.Series,
    gone: pd.Series | None = None,
) -> pd.DataFrame:
    """r, f, m scores (1-5) and the named segment per customer. `monetary` is the net
    revenue; `gone` marks customers inactive past the churn window: they are named as
    the least recent (R = 1) whatever their rank, and a customer with net revenue <= 0
    is never in a value segment (docs/metrics.md#segments)."""
    out = pd.DataFrame(index=days_since_last.index)
    if not len(out):
        return out.assign(r=[], f=[], m=[], segment=[])
    out["r"] = quintile_scores(days_since_last, higher_is_better=False)
    out["f"] = quintile_scores(frequency)
    out["m"] = quintile_scores(monetary)
    r, f = out["r"].to_numpy(), out["f"].to_numpy()
    if gone is not None:
        r = np.where(gone.reindex(out.index, fill_value=False).to_numpy(bool), 1, r)
    segment = _named(r, f)
    no_value = (monetary.to_numpy(float) <= 0) & np.isin(segment, VALUE_SEGMENTS)
    out["segment"] = np.where(no_value, "Need attention", segment)
    return out


def behaviour_state(
    days_since_activity: pd.Series,
    churned: pd.Series,
    paying: pd.Series | None = None,
    active_days: int = 30,
    inactive_after_days: int = 90,
) -> pd.Series:
    """The one definition of active (docs/metrics.md#active-inactive-churned): churned
    (cancelled or marked so, or without a paid subscription silent for more than
    `inactive_after_days`), active (a paid subscription, or a purchase or login in the
    last `active_days`), else inactive."""
    days = days_since_activity.fillna(np.inf)
    paid = (
        paying.reindex(days.index, fill_value=False).to_numpy(bool)
        if paying is not None
        else np.zeros(len(days), bool)
    )
    gone = churned.to_numpy(bool) | (~paid & (days > inactive_after_days).to_numpy())
    return pd.Series(
        np.select(
            [gone, paid | (days <= active_days).to_numpy()], ["churned", "active"], "inactive"
        ),
        index=days_since_activity.index,
    )
