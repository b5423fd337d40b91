"""Retention, churn, cohorts and subscription revenue movements
(docs/metrics.md#retention-and-revenue). Pure pandas.

A customer is *retained* (not churned, by the one definition in
docs/metrics.md#active-inactive-churned) from the start of their span to its end.
Spans come from `activity_spans`: subscribers from signup until they cancel; everyone
else from their first purchase until `inactive_after_days` after their last purchase
or login.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def activity_spans(
    customers: pd.DataFrame,
    last_activity: pd.Series,
    rfm: pd.DataFrame,
    as_of: pd.Timestamp,
    inactive_after_days: int = 90,
) -> pd.DataFrame:
    """start/end (end NaT = not churned) per customer id.

    `customers`: index id, columns signup_date, churned_at, mrr (subscription when mrr > 0
    or churned_at is set). `last_activity`: the day of each customer's last purchase or
    login. `rfm`: index customer id, column first (first purchase day).
    """
    as_of = pd.Timestamp(as_of)
    spans = pd.DataFrame(index=customers.index.union(rfm.index))
    first = rfm["first"].reindex(spans.index)
    last = pd.to_datetime(last_activity.reindex(spans.index)).dt.normalize()
    signup = customers["signup_date"].reindex(spans.index)
    churned = customers["churned_at"].reindex(spans.index).dt.normalize()
    subscriber = (customers["mrr"].reindex(spans.index).fillna(0) > 0) | churned.notna()
    spans["start"] = signup.where(subscriber & signup.notna(), first).fillna(signup)
    lapse = last + pd.Timedelta(days=inactive_after_days)
    spans["end"] = churned.where(subscriber, lapse.where(lapse < as_of))
    return spans.dropna(subset=["start"])


def retention_by_period(spans: pd.DataFrame, start, end, freq: str = "MS") -> pd.DataFrame:
    """Per period [p, next p): customers at start, new, lost, at end, retention and churn rates.

    Retention = (at end - new) / at start; churn = lost / at start (docs/metrics.md). "New" in
    the retention numerator counts the new customers still active at the end, so a
    newcomer who left within the period cannot push retention below the truth.
    """
    edges = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq=freq)
    if len(edges) < 2:
        return pd.DataFrame(
            columns=["period", "at_start", "new", "lost", "at_end", "retention_rate", "churn_rate"]
        )
    s = spans["start"].to_numpy("datetime64[ns]")
    e = spans["end"].to_numpy("datetime64[ns]")
    e_filled = np.where(np.isnat(e), np.datetime64("2262-01-01"), e)
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        lo64, hi64 = np.datetime64(lo, "ns"), np.datetime64(hi, "ns")
        active_start = (s < lo64) & (e_filled >= lo64)
        new = (s >= lo64) & (s < hi64)
        active_end = (s < hi64) & (e_filled >= hi64)
        lost = active_start & (e_filled < hi64)
        at_start = int(active_start.sum())
        rows.append(
            {
                "period": lo.date(),
                "at_start": at_start,
                "new": int(new.sum()),
                "lost": int(lost.sum()),
                "at_end": int(active_end.sum()),
                "retention_rate": (active_end.sum() - (new & active_end).sum()) / at_start
                if at_start
                else np.nan,
                "churn_rate": lost.sum() / at_start if at_start else np.nan,
            }
        )
    return pd.DataFrame(rows)


def cohort_retention(
    spans: pd.DataFrame,
    orders: pd.DataFrame,
    customers: pd.DataFrame,
    as_of,
    max_months: int = 12,
) -> pd.DataFrame:
    """Share of each start-month cohort (the months of `spans["start"]`) that bought or
    paid a subscription in month k = 0..max_months after it: the month itself, not a
    trailing window, so a cohort's curve moves only when its customers do. Months not
    yet over on `as_of` are NaN."""
    as_of = pd.Timestamp(as_of)
    cohort = spans["start"].dt.to_period("M")
    bought = orders[~orders["kind"].eq("refund") & orders["customer_id"].isin(spans.index)]
    months_bought = pd.DataFrame(
        {"id": bought["customer_id"].to_numpy(), "month": bought["occurred_at"].dt.to_period("M")}
    ).drop_duplicates()
    churned = customers["churned_at"].reindex(spans.index)
    subscriber = (customers["mrr"].reindex(spans.index).fillna(0) > 0) | churned.notna()
    paid_from = customers["signup_date"].reindex(spans.index).where(subscriber).dt.to_period("M")
    paid_until = churned.dt.to_period("M").where(churned.notna(), as_of.to_period("M"))
    table: dict[str, dict] = {}
    for month, members in spans.groupby(cohort).groups.items():
        size = len(members)
        row: dict[str | int, float] = {"customers": size}
        in_cohort = months_bought[months_bought["id"].isin(members)]
        for k in range(max_months + 1):
            target = month + k
            if target.to_timestamp(how="end").normalize() > as_of:
                row[k] = np.nan
                continue
            buying = set(in_cohort.loc[in_cohort["month"] == target, "id"])
            paying = members[
                (paid_from.loc[members] <= target).to_numpy()
                & (paid_until.loc[members] >= target).to_numpy()
            ]
            row[k] = len(buying.union(paying)) / size
        table[str(month)] = row
    frame = pd.DataFrame.from_dict(table, orient="index")
    frame.index.name = "cohort"
    return frame


def monthly_mrr(orders: pd.DataFrame, until=None) -> pd.DataFrame:
    """MRR per customer and month from subscription payments (customers x months), for
    the months complete by day `until` (a month still under way would look like every
    subscriber whose payment day has not come yet had churned)."""
    subs = orders[orders["kind"].eq("subscription")]
    if until is not None:
        until = pd.Timestamp(until).normalize()
        last_complete = until.to_period("M") - (0 if until.is_month_end else 1)
        subs = subs[subs["occurred_at"].dt.to_period("M") <= last_complete]
    if subs.empty:
        return pd.DataFrame()
    month = subs["occurred_at"].dt.to_period("M")
    table = subs.groupby(["customer_id", month])["amount"].sum().unstack(fill_value=0.0)
    full = pd.period_range(table.columns.min(), table.columns.max(), freq="M")
    return table.reindex(columns=full, fill_value=0.0)


def mrr_movements(mrr: pd.DataFrame) -> pd.DataFrame:
    """Per month: MRR, paying accounts, ARPA and the movements new, expansion,
    contraction, churn, reactivation (each the MRR change it explains)."""
    if mrr.empty:
        return pd.DataFrame()
    values = mrr.to_numpy()
    previous = np.hstack([np.zeros((len(values), 1)), values[:, :-1]])
    paid_before = np.maximum.accumulate(previous > 0, axis=1)
    rows = []
    for j, month in enumerate(mrr.columns):
        now, before, seen = values[:, j], previous[:, j], paid_before[:, j]
        start_new = (before == 0) & (now > 0)
        rows.append(
            {
                "month": str(month),
                "mrr": now.sum(),
                "accounts": int((now > 0).sum()),
                "arpa": now[now > 0].mean() if (now > 0).any() else 0.0,
                "new": now[start_new & ~seen].sum(),
                "reactivation": now[start_new & seen].sum(),
                "expansion": (now - before)[(before > 0) & (now > before)].sum(),
                "contraction": -(before - now)[(now > 0) & (now < before)].sum(),
                "churn": -before[(before > 0) & (now == 0)].sum(),
            }
        )
    return pd.DataFrame(rows)


def net_revenue_retention(mrr: pd.DataFrame, start_month, end_month) -> float:
    """MRR at end_month from the accounts paying at start_month / their MRR then."""
    start_month, end_month = pd.Period(start_month, "M"), pd.Period(end_month, "M")
    base = mrr[start_month]
    paying = base > 0
    if not paying.any():
        return float("nan")
    return float(mrr.loc[paying, end_month].sum() / base[paying].sum())


def gross_revenue_retention(mrr: pd.DataFrame, start_month, end_month) -> float:
    """Like net revenue retention, but no account counts for more than it paid at
    start_month: expansion is left out, so only churn and contraction lower it."""
    start_month, end_month = pd.Period(start_month, "M"), pd.Period(end_month, "M")
    base = mrr[start_month]
    paying = base > 0
    if not paying.any():
        return float("nan")
    kept = np.minimum(mrr.loc[paying, end_month], base[paying])
    return float(kept.sum() / base[paying].sum())


def repeat_share(rfm: pd.DataFrame) -> float:
    """The shop's loyalty coefficient: repeat purchases / all purchases (purchase
    days) over every buyer."""
    frequency = rfm["frequency"].sum()
    return float(frequency / (frequency + len(rfm))) if len(rfm) else float("nan")


def loyalty_coefficient(rfm: pd.DataFrame) -> pd.Series:
    """Repeat purchases / all purchases (purchase days) of each customer, 0..1."""
    return rfm["frequency"] / (rfm["frequency"] + 1)
