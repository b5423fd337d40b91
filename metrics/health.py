"""Health score 0-100 from weighted, explainable components (docs/metrics.md#health-score).
Pure.

Each component is 0-100 (higher is healthier). A component a customer has no data
for (no survey answer yet) is left out and the other weights are re-normalised, so
missing data neither punishes nor flatters anyone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.utils.translation import gettext, gettext_noop

COMPONENTS = ("engagement", "purchase_trend", "satisfaction", "support", "churn_risk")
DEFAULT_WEIGHTS = {
    "engagement": 0.25,
    "purchase_trend": 0.15,
    "satisfaction": 0.2,
    "support": 0.1,
    "churn_risk": 0.3,
}
DEFAULT_THRESHOLDS = {"green": 70, "yellow": 40}


def components(facts: pd.DataFrame, inactive_after_days: int = 90) -> pd.DataFrame:
    """Component scores from per-customer facts:

    days_since_activity  days since the last purchase or login -> engagement,
                         100 today, 0 at `inactive_after_days` (linear); left out
                         when there is neither
    orders_90d, orders_prev_90d -> purchase_trend: 50 when flat, towards 100 when
                         growing, towards 0 when shrinking (tanh of the relative change)
    last_nps (0-10), last_csat (1-5) -> satisfaction (mean of what is there)
    tickets_90d, open_tickets -> support: 100 - 25 per open ticket - 10 per recent one
    churn_probability -> churn_risk: 100 x (1 - p)
    """
    out = pd.DataFrame(index=facts.index)
    days = facts["days_since_activity"]
    # No purchase and no login on record: engagement is unknown, not zero.
    out["engagement"] = (100 * (1 - days / inactive_after_days)).clip(0, 100)
    recent, previous = facts["orders_90d"], facts["orders_prev_90d"]
    change = (recent - previous) / np.maximum(previous, 1)
    out["purchase_trend"] = (50 + 50 * np.tanh(change)).where((recent + previous) > 0, 50.0)
    nps_part = facts["last_nps"] * 10
    csat_part = (facts["last_csat"] - 1) * 25
    out["satisfaction"] = pd.concat([nps_part, csat_part], axis=1).mean(axis=1, skipna=True)
    out["support"] = (100 - 25 * facts["open_tickets"] - 10 * facts["tickets_90d"]).clip(0, 100)
    out["churn_risk"] = 100 * (1 - facts["churn_probability"])
    return out.round(1)


def health_score(parts: pd.DataFrame, weights: dict | None = None) -> pd.Series:
    """Weighted mean of the available components, 0-100, one decimal."""
    weights = {**DEFAULT_WEIGHTS, **(weights or {})}
    w = pd.Series({c: float(weights.get(c, 0)) for c in COMPONENTS})
    values = parts[list(COMPONENTS)]
    present = values.notna()
    weighted = (values.fillna(0) * w).sum(axis=1)
    total = (present * w).sum(axis=1)
    return (weighted / total.replace(0, np.nan)).clip(0, 100).round(1)


def band(score: pd.Series, thresholds: dict | None = None) -> pd.Series:
    t = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
    return pd.Series(
        np.select([score >= t["green"], score >= t["yellow"]], ["green", "yellow"], "red"),
        index=score.index,
    )


# The sentence's parts, in English here and shown in the owner's language (the page
# builds the sentence again under its language from the stored parts and facts).
PHRASES = {
    "engagement": gettext_noop("no purchase or login for %(days_since_activity)s days"),
    "purchase_trend": gettext_noop(
        "%(orders_90d)s orders in 90 days against %(orders_prev_90d)s before"
    ),
    "satisfaction": gettext_noop("a low survey score"),
    "support": gettext_noop("%(open_tickets)s open and %(tickets_90d)s recent support tickets"),
    "churn_risk": gettext_noop("a %(churn_pct)s%% chance of churning in the next 90 days"),
}
GOOD_PHRASES = {
    "engagement": gettext_noop("active in the last %(days_since_activity)s days"),
    "purchase_trend": gettext_noop("buying more than before"),
    "satisfaction": gettext_noop("a good survey score"),
    "support": gettext_noop("no support trouble"),
    "churn_risk": gettext_noop("a low churn risk"),
}
LEFT_OUT = {"engagement": gettext_noop("No purchase or login yet, so engagement is not counted.")}


def explain(parts: dict, facts: dict) -> str:
    """One sentence, in the active language: the weakest components (below 50) or, if
    none, the strongest; and what was left out for want of data."""
    facts = {**facts, "churn_pct": 100 * (facts.get("churn_probability") or 0)}
    scored = sorted((v, k) for k, v in parts.items() if v is not None and not pd.isna(v))
    weak = [k for v, k in scored if v < 50][:2]
    if weak:
        sentence = gettext("Held back by %(reasons)s.") % {
            "reasons": gettext(" and ").join(_phrase(PHRASES[k], facts) for k in weak)
        }
    else:
        strong = [k for v, k in reversed(scored)][:2]
        sentence = (
            gettext("Healthy: %(reasons)s.")
            % {"reasons": gettext(" and ").join(_phrase(GOOD_PHRASES[k], facts) for k in strong)}
            if strong
            else ""
        )
    missing = [gettext(LEFT_OUT[k]) for k in LEFT_OUT if k in parts and _missing(parts[k])]
    return " ".join([sentence, *missing]).strip()


def _missing(value) -> bool:
    return value is None or pd.isna(value)


def _phrase(template: str, facts: dict) -> str:
    whole = {
        k: f"{0 if v is None or pd.isna(v) else v:.0f}" for k, v in facts.items() if _number(v)
    }
    try:
        return gettext(template) % whole
    except (KeyError, ValueError, TypeError):  # a fact this row lacks
        return gettext(template).split("%(")[0].strip()


def _number(value) -> bool:
    return value is None or isinstance(value, int | float | np.integer | np.floating)
