"""The dashboard's numbers, read from a run's summary: KPI cards with their change
against an earlier run, and chart series. Pure: dicts in, small dataclasses out."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    value: float | None
    formula: str  # the tooltip: exactly how the number is computed
    unit: str = ""  # "money", "price" (money to the cent), "percent", "points", "" (a count)
    previous: float | None = None
    detail: str = ""  # a short second line (e.g. "n = 540 ± 6.5")
    up_is_good: bool = True

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def trend(self) -> str:
        """ "up", "down" or "flat" (within 0.5% of the earlier value, or 0.5 points)."""
        change = self.change
        if change is None:
            return ""
        scale = 0.5 if self.unit in ("percent", "points") else abs(self.previous or 0) * 0.005
        if abs(change) <= scale:
            return "flat"
        return "up" if change > 0 else "down"

    @property
    def good(self) -> bool | None:
        if self.trend in ("", "flat"):
            return None
        return (self.trend == "up") == self.up_is_good


def _get(summary: dict | None, *path):
    value = summary or {}
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _last_full_month(summary: dict | None) -> dict:
    months = _get(summary, "retention_by_month") or []
    return months[-1] if months else {}


def _percent(value):
    return None if value is None else round(100 * value, 1)


def _answers(score: dict, percent: bool = False) -> str:
    """ "40 answers ± 12", and "few answers" below FEW_ANSWERS of them."""
    if not score.get("n"):
        return _("no answers yet")
    if score.get("margin") is None:
        text = _("%(n)s answers") % {"n": number_format(score["n"], force_grouping=True)}
    else:
        text = _("%(n)s answers ± %(margin)s") % {
            "n": number_format(score["n"], force_grouping=True),
            "margin": f"{score['margin']:g}{'%' if percent else ''}",
        }
    if score.get("few"):
        text = _("%(answers)s · few answers, read with care") % {"answers": text}
    return text


def _active(summary: dict, previous: dict | None) -> Kpi:
    return Kpi(
        "active",
        _("Active customers"),
        _get(summary, "active_customers"),
        _(
            "Customers with a paid subscription, or a purchase or login in the last 30 days, "
            "as of the run."
        ),
        previous=_get(previous, "active_customers"),
    )


def _revenue(summary: dict, previous: dict | None) -> Kpi:
    return Kpi(
        "revenue",
        _("Revenue, last 30 days"),
        _get(summary, "revenue", "last_30d"),
        _(
            "Sum of orders minus refunds in the 30 days up to the run; compared with the "
            "30 days before."
        ),
        unit="money",
        previous=_get(summary, "revenue", "previous_30d"),
    )


def _mrr(summary: dict, previous: dict | None) -> Kpi | None:
    if not _get(summary, "mrr_total"):
        return None
    return Kpi(
        "mrr",
        _("MRR"),
        summary["mrr_total"],
        _("Monthly recurring revenue: the sum of every customer's current MRR."),
        unit="money",
        previous=_get(previous, "mrr_total"),
        detail=_("%(n)s subscribers")
        % {"n": number_format(summary.get("subscribers", 0), force_grouping=True)},
    )


def _nps(summary: dict, previous: dict | None) -> Kpi:
    nps = _get(summary, "nps_90d") or {}
    return Kpi(
        "nps",
        _("NPS, 90 days"),
        nps.get("nps"),
        _(
            "% promoters (9–10) − % detractors (0–6) among answers of the last 90 days; "
            "± is the 95% margin of error."
        ),
        unit="points",
        previous=_get(previous, "nps_90d", "nps"),
        detail=_answers(nps),
    )


def _csat(summary: dict, previous: dict | None) -> Kpi:
    csat = _get(summary, "csat_90d") or {}
    return Kpi(
        "csat",
        _("CSAT, 90 days"),
        _percent(csat.get("csat")),
        _("Share of 4–5 answers on the 1–5 satisfaction scale, last 90 days."),
        unit="percent",
        previous=_percent(_get(previous, "csat_90d", "csat")),
        detail=_answers(csat, percent=True),
    )


def _retention(summary: dict, previous: dict | None) -> Kpi:
    month = _last_full_month(summary)
    return Kpi(
        "retention",
        _("Retention, last month"),
        _percent(month.get("retention_rate")),
        _(
            "(customers not churned at the month's end − new ones) ÷ customers not churned "
            "at its start. Churned: cancelled, or no purchase or login for longer than the "
            "inactivity window (Settings)."
        ),
        unit="percent",
        previous=_percent(_last_full_month(previous).get("retention_rate")),
        detail=month.get("period", "")[:7],
    )


def _churn(summary: dict, previous: dict | None) -> Kpi:
    month = _last_full_month(summary)
    return Kpi(
        "churn",
        _("Churn rate, last month"),
        _percent(month.get("churn_rate")),
        _("Customers who churned in the month ÷ customers not churned at its start."),
        unit="percent",
        previous=_percent(_last_full_month(previous).get("churn_rate")),
        up_is_good=False,
        detail=month.get("period", "")[:7],
    )


def _clv_total(summary: dict, previous: dict | None) -> Kpi:
    return Kpi(
        "clv_total",
        _("Total CLV, 12 months"),
        _get(summary, "clv_total"),
        _(
            "Σ over customers of expected purchases (BG/NBD) × expected spend (Gamma-Gamma) "
            "per month, discounted monthly, × gross margin; subscribers: MRR × margin × the "
            "chance they still pay, month by month."
        ),
        unit="money",
        previous=_get(previous, "clv_total"),
        detail=_("not estimated for buyers: %(why)s") % {"why": fit_problem(missing)}
        if (missing := _get(summary, "clv_not_estimated"))
        else _median(_get(summary, "clv_median")),
    )


def _median(value) -> str:
    if value is None:
        return ""
    return _("median %(median)s") % {"median": number_format(round(value), force_grouping=True)}


def _value_at_risk(summary: dict, previous: dict | None) -> Kpi:
    return Kpi(
        "value_at_risk",
        _("Value at risk"),
        _get(summary, "value_at_risk_total"),
        _("Σ churn probability × CLV over all customers: what the queue protects."),
        unit="money",
        previous=_get(previous, "value_at_risk_total"),
        up_is_good=False,
    )


def _support(summary: dict, previous: dict | None) -> Kpi:
    support = _get(summary, "support") or {}
    return Kpi(
        "support",
        _("Support load ρ"),
        support.get("rho"),
        _(
            "λ tickets per day ÷ μ resolutions per day over 30 days (you as an M/M/1 "
            "queue); near 1 means tickets pile up."
        ),
        previous=_get(previous, "support", "rho"),
        up_is_good=False,
        detail=_("%(open)s open · wait %(wait)s days")
        % {"open": support.get("open_tickets", 0), "wait": _wait(support)}
        if support
        else _("no tickets"),
    )


CARDS = [
    _active,
    _revenue,
    _mrr,
    _nps,
    _csat,
    _retention,
    _churn,
    _clv_total,
    _value_at_risk,
    _support,
]


def kpis(summary: dict, previous: dict | None) -> list[Kpi]:
    """The cards, current run against an earlier one (`previous` may be None); a card
    with nothing to say (MRR without subscribers) is left out."""
    cards = (card(summary, previous) for card in CARDS)
    return [card for card in cards if card is not None]


COMPONENT_LABELS = {
    "engagement": _("Engagement (recent activity)"),
    "purchase_trend": _("Purchase trend"),
    "satisfaction": _("Satisfaction (NPS/CSAT)"),
    "support": _("Support load"),
    "churn_risk": _("Churn risk"),
}


def health_parts(components: dict) -> list[tuple[str, float]]:
    """A score's component values with their names, for "why this score"."""
    return [
        (COMPONENT_LABELS.get(name, name), value)
        for name, value in (components or {}).get("parts", {}).items()
        if value is not None
    ]


def _wait(support: dict):
    wait = support.get("wq_days")
    return "∞" if wait is None else round(wait, 1)


def cohort_rows(cohorts: list[dict], months: int = 12) -> list[dict]:
    """Heat-map rows: cohort, size, and retention per month since start (None = future)."""
    return [
        {
            "cohort": row["cohort"],
            "customers": row["customers"],
            "cells": [row.get(str(k)) for k in range(months + 1)],
        }
        for row in cohorts or []
    ]


SKIPPED = {
    "future_signup": lambda n: ngettext(
        "%(n)s customer skipped: signup date in the future",
        "%(n)s customers skipped: signup date in the future",
        n,
    ),
    "future_orders": lambda n: ngettext(
        "%(n)s order skipped: dated in the future",
        "%(n)s orders skipped: dated in the future",
        n,
    ),
    "other_currency": lambda n: ngettext(
        "%(n)s order skipped: in another currency than the account's",
        "%(n)s orders skipped: in another currency than the account's",
        n,
    ),
}


def skipped(summary: dict | None) -> list[str]:
    """What the run left out because it cannot be true, one sentence per reason."""
    counts = _get(summary, "skipped") or {}
    return [
        SKIPPED[reason](n) % {"n": number_format(n, force_grouping=True)}
        for reason, n in counts.items()
        if reason in SKIPPED and n
    ]


RANKINGS = {
    "classifier": _("the trained model"),
    "recency": _("days since the last purchase or login"),
    "bgnbd": _("BG/NBD expected purchases"),
}


def churn_ranking(churn: dict | None) -> str:
    """One sentence: which churn ranking the run uses and how it compares on held-out
    time with the others (docs/metrics.md#churn-risk)."""
    churn = churn or {}
    method = churn.get("method")
    rankings = churn.get("rankings") or {}
    if method in RANKINGS and rankings:
        # In RANKINGS' order: Postgres' jsonb does not keep the stored key order.
        others = [
            _("%(auc)s for %(name)s") % {"auc": _auc(rankings[name]), "name": label}
            for name, label in RANKINGS.items()
            if name != method and rankings.get(name) is not None
        ]
        return _(
            "Churn risk is ranked by %(name)s: AUC %(auc)s on the held-out months "
            "(%(others)s; 0.5 is chance)."
        ) % {
            "name": RANKINGS[method],
            "auc": _auc(rankings.get(method)),
            "others": _(", ").join(others) if others else _("no other ranking could be judged"),
        }
    if method == "classifier":  # a run from before the rankings were compared
        return _("Churn model on held-out months: AUC %(auc)s.") % {"auc": _auc(churn.get("auc"))}
    why = _churn_reason(churn)
    if method == "1 - P(alive)":
        return _("Churn risk is 1 − P(alive) from BG/NBD: %(why)s.") % {"why": why}
    return _("No churn risk yet: %(why)s.") % {"why": why}


def _auc(value) -> str:
    return number_format(value, 2) if value is not None else "–"


def _churn_reason(churn: dict) -> str:
    why = churn.get("why") or {}
    if why.get("code") == "history":
        return _("less than %(days)s days of history") % {"days": why["days"]}
    if why.get("code") == "examples":
        return _("too few labelled examples (%(churned)s churned, %(stayed)s stayed)") % why
    if why.get("code") == "features":
        return _("no feature varies between customers")
    return churn.get("reason") or _("too little history for a trained model")


FIT_QUANTITIES = {
    "mean purchase rate": _("the mean purchase rate"),
    "mean dropout chance": _("the mean dropout chance"),
    "mean spend": _("the mean spend"),
    "weight of the population mean": _("the weight of the population mean"),
}


def fit_problem(error: dict | None) -> str:
    """Why BG/NBD or Gamma-Gamma was not fitted, in the reader's language."""
    error = error or {}
    code = error.get("code")
    if code == "history":
        return _("needs %(needed)s days of orders (has %(n)s)") % error
    if code == "customers":
        return _("needs at least %(needed)s customers (has %(n)s)") % error
    if code == "repeat_buyers":
        return _("needs at least %(needed)s repeat buyers (has %(n)s)") % error
    if code in ("degenerate", "flat"):
        parameter = FIT_QUANTITIES.get(error.get("parameter"), error.get("parameter"))
        return _(
            "the fit was degenerate (%(parameter)s is not pinned down by the data): "
            "too little history"
        ) % {"parameter": parameter}
    return error.get("error") or _("the model could not be fitted")


MOVEMENTS = [  # (key, label, css): the MRR movements in the order they are shown
    ("new", _("New"), "new"),
    ("expansion", _("Expansion"), "expansion"),
    ("reactivation", _("Reactivation"), "reactivation"),
    ("contraction", _("Contraction"), "contraction"),
    ("churn", _("Churn"), "churn"),
]


def revenue_kpis(summary: dict, previous: dict | None) -> list[Kpi]:
    """The revenue page's cards (ChartMogul-style), each with its formula."""
    months = _get(summary, "mrr") or []
    last = months[-1] if months else {}
    before = months[-2] if len(months) > 1 else {}
    ces = _get(summary, "ces_90d") or {}
    return [
        Kpi(
            "mrr_month",
            _("MRR, last full month"),
            last.get("mrr"),
            _("Subscription payments in the last complete calendar month."),
            unit="money",
            previous=before.get("mrr"),
            detail=_("%(month)s · %(n)s paying accounts")
            % {
                "month": last.get("month", "–"),
                "n": number_format(last.get("accounts", 0), force_grouping=True),
            },
        ),
        Kpi(
            "nrr",
            _("Net revenue retention, 12 months"),
            _percent(_get(summary, "net_revenue_retention_12m")),
            _(
                "MRR now of the accounts that paid 12 months ago ÷ their MRR then; "
                "expansion counts, new accounts do not."
            ),
            unit="percent",
            previous=_percent(_get(previous, "net_revenue_retention_12m")),
        ),
        Kpi(
            "grr",
            _("Gross revenue retention, 12 months"),
            _percent(_get(summary, "gross_revenue_retention_12m")),
            _(
                "Like net revenue retention, but no account counts for more than it paid "
                "12 months ago: only churn and contraction lower it."
            ),
            unit="percent",
            previous=_percent(_get(previous, "gross_revenue_retention_12m")),
        ),
        Kpi(
            "arpa",
            _("ARPA"),
            last.get("arpa"),
            _("Average revenue per paying account: MRR ÷ paying accounts, last full month."),
            unit="price",
            previous=before.get("arpa"),
        ),
        Kpi(
            "ces",
            _("CES, 90 days"),
            ces.get("ces"),
            _("Mean customer effort score (1 very easy – 7 very hard) of the last 90 days."),
            unit="points",
            previous=_get(previous, "ces_90d", "ces"),
            detail=_answers(ces) if ces.get("n") else _("no CES answers yet"),
            up_is_good=False,
        ),
        Kpi(
            "loyalty",
            _("Loyalty coefficient"),
            _percent(_get(summary, "loyalty")),
            _("Repeat purchases ÷ all purchases (days with a purchase), over every buyer."),
            unit="percent",
            previous=_percent(_get(previous, "loyalty")),
        ),
    ]


def movement_rows(months: list[dict], last: int = 12) -> list[dict]:
    """The last `last` months of MRR movements, with their net change."""
    rows = []
    for month in (months or [])[-last:]:
        values = [month.get(key, 0.0) for key, _label, _css in MOVEMENTS]
        rows.append(
            {"month": month["month"], "mrr": month["mrr"], "values": values, "net": sum(values)}
        )
    return rows
