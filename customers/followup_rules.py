"""Which customers need the owner today, and why (DESIGN.md "Follow-up queue rules").

Pure: frames in, a frame of candidate follow-ups out (one per customer and rule).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.utils.translation import gettext_noop  # marks text for translation

DEFAULT_MAX_ITEMS = 25
COLUMNS = [
    "customer_id",
    "rule",
    "reason",
    "reason_args",
    "suggested_action",
    "value_at_stake",
    "priority",
    "due",
]
# Reasons and actions are stored in English and shown in the owner's language: the
# item keeps the reason's template and arguments (see customers.templatetags).
ANSWERED = gettext_noop("Answered %(kind)s %(score)s.")
ANSWERED_SAYING = gettext_noop('Answered %(kind)s %(score)s: "%(comment)s"')
DETRACTOR_ACTION = gettext_noop("Reply personally within two days and ask what went wrong.")
PROMOTER_ACTION = gettext_noop("Thank them and ask for a review or a referral.")


def say(template: str, **args) -> dict:
    """A reason: its template and arguments (the English text is template % args)."""
    return {"t": template, **args}


def answered(kind: str, score: float, comment: str) -> dict:
    if comment:
        return say(ANSWERED_SAYING, kind=kind.upper(), score=f"{score:.0f}", comment=comment)
    return say(ANSWERED, kind=kind.upper(), score=f"{score:.0f}")


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

    def add(mask_or_ids, rule, reasons, action, value, priority, due_days=0):
        frame = pd.DataFrame({"customer_id": mask_or_ids})
        frame["rule"] = rule
        if isinstance(reasons, dict):
            reasons = [reasons] * len(frame)
        frame["reason_args"] = reasons
        frame["reason"] = [r["t"] % r for r in reasons]
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
                    answered(k, s, c[:140])
                    for k, s, c in zip(
                        unhappy["kind"],
                        unhappy["score"],
                        unhappy.get("comment", pd.Series("", index=unhappy.index)).fillna(""),
                        strict=True,
                    )
                ],
                DETRACTOR_ACTION,
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
                say(
                    gettext_noop("Health fell to %(health)s (%(change)s in a week)"),
                    health=f"{h:.0f}",
                    change=f"{c:+.0f}",
                )
                if not np.isnan(c)
                else say(gettext_noop("Health turned red (%(health)s)"), health=f"{h:.0f}")
                for h, c in zip(hit["health"], hit["health_change_7d"].fillna(np.nan), strict=True)
            ],
            gettext_noop("Look at their recent orders and tickets, then check in."),
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
                say(
                    gettext_noop(
                        "%(value)s of future value at risk: churn risk %(risk)s, CLV %(clv)s"
                    ),
                    value=_money(v),
                    risk=f"{c:.0%}",
                    clv=_money(life),
                )
                for v, c, life in zip(
                    var.reindex(hit.index),
                    hit["churn_probability"].fillna(0),
                    clv.reindex(hit.index),
                    strict=True,
                )
            ],
            gettext_noop("Offer help or a reason to come back (a call beats an e-mail)."),
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
                say(
                    gettext_noop("Top customer (CLV %(clv)s) with no contact for %(days)s days"),
                    clv=_money(v),
                    days=f"{d:.0f}",
                )
                if not np.isnan(d)
                else say(
                    gettext_noop("Top customer (CLV %(clv)s) with no contact on record"),
                    clv=_money(v),
                )
                for v, d in zip(clv.reindex(hit.index), hit["days_since_contact"], strict=True)
            ],
            gettext_noop("Send a personal note: thank them and ask how it is going."),
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
            [
                say(gettext_noop("Subscription renews on %(day)s"), day=f"{d:%Y-%m-%d}")
                for d in soon
            ],
            gettext_noop("Make sure they are getting value before the renewal date."),
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
                say(gettext_noop("New customer: day %(day)s check-in"), day=str(days)),
                gettext_noop("Ask whether they got what they came for."),
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
                say(
                    gettext_noop("Support ticket open for %(days)s days: %(subject)s"),
                    days=str((today - o).days),
                    subject=s[:120],
                )
                for o, s in zip(first["opened_at"], first["subject"].fillna(""), strict=True)
            ],
            gettext_noop("Resolve the ticket or tell them when it will be solved."),
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
            say(gettext_noop("Promoter: scored 9 or 10 recently")),
            PROMOTER_ACTION,
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
