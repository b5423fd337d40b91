"""RFM summary of a transaction log, the input of BG/NBD and Gamma-Gamma
(docs/metrics.md#rfm-summary). Pure pandas. Not the RFM *segments*: those are
segmentation.rfm."""

from __future__ import annotations

import numpy as np
import pandas as pd


def calendar_day(values: pd.Series) -> pd.Series:
    """Midnight of each timestamp's own wall-clock day (time-zone-aware values keep
    the day of the zone they are in; the I/O layer hands over the owner's zone)."""
    stamps = pd.to_datetime(values)
    if stamps.dt.tz is not None:
        stamps = stamps.dt.tz_localize(None)
    return stamps.dt.normalize()


def rfm_summary(
    transactions: pd.DataFrame,
    as_of: pd.Timestamp,
    period_days: float = 1.0,
) -> pd.DataFrame:
    """Per customer, as of day `as_of` (inclusive), in units of `period_days` days.

    `transactions`: customer_id, occurred_at (datetime), amount, and optionally kind
    ('refund' rows carry negative amounts). Purchases of one customer on one calendar
    day are one transaction. Returns, indexed by customer_id:
      frequency  distinct purchase days - 1 (repeat purchases)
      recency    first to last purchase day
      T          first purchase day to as_of
      monetary   mean value of the repeat purchase days, refunds netted in proportion
                 (0 when there is no repeat purchase)
      revenue    all purchases less refunds; orders: number of purchases;
      first, last  purchase dates.
    Customers without any purchase by `as_of` are left out. Subscription payments are
    not purchases: a subscription is modelled by its MRR and its cancellation.
    """
    tx = transactions
    if "kind" in tx:
        tx = tx[~tx["kind"].eq("subscription")]
    day = calendar_day(tx["occurred_at"])
    as_of = calendar_day(pd.Series([as_of])).iloc[0]
    amount = tx["amount"].astype(float) if "amount" in tx else pd.Series(0.0, index=tx.index)
    is_refund = tx["kind"].eq("refund") if "kind" in tx else amount < 0
    frame = pd.DataFrame(
        {
            "customer_id": tx["customer_id"].to_numpy(),
            "day": day.to_numpy(),
            "amount": amount.to_numpy(),
            "refund": is_refund.to_numpy(),
        }
    )
    frame = frame[frame["day"] <= as_of]

    purchases = frame[~frame["refund"]]
    days = purchases.groupby(["customer_id", "day"], sort=True)["amount"].sum().reset_index()
    per = days.groupby("customer_id").agg(
        first=("day", "min"),
        last=("day", "max"),
        purchase_days=("day", "size"),
        gross=("amount", "sum"),
    )
    first_day_value = days.groupby("customer_id")["amount"].first()
    refunds = (
        frame[frame["refund"]]
        .groupby("customer_id")["amount"]
        .sum()
        .reindex(per.index, fill_value=0.0)
    )
    orders = purchases.groupby("customer_id").size().reindex(per.index, fill_value=0)

    unit = np.timedelta64(1, "D") * period_days
    out = pd.DataFrame(index=per.index)
    out["frequency"] = per["purchase_days"] - 1
    out["recency"] = (per["last"] - per["first"]) / unit
    out["T"] = (as_of - per["first"]) / unit
    repeat_value = per["gross"] - first_day_value
    net_share = np.where(
        per["gross"] > 0, ((per["gross"] + refunds) / per["gross"]).clip(0, 1), 1.0
    )
    out["monetary"] = np.where(
        out["frequency"] > 0, repeat_value / out["frequency"].clip(lower=1) * net_share, 0.0
    )
    out["revenue"] = per["gross"] + refunds
    out["orders"] = orders
    out["first"] = per["first"]
    out["last"] = per["last"]
    return out
