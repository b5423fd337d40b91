"""Which customers need the owner today, and why (DESIGN.md "Follow-up queue rules").

Pure: frames in, a frame of candidate follow-ups out (one per customer and rule).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DEFAULT_MAX_ITEMS = 25
COLUMNS = ["customer_id", "rule", "reason", "suggested_action", "value_at_stake", "priority", "due"]


def _money(value: float) -> str:
    return f"{value:,.0f}"


def candidates(
    scores: pd.DataFrame,
    customers: pd.DataFrame,
    tickets: pd.DataFrame,
    responses: pd.DataFrame,
    rules: dict,
    today,
) -> pd.DataFrame:
    """`scores`: index customer id; clv, value_at_risk, churn_probability, health,
    health_band, previous_band, health_change_7d, days_since_contact, tenure_days.
    `customers`: index id; subscription_ends_on. `tickets`: open tickets with
    customer_id, opened_at, subject. `responses`: customer_id, kind, score,
    responded_at, comment. `rules`: name -> parameters (with "enabled")."""
    today = pd.Timestamp(today).normalize()
    day = pd.Timedelta(days=1)
    found = []

    def add(mask_or_ids, rule, reason, action, value, priority, due_days=0):
        frame = pd.DataFrame({"customer_id": mask_or_ids})
        frame["rule"] = rule
        frame["reason"] = reason
        frame["suggested_action"] = action
        frame["value_at_stake"] = value
        frame["priority"] = priority
        frame["due"] = today + due_days * day
        found.append(frame)

    def on(name):
        return rules.get(name, {}).get("enabled", False)

    clv = scores["clv"].fillna(0)
    var = scores["value_at_risk"].fillna(0)

    if on("detractor") and len(responses):
        p = rules["detractor"]
        recent = responses[responses["responded_at"] >= today - p["lookback_days"] * day]
        unhappy = recent[
            ((recent["kind"] == "nps") & (recent["score"] <= 6))
            | ((recent["kind"] == "csat") & (recent["score"] <= 2))
            | ((recent["kind"] == "ces") & (recent["score"] >= 5))
        ]
        unhappy = unhappy.sort_values("responded_at").groupby("customer_id").last()
        if len(unhappy):
            add(
                unhappy.index,
                "detractor",
                [
                    f"Answered {k.upper()} {s:.0f}" + (f': "{c[:140]}"' if c else ".")
                    for k, s, c in zip(
                        unhappy["kind"],
                        unhappy["score"],
                        unhappy.get("comment", pd.Series("", index=unhappy.index)).fillna(""),
                        strict=True,
                    )
                ],
                "Reply personally within two days and ask what went wrong.",
                clv.reindex(unhappy.index).fillna(0).to_numpy(),
                1,
                p["due_days"],
            )

    if on("health_drop"):
        p = rules["health_drop"]
        turned_red = (scores["health_band"] == "red") & scores["previous_band"].isin(
            ["green", "yellow"]
        )
        dropped = scores["health_change_7d"] <= -p["points"]
        hit = scores[turned_red | dropped]
        add(
            hit.index,
            "health_drop",
            [
                f"Health fell to {h:.0f} ({c:+.0f} in a week)"
                if not np.isnan(c)
                else f"Health turned red ({h:.0f})"
                for h, c in zip(hit["health"], hit["health_change_7d"].fillna(np.nan), strict=True)
            ],
            "Look at their recent orders and tickets, then check in.",
            var.reindex(hit.index).to_numpy(),
            1,
            1,
        )

    if on("value_at_risk"):
        p = rules["value_at_risk"]
        threshold = max(var.quantile(1 - p["top_share"]) if len(var) else 0, p["min_value"])
        hit = scores[var >= threshold]
        hit = hit[var.reindex(hit.index) > 0]
        add(
            hit.index,
            "value_at_risk",
            [
                f"{_money(v)} of future value at risk: churn risk {c:.0%}, CLV {_money(life)}"
                for v, c, life in zip(
                    var.reindex(hit.index),
                    hit["churn_probability"].fillna(0),
                    clv.reindex(hit.index),
                    strict=True,
                )
            ],
            "Offer help or a reason to come back (a call beats an e-mail).",
            var.reindex(hit.index).to_numpy(),
            1,
            2,
        )

    if on("no_contact"):
        p = rules["no_contact"]
        top = clv >= (clv.quantile(1 - p["top_share"]) if len(clv) else np.inf)
        silent = scores["days_since_contact"].isna() | (scores["days_since_contact"] > p["days"])
        hit = scores[top & silent & (clv > 0)]
        add(
            hit.index,
            "no_contact",
            [
                "Top customer (CLV "
                + _money(v)
                + ") with no contact "
                + (f"for {d:.0f} days" if not np.isnan(d) else "on record")
                for v, d in zip(clv.reindex(hit.index), hit["days_since_contact"], strict=True)
            ],
            "Send a personal note: thank them and ask how it is going.",
            clv.reindex(hit.index).to_numpy(),
            2,
            3,
        )

    if on("renewal"):
        p = rules["renewal"]
        ends = customers["subscription_ends_on"]
        soon = ends[(ends >= today) & (ends <= today + p["days"] * day)]
        add(
            soon.index,
            "renewal",
            [f"Subscription renews on {d:%Y-%m-%d}" for d in soon],
            "Make sure they are getting value before the renewal date.",
            clv.reindex(soon.index).fillna(0).to_numpy(),
            2,
            0,
        )

    if on("onboarding"):
        tenure = scores["tenure_days"]
        for days in rules["onboarding"]["days"]:
            hit = scores[(tenure >= days) & (tenure < days + 3)]
            add(
                hit.index,
                "onboarding",
                f"New customer: day {days} check-in",
                "Ask whether they got what they came for.",
                clv.reindex(hit.index).to_numpy(),
                3,
                0,
            )

    if on("ticket_open") and len(tickets):
        p = rules["ticket_open"]
        old = tickets[tickets["opened_at"] <= today - p["days"] * day].sort_values("opened_at")
        first = old.groupby("customer_id").first()
        add(
            first.index,
            "ticket_open",
            [
                f"Support ticket open for {(today - o).days} days: {s[:120]}"
                for o, s in zip(first["opened_at"], first["subject"].fillna(""), strict=True)
            ],
            "Resolve the ticket or tell them when it will be solved.",
            var.reindex(first.index).fillna(0).to_numpy(),
            1,
            0,
        )

    if on("promoter") and len(responses):
        p = rules["promoter"]
        recent = responses[
            (responses["responded_at"] >= today - p["lookback_days"] * day)
            & (responses["kind"] == "nps")
            & (responses["score"] >= 9)
        ]
        ids = recent["customer_id"].unique()
        add(
            ids,
            "promoter",
            "Promoter: scored 9 or 10 recently",
            "Thank them and ask for a review or a referral.",
            clv.reindex(ids).fillna(0).to_numpy(),
            3,
            3,
        )

    if not found:
        return pd.DataFrame(columns=COLUMNS)
    result = pd.concat(found, ignore_index=True)[COLUMNS]
    result["value_at_stake"] = (
        pd.to_numeric(result["value_at_stake"]).fillna(0).clip(lower=0).round(2)
    )
    result = result.drop_duplicates(["customer_id", "rule"])
    # A queue one person can work: each rule brings at most `max_items`, most at stake first.
    limits = result["rule"].map(lambda r: rules.get(r, {}).get("max_items", DEFAULT_MAX_ITEMS))
    rank = result.sort_values("value_at_stake", ascending=False).groupby("rule").cumcount()
    return result[rank.reindex(result.index) < limits].reset_index(drop=True)
