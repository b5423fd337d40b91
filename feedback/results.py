"""Survey results for the owner: scores over answered responses only, with their
uncertainty, trend, distribution, response rate, comments and themes. Pure."""

from __future__ import annotations

import pandas as pd

from metrics.feedback_scores import SCORERS, monthly_trend

from .scales import group as score_group
from .sentiment import label, themes


def summarise(kind: str, responses: pd.DataFrame, invited: int) -> dict:
    """`responses`: score, comment, sentiment, responded_at (one row per answer)."""
    if responses.empty:
        return {
            "kind": kind,
            "answers": 0,
            "invited": invited,
            "response_rate": None,
            "score": None,
            "distribution": {},
            "trend": [],
            "themes": {},
        }
    groups = responses["score"].map(lambda s: score_group(kind, s))
    commented = responses[responses["comment"].fillna("").str.strip() != ""]
    return {
        "kind": kind,
        "answers": int(len(responses)),
        "invited": invited,
        "response_rate": round(len(responses) / invited, 4) if invited else None,
        "score": SCORERS[kind](responses["score"]),
        "distribution": {
            int(k): int(v) for k, v in responses["score"].value_counts().sort_index().items()
        },
        "trend": monthly_trend(responses.assign(kind=kind), kind).to_dict(orient="records"),
        "themes": {
            group: themes(commented.loc[groups[commented.index] == group, "comment"], top=8)
            for group in sorted(set(groups[commented.index]))
        },
    }


def filter_comments(
    responses: pd.DataFrame, kind: str, group: str = "", mood: str = ""
) -> pd.DataFrame:
    """Answers with a comment, optionally only one score group and/or sentiment label."""
    out = responses[responses["comment"].fillna("").str.strip() != ""].copy()
    out["group"] = out["score"].map(lambda s: score_group(kind, s))
    out["mood"] = out["sentiment"].map(lambda v: label(None if pd.isna(v) else v))
    if group:
        out = out[out["group"] == group]
    if mood:
        out = out[out["mood"] == mood]
    return out.sort_values("responded_at", ascending=False)
