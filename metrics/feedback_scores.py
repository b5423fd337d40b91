"""NPS, CSAT and CES over answered survey responses (docs/metrics.md#survey-scores).
Pure pandas."""

from __future__ import annotations

import math

import pandas as pd

from feedback.scales import DETRACTOR_MAX, PROMOTER_MIN, SATISFIED_CSAT_MIN


def nps(scores) -> dict:
    """NPS = % promoters (9-10) - % detractors (0-6), with a 95% margin of error.

    The margin comes from the variance of the per-answer values +100/0/-100, so
    a handful of answers looks as uncertain as it is.
    """
    values = pd.Series(scores, dtype=float).dropna()
    n = len(values)
    promoters = int((values >= PROMOTER_MIN).sum())
    detractors = int((values <= DETRACTOR_MAX).sum())
    passives = n - promoters - detractors
    if n == 0:
        return {"nps": None, "n": 0, "promoters": 0, "passives": 0, "detractors": 0, "margin": None}
    p, d = promoters / n, detractors / n
    score = 100 * (p - d)
    variance = (p + d) - (p - d) ** 2
    margin = 100 * 1.96 * math.sqrt(variance / n) if n > 1 else 100.0
    return {
        "nps": round(score, 1),
        "n": n,
        "promoters": promoters,
        "passives": passives,
        "detractors": detractors,
        "margin": round(margin, 1),
    }


def csat(scores) -> dict:
    """Share (%) of 4-5 answers on a 1-5 scale."""
    values = pd.Series(scores, dtype=float).dropna()
    if values.empty:
        return {"csat": None, "n": 0}
    return {
        "csat": round(100 * float((values >= SATISFIED_CSAT_MIN).mean()), 1),
        "n": int(len(values)),
    }


def ces(scores) -> dict:
    """Mean of 1-7 answers (higher = more effort in our questions' wording)."""
    values = pd.Series(scores, dtype=float).dropna()
    if values.empty:
        return {"ces": None, "n": 0}
    return {"ces": round(float(values.mean()), 2), "n": int(len(values))}


SCORERS = {"nps": nps, "csat": csat, "ces": ces}


def score_window(responses: pd.DataFrame, kind: str, as_of, days: int = 90) -> dict:
    """The kind's score over answers in (as_of - days, as_of]."""
    as_of = pd.Timestamp(as_of)
    inside = responses[
        responses["kind"].eq(kind)
        & (responses["responded_at"] > as_of - pd.Timedelta(days=days))
        & (responses["responded_at"] <= as_of)
    ]
    return SCORERS[kind](inside["score"])


def monthly_trend(responses: pd.DataFrame, kind: str) -> pd.DataFrame:
    subset = responses[responses["kind"].eq(kind)]
    if subset.empty:
        return pd.DataFrame(columns=["month", kind, "n"])
    months = subset["responded_at"].dt.to_period("M")
    rows = [
        {"month": str(month), **SCORERS[kind](group["score"])}
        for month, group in subset.groupby(months)
    ]
    return pd.DataFrame(rows)
