"""The survey scales and their cut-offs, written once (docs/metrics.md#survey-scores).

NPS 0-10: promoters 9-10, passives 7-8, detractors 0-6. CSAT 1-5: satisfied 4-5,
unhappy 1-2. CES 1-7 (7 = very hard): easy 1-3, hard 5-7. "Unhappy" (what opens a
detractor follow-up) is an NPS detractor, an unhappy CSAT or a hard CES.
"""

from __future__ import annotations

import pandas as pd

SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
PROMOTER_MIN = 9
PASSIVE_MIN = 7
DETRACTOR_MAX = 6
SATISFIED_CSAT_MIN = 4
UNHAPPY_CSAT_MAX = 2
EASY_CES_MAX = 3
HARD_CES_MIN = 5


def is_promoter(kind: str, score: float) -> bool:
    return kind == "nps" and score >= PROMOTER_MIN


def is_unhappy(kind: str, score: float) -> bool:
    if kind == "nps":
        return score <= DETRACTOR_MAX
    if kind == "csat":
        return score <= UNHAPPY_CSAT_MAX
    return kind == "ces" and score >= HARD_CES_MIN


def unhappy(kinds: pd.Series, scores: pd.Series) -> pd.Series:
    """`is_unhappy` for whole columns."""
    return (
        ((kinds == "nps") & (scores <= DETRACTOR_MAX))
        | ((kinds == "csat") & (scores <= UNHAPPY_CSAT_MAX))
        | ((kinds == "ces") & (scores >= HARD_CES_MIN))
    )


def promoters(kinds: pd.Series, scores: pd.Series) -> pd.Series:
    return (kinds == "nps") & (scores >= PROMOTER_MIN)


def group(kind: str, score: float) -> str:
    """The answer's score group, as the results page names it."""
    if kind == "nps":
        if score >= PROMOTER_MIN:
            return "promoter"
        return "passive" if score >= PASSIVE_MIN else "detractor"
    if kind == "csat":
        if score >= SATISFIED_CSAT_MIN:
            return "satisfied"
        return "neutral" if score > UNHAPPY_CSAT_MAX else "unsatisfied"
    if score <= EASY_CES_MAX:
        return "easy"
    return "neutral" if score < HARD_CES_MIN else "hard"
