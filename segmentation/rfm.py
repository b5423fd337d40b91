"""RFM quintile scores, named segments and behaviour states (docs/metrics.md#segments).
Pure pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd

# (name, rule on R and F scores 1-5), checked in order; the first match wins.
SEGMENT_RULES = [
    ("Champions", lambda r, f: (r >= 4) & (f >= 4)),
    ("Can't lose them", lambda r, f: (r == 1) & (f >= 4)),
    ("At risk", lambda r, f: (r <= 2) & (f >= 3)),
    ("Loyal", lambda r, f: (r >= 3) & (f >= 4)),
    ("New", lambda r, f: (r == 5) & (f == 1)),
    ("Promising", lambda r, f: (r == 4) & (f == 1)),
    ("Potential loyalists", lambda r, f: (r >= 4) & (f >= 2)),
    ("Need attention", lambda r, f: (r == 3) & (f == 3)),
    ("About to sleep", lambda r, f: (r == 3) & (f <= 2)),
    ("Lost", lambda r, f: (r == 1) & (f == 1)),
    ("Hibernating", lambda r, f: (r <= 2) & (f <= 2)),
]
SEGMENT_NAMES = [name for name, _ in SEGMENT_RULES]


def quintile_scores(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """1-5 by rank, ties broken by order so heavy ties (many one-time buyers) still
    split into even fifths; the best fifth gets 5."""
    ranks = values.rank(method="first", ascending=higher_is_better)
    return np.ceil(ranks / len(values) * 5).clip(1, 5).astype(int)


def rfm_segments(
    days_since_last: pd.Series, frequency: pd.Series, monetary: pd.Series
) -> pd.DataFrame:
    """r, f, m scores (1-5) and the named segment per customer."""
    out = pd.DataFrame(index=days_since_last.index)
    if not len(out):
        return out.assign(r=[], f=[], m=[], segment=[])
    out["r"] = quintile_scores(days_since_last, higher_is_better=False)
    out["f"] = quintile_scores(frequency)
    out["m"] = quintile_scores(monetary)
    r, f = out["r"].to_numpy(), out["f"].to_numpy()
    conditions = [rule(r, f) for _, rule in SEGMENT_RULES]
    out["segment"] = np.select(conditions, SEGMENT_NAMES, "Need attention")
    return out


def behaviour_state(
    days_since_activity: pd.Series,
    churned: pd.Series,
    active_days: int = 30,
    inactive_after_days: int = 90,
) -> pd.Series:
    """active (activity in the last `active_days`), inactive, or churned (explicitly,
    or silent for more than `inactive_after_days`)."""
    days = days_since_activity.fillna(np.inf)
    return pd.Series(
        np.select(
            [churned.to_numpy(bool) | (days > inactive_after_days), days <= active_days],
            ["churned", "active"],
            "inactive",
        ),
        index=days_since_activity.index,
    )
