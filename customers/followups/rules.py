"""Which customers need the owner today, and why: one small function per rule.

Pure: each rule takes the frames of `QueueInputs` and its parameters and returns its
candidates (customer_id, reason_args, value_at_stake). `candidates` runs the switched-on
rules of the registry; the instant path of a survey answer (`followups.answers`) looks
its rule up in the same registry. See docs/architecture.md#follow-up-queue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.utils.translation import gettext_noop  # marks text for translation

from customers.models import Urgency
from feedback import scales

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
COMMENT_CHARS = 140  # of the customer's comment quoted in the reason
FRESH_DAYS = 2  # an unhappy answer this recent is "unhappy now": someone waits for a reply


@dataclass(frozen=True)
class QueueInputs:
    """What the rules look at, as of `today` (a calendar day, naive).

    `scores`: index customer id; clv, value_at_risk, churn_probability, health,
    health_band, previous_band, health_change_7d, days_since_contact, tenure_days.
    `customers`: index id; subscription_ends_on. `tickets`: open tickets with
    customer_id, opened_at, subject. `responses`: customer_id, kind, score,
    responded_at, comment. `payments`: failed payments with customer_id, occurred_at,
    subject and last_paid (the customer's latest payment or purchase)."""

    scores: pd.DataFrame
    customers: pd.DataFrame
    tickets: pd.DataFrame
    responses: pd.DataFrame
    today: pd.Timestamp
    payments: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            columns=["customer_id", "occurred_at", "subject", "last_paid"]
        )
    )

    @property
    def clv(self) -> pd.Series:
        return self.scores["clv"].fillna(0)

    @property
    def value_at_risk(self) -> pd.Series:
        return self.scores["value_at_risk"].fillna(0)


Finder = Callable[[QueueInputs, dict], pd.DataFrame]


@dataclass(frozen=True)
class Rule:
    name: str
    find: Finder
    action: str  # the suggested action (English; shown translated)
    priority: Urgency  # the queue's order: urgency first, then value at stake
    due_days: int  # due this many days after the rule fires (a "due_days" setting wins)
    defaults: dict = field(default_factory=dict)  # the parameters the owner can edit

    def params(self, stored: dict | None) -> dict:
        """The rule's defaults overlaid with what the owner stored in Settings."""
        return {"enabled": True, **self.defaults, **(stored or {})}


REGISTRY: dict[str, Rule] = {}


def rule(
    name: str, *, action: str, priority: Urgency, fixed_due_days: int = 0, **defaults
) -> Callable[[Finder], Finder]:
    """Register a rule function under `name`, with the parameters the owner can edit in
    Settings and their defaults (`**defaults`). A rule may return a "priority" column
    to set the urgency per item instead."""

    def register(find: Finder) -> Finder:
        REGISTRY[name] = Rule(name, find, action, priority, fixed_due_days, defaults)
        return find

    return register


def defaults() -> dict[str, dict]:
    """Every rule's parameters as they are before the owner changes any."""
    return {name: definition.params(None) for name, definition in REGISTRY.items()}


def params(stored_rules: dict, name: str) -> dict:
    """A rule's parameters from the account's stored rule settings."""
    return REGISTRY[name].params(stored_rules.get(name))


def say(template: str, **args) -> dict:
    """A reason: its template and arguments (the English text is template % args)."""
    return {"t": template, **args}


def answered(kind: str, score: float, comment: str) -> dict:
    comment = (comment or "")[:COMMENT_CHARS]
    if comment:
        return say(ANSWERED_SAYING, kind=kind.upper(), score=f"{score:.0f}", comment=comment)
    return say(ANSWERED, kind=kind.upper(), score=f"{score:.0f}")


def _money(value: float) -> str:
    return f"{value:,.0f}"


def _found(ids, reasons, values) -> pd.DataFrame:
    frame = pd.DataFrame({"customer_id": ids})
    frame["reason_args"] = reasons if isinstance(reasons, list) else [reasons] * len(frame)
    frame["value_at_stake"] = np.asarray(values, dtype=float) if len(frame) else []
    return frame


def _days(n) -> pd.Timedelta:
    return pd.Timedelta(days=n)


@rule(
    "detractor",
    action=gettext_noop("Reply personally within two days and ask what went wrong."),
    priority=Urgency.NOW,
    due_days=2,  # a parameter here: the owner may give detractors more or less time
    lookback_days=14,
)
def detractor(inputs: QueueInputs, p: dict) -> pd.DataFrame:
    """An unhappy answer (NPS detractor, unhappy CSAT, hard CES) in the lookback: unhappy
    now for FRESH_DAYS, then "needs attention"."""
    responses = inputs.responses
    if not len(responses):
        return _found([], [], [])
    recent = responses[responses["responded_at"] >= inputs.today - _days(p["lookback_days"])]
    unhappy = recent[scales.unhappy(recent["kind"], recent["score"])]
    unhappy = unhappy.sort_values("responded_at").groupby("customer_id").last()
    comments = unhappy.get("comment", pd.Series("", index=unhappy.index)).fillna("")
    reasons = [
        answered(k, s, c)
        for k, s, c in zip(unhappy["kind"], unhappy["score"], comments, strict=True)
    ]
    found = _found(unhappy.index, reasons, inputs.clv.reindex(unhappy.index).fillna(0))
    fresh = unhappy["responded_at"] >= inputs.today - _days(FRESH_DAYS)
    found["priority"] = np.where(fresh, int(Urgency.NOW), int(Urgency.SOON))
    return found


@rule(
    "health_drop",
    action=gettext_noop("Look at their recent orders and tickets, then check in."),
    priority=Urgency.SOON,
    fixed_due_days=1,
    points=20,
)
def health_drop(inputs: QueueInputs, p: dict) -> pd.DataFrame:
    """Health turned red, or fell by `points` or more in a week."""
    scores = inputs.scores
    turned_red = (scores["health_band"] == "red") & scores["previous_band"].isin(
        ["green", "yellow"]
    )
    hit = scores[turned_red | (scores["health_change_7d"] <= -p["points"])]
    reasons = [
        say(
            gettext_noop("Health fell to %(health)s (%(change)s in a week)"),
            health=f"{h:.0f}",
            change=f"{c:+.0f}",
        )
        if not np.isnan(c)
        else say(gettext_noop("Health turned red (%(health)s)"), health=f"{h:.0f}")
        for h, c in zip(hit["health"], hit["health_change_7d"].fillna(np.nan), strict=True)
    ]
    return _found(hit.index, reasons, inputs.value_at_risk.reindex(hit.index))


@rule(
    "value_at_risk",
    action=gettext_noop("Offer help or a reason to come back (a call beats an e-mail)."),
    priority=Urgency.AT_RISK,
    fixed_due_days=2,
    top_share=0.05,
    min_value=50,
)
def value_at_risk(inputs: QueueInputs, p: dict) -> pd.DataFrame:
    """The top `top_share` of value at risk, at least `min_value`."""
    var = inputs.value_at_risk
    threshold = max(var.quantile(1 - p["top_share"]) if len(var) else 0, p["min_value"])
    hit = inputs.scores[(var >= threshold) & (var > 0)]
    reasons = [
        say(
            gettext_noop("%(value)s of future value at risk: churn risk %(risk)s, CLV %(clv)s"),
            value=_money(v),
            risk=f"{c:.0%}",
            clv=_money(life),
        )
        for v, c, life in zip(
            var.reindex(hit.index),
            hit["churn_probability"].fillna(0),
            inputs.clv.reindex(hit.index),
            strict=True,
        )
    ]
    return _found(hit.index, reasons, var.reindex(hit.index))


@rule(
    "no_contact",
    action=gettext_noop("Send a personal note: thank them and ask how it is going."),
    priority=Urgency.ROUTINE,
    fixed_due_days=3,
    days=60,
    top_share=0.1,
)
def no_contact(inputs: QueueInputs, p: dict) -> pd.DataFrame:
    """A top-`top_share` customer by CLV with no contact for more than `days`."""
    clv, scores = inputs.clv, inputs.scores
    top = clv >= (clv.quantile(1 - p["top_share"]) if len(clv) else np.inf)
    silent = scores["days_since_contact"].isna() | (scores["days_since_contact"] > p["days"])
    hit = scores[top & silent & (clv > 0)]
    reasons = [
        say(
            gettext_noop("Top customer (CLV %(clv)s) with no contact for %(days)s days"),
            clv=_money(v),
            days=f"{d:.0f}",
        )
        if not np.isnan(d)
        else say(
            gettext_noop("Top customer (CLV %(clv)s) with no contact on record"), clv=_money(v)
        )
        for v, d in zip(clv.reindex(hit.index), hit["days_since_contact"], strict=True)
    ]
    return _found(hit.index, reasons, clv.reindex(hit.index))


@rule(
    "renewal",
    action=gettext_noop("Make sure they are getting value before the renewal date."),
    priority=Urgency.ROUTINE,
    fixed_due_days=0,
    days=30,
)
def renewal(inputs: QueueInputs, p: dict) -> pd.DataFrame:
    """A subscription that ends within `days`."""
    ends = inputs.customers["subscription_ends_on"]
    soon = ends[(ends >= inputs.today) & (ends <= inputs.today + _days(p["days"]))]
    reasons = [
        say(gettext_noop("Subscription renews on %(day)s"), day=f"{d:%Y-%m-%d}") for d in soon
    ]
    return _found(soon.index, reasons, inputs.clv.reindex(soon.index).fillna(0))


@rule(
    "onboarding",
    action=gettext_noop("Ask whether they got what they came for."),
    priority=Urgency.ROUTINE,
    fixed_due_days=0,
    days=[7, 30],
)
def onboarding(inputs: QueueInputs, p: dict) -> pd.DataFrame:
    """A new customer on (or up to two days after) each check-in day."""
    tenure = inputs.scores["tenure_days"]
    found = []
    for days in p["days"]:
        hit = inputs.scores[(tenure >= days) & (tenure < days + 3)]
        reason = say(gettext_noop("New customer: day %(day)s check-in"), day=str(days))
        found.append(_found(hit.index, reason, inputs.clv.reindex(hit.index)))
    return pd.concat(found, ignore_index=True) if found else _found([], [], [])


@rule(
    "ticket_open",
    action=gettext_noop("Resolve the ticket or tell them when it will be solved."),
    priority=Urgency.SOON,
    fixed_due_days=0,
    days=3,
)
def ticket_open(inputs: QueueInputs, p: dict) -> pd.DataFrame:
    """The oldest support ticket open for `days` or more."""
    tickets = inputs.tickets
    if not len(tickets):
        return _found([], [], [])
    old = tickets[tickets["opened_at"] <= inputs.today - _days(p["days"])]
    first = old.sort_values("opened_at").groupby("customer_id").first()
    reasons = [
        say(
            gettext_noop("Support ticket open for %(days)s days: %(subject)s"),
            days=str((inputs.today - o).days),
            subject=s[:120],
        )
        for o, s in zip(first["opened_at"], first["subject"].fillna(""), strict=True)
    ]
    return _found(first.index, reasons, inputs.value_at_risk.reindex(first.index).fillna(0))


@rule(
    "payment_failed",
    action=gettext_noop("Tell them before the subscription lapses and help them update the card."),
    priority=Urgency.SOON,
    fixed_due_days=1,
    lookback_days=14,
)
def payment_failed(inputs: QueueInputs, p: dict) -> pd.DataFrame:
    """A payment that failed in the lookback and was not followed by a payment."""
    payments = inputs.payments
    if not len(payments):
        return _found([], [], [])
    recent = payments[payments["occurred_at"] >= inputs.today - _days(p["lookback_days"])]
    unpaid = recent[recent["last_paid"].isna() | (recent["last_paid"] < recent["occurred_at"])]
    last = unpaid.sort_values("occurred_at").groupby("customer_id").last()
    reasons = [
        say(
            gettext_noop("Payment failed on %(day)s: %(subject)s"),
            day=f"{d:%Y-%m-%d}",
            subject=(s or "")[:120],
        )
        for d, s in zip(last["occurred_at"], last["subject"].fillna(""), strict=True)
    ]
    return _found(last.index, reasons, inputs.clv.reindex(last.index).fillna(0))


@rule(
    "promoter",
    action=gettext_noop("Thank them and ask for a review or a referral."),
    priority=Urgency.ROUTINE,
    fixed_due_days=3,
    lookback_days=14,
)
def promoter(inputs: QueueInputs, p: dict) -> pd.DataFrame:
    """An NPS promoter in the lookback."""
    responses = inputs.responses
    if not len(responses):
        return _found([], [], [])
    recent = responses[
        (responses["responded_at"] >= inputs.today - _days(p["lookback_days"]))
        & scales.promoters(responses["kind"], responses["score"])
    ]
    ids = recent["customer_id"].unique()
    reason = say(gettext_noop("Promoter: scored 9 or 10 recently"))
    return _found(ids, reason, inputs.clv.reindex(ids).fillna(0))


def candidates(inputs: QueueInputs, stored_rules: dict) -> pd.DataFrame:
    """Every switched-on rule's candidates, one per customer and rule, each rule capped
    at its `max_items` (most at stake first) so the queue stays one person's work."""
    found = []
    for name, definition in REGISTRY.items():
        p = definition.params(stored_rules.get(name))
        if not p["enabled"]:
            continue
        frame = definition.find(inputs, p)
        frame["rule"] = name
        frame["reason"] = [r["t"] % r for r in frame["reason_args"]]
        frame["suggested_action"] = definition.action
        if "priority" not in frame:
            frame["priority"] = definition.priority
        frame["due"] = inputs.today + _days(p.get("due_days", definition.due_days))
        found.append(frame)
    found = [frame for frame in found if len(frame)]
    if not found:
        return pd.DataFrame(columns=COLUMNS)
    result = pd.concat(found, ignore_index=True)[COLUMNS]
    result["value_at_stake"] = (
        pd.to_numeric(result["value_at_stake"]).fillna(0).clip(lower=0).round(2)
    )
    result = result.drop_duplicates(["customer_id", "rule"])
    limits = result["rule"].map(
        lambda r: params(stored_rules, r).get("max_items", DEFAULT_MAX_ITEMS)
    )
    rank = result.sort_values("value_at_stake", ascending=False).groupby("rule").cumcount()
    return result[rank.reindex(result.index) < limits].reset_index(drop=True)
