"""NPS, CSAT and CES over answered survey responses (docs/metrics.md#survey-scores).
Pure pandas."""

from __future__ import annotations

import math

import pandas as pd
from scipy import stats

from feedback.scales import DETRACTOR_MAX, PROMOTER_MIN, SATISFIED_CSAT_MIN, SCALES

Z = 1.96  # 95 % intervals
FEW_ANSWERS = 30  # below this many answers a score is shown as "few answers"


def nps(scores) -> dict:
    """NPS = % promoters (9-10) - % detractors (0-6), with a 95 % margin of error.

    The margin is the adjusted-Wald interval for NPS (Rocks 2016, "Interval
    Estimation for the Net Promoter Score", The American Statistician 70(4)): add 3/4
    of a promoter and of a detractor and 3/2 of a passive (n + 3 answers), then the
    Wald margin of the adjusted proportions. It stays wide for few answers (two
    promoters: ± 64) instead of collapsing to ± 0.
    """
    values = pd.Series(scores, dtype=float).dropna()
    n = len(values)
    promoters = int((values >= PROMOTER_MIN).sum())
    detractors = int((values <= DETRACTOR_MAX).sum())
    passives = n - promoters - detractors
    if n == 0:
        return {
            "nps": None,
            "n": 0,
            "promoters": 0,
            "passives": 0,
            "detractors": 0,
            "margin": None,
            "few": True,
        }
    adjusted_n = n + 3
    p, d = (promoters + 0.75) / adjusted_n, (detractors + 0.75) / adjusted_n
    variance = (p + d) - (p - d) ** 2
    return {
        "nps": round(100 * (promoters - detractors) / n, 1),
        "n": n,
        "promoters": promoters,
        "passives": passives,
        "detractors": detractors,
        "margin": round(100 * Z * math.sqrt(variance / adjusted_n), 1),
        "few": n < FEW_ANSWERS,
    }


def csat(scores) -> dict:
    """Share (%) of 4-5 answers on a 1-5 scale, with the adjusted-Wald (Agresti-Coull)
    95 % margin: z^2/2 satisfied and z^2/2 other answers added before the Wald margin."""
    values = pd.Series(scores, dtype=float).dropna()
    if values.empty:
        return {"csat": None, "n": 0, "margin": None, "few": True}
    n = len(values)
    satisfied = int((values >= SATISFIED_CSAT_MIN).sum())
    adjusted_n = n + Z**2
    share = (satisfied + Z**2 / 2) / adjusted_n
    return {
        "csat": round(100 * satisfied / n, 1),
        "n": n,
        "margin": round(100 * Z * math.sqrt(share * (1 - share) / adjusted_n), 1),
        "few": n < FEW_ANSWERS,
    }


def ces(scores) -> dict:
    """Mean of 1-7 answers (higher = more effort in our questions' wording), with a 95 %
    t margin computed as if one more answer at each end of the scale had been given, so
    that a few identical answers do not claim certainty."""
    values = pd.Series(scores, dtype=float).dropna()
    if values.empty:
        return {"ces": None, "n": 0, "margin": None, "few": True}
    low, high = SCALES["ces"]
    padded = pd.concat([values, pd.Series([float(low), float(high)])])
    margin = stats.t.ppf(0.975, len(padded) - 1) * padded.std() / math.sqrt(len(padded))
    return {
        "ces": round(float(values.mean()), 2),
        "n": int(len(values)),
        "margin": round(float(margin), 2),
        "few": len(values) < FEW_ANSWERS,
    }


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
