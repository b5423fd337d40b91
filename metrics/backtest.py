"""Fit on a calibration window, predict the holdout, and compare with naive baselines.

This is how far the CLV numbers can be trusted on *this* shop's data. Pure pandas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss

from . import churn, clv
from .churn import auc
from .inputs import Tables
from .purchase_summary import calendar_day, rfm_summary


def holdout_purchase_days(transactions: pd.DataFrame, start, end) -> pd.Series:
    """Distinct purchase days per customer in (start, end]."""
    day = calendar_day(transactions["occurred_at"])
    if "kind" in transactions:
        purchase = ~transactions["kind"].eq("refund")
    elif "amount" in transactions:
        purchase = transactions["amount"] >= 0
    else:
        purchase = pd.Series(True, index=transactions.index)
    inside = (day > start) & (day <= end) & purchase
    return (
        pd.DataFrame({"customer_id": transactions["customer_id"][inside], "day": day[inside]})
        .drop_duplicates()
        .groupby("customer_id")
        .size()
    )


def _churn_rankings(transactions, day, calibration_end, horizon_days, ids, bought) -> dict:
    """Run the nightly churn ranking on the calibration part only (it validates and
    chooses on its own held-out months inside it), then judge every ranking on the
    holdout (churned = no purchase in it)."""
    known = transactions[day <= calibration_end]
    orders = pd.DataFrame(
        {
            "customer_id": known["customer_id"].to_numpy(),
            "occurred_at": known["occurred_at"].to_numpy(),
            "amount": known["amount"].astype(float).to_numpy() if "amount" in known else 0.0,
            "kind": known["kind"].to_numpy() if "kind" in known else "purchase",
        }
    )
    none = pd.Series(pd.NaT, index=ids, dtype="datetime64[ns]")
    data = Tables.orders_only(
        orders,
        pd.DataFrame({"signup_date": none, "churned_at": none, "mrr": 0.0, "plan": ""}, index=ids),
    )
    rfm = rfm_summary(orders, calibration_end)  # in days, as the nightly run
    x, t_x, big_t = (rfm[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    try:
        in_days = clv.fit_bgnbd(x, t_x, big_t)
        p_alive = pd.Series(clv.probability_alive(in_days, x, t_x, big_t), index=rfm.index)
    except clv.FitError:
        in_days, p_alive = None, None
    risk = churn.fit_and_predict(
        data,
        calibration_end,
        horizon_days=int(round(horizon_days)),
        fallback=None if p_alive is None else 1 - p_alive,
        bgnbd=in_days,
        every_ranking_today=True,
    )
    probability = risk.probability.reindex(ids).fillna(risk.probability.mean()).to_numpy()
    result: dict = {
        "method": risk.method,
        "reason": risk.reason,
        "auc": auc(bought, -probability),
        "brier": round(float(brier_score_loss(1 - bought, probability)), 4),
    }
    if risk.method in churn.RANKINGS:
        result["validation"] = risk.metrics["rankings"]
        result["holdout"] = {
            name: auc(bought, -risk.today[name].reindex(ids).fillna(0).to_numpy())
            for name in churn.RANKINGS
        }
    return result


def _interval_coverage(transactions, start, end, rfm, bgnbd, gg, length, level=0.8) -> dict:
    """How often the posterior-predictive `level` interval of each customer's holdout
    spend contains what they actually spent (the app's CLV range, over the holdout)."""
    day = calendar_day(transactions["occurred_at"])
    inside = (day > start) & (day <= end)
    spent = (
        transactions.loc[inside, "amount"]
        .astype(float)
        .groupby(transactions.loc[inside, "customer_id"])
        .sum()
        .reindex(rfm.index, fill_value=0.0)
        .to_numpy()
    )
    x, t_x, big_t, m = (rfm[c].to_numpy(float) for c in ("frequency", "recency", "T", "monetary"))
    low, high = clv.value_interval(bgnbd, gg, x, t_x, big_t, m, length, level=level)
    covered = (spent >= low - 0.005) & (spent <= high + 0.005)
    buyers = spent > 0
    return {
        "level": level,
        "coverage": round(float(covered.mean()), 4),
        "coverage_holdout_buyers": round(float(covered[buyers].mean()), 4)
        if buyers.any()
        else None,
        "below": round(float((spent < low - 0.005).mean()), 4),
        "above": round(float((spent > high + 0.005).mean()), 4),
        "customers": int(len(spent)),
    }


def run_backtest(
    transactions: pd.DataFrame,
    calibration_end,
    holdout_end=None,
    period_days: float = 1.0,
) -> dict:
    """Fit BG/NBD (and Gamma-Gamma when there are amounts) on transactions up to
    `calibration_end`; score the holdout (calibration_end, holdout_end].

    Without `holdout_end` the holdout is as long as the calibration span (capped at
    the last transaction). Customers whose first purchase falls in the holdout are
    not scored (they were unknown at calibration time).
    """
    if transactions.empty:
        raise ValueError("there are no orders to test on: import some first")
    day = calendar_day(transactions["occurred_at"])
    calibration_end = pd.Timestamp(calibration_end).normalize()
    if holdout_end is None:
        span = calibration_end - day.min()
        holdout_end = min(calibration_end + span, day.max())
    holdout_end = pd.Timestamp(holdout_end).normalize()
    if holdout_end <= calibration_end:
        raise ValueError("the holdout must end after the calibration period")
    holdout_length = (holdout_end - calibration_end) / pd.Timedelta(days=period_days)

    rfm = rfm_summary(transactions, calibration_end, period_days=period_days)
    if rfm.empty:
        raise ValueError("no purchases before the end of the calibration period")
    actual = holdout_purchase_days(transactions, calibration_end, holdout_end).reindex(
        rfm.index, fill_value=0
    )
    x, t_x, big_t = (rfm[c].to_numpy(float) for c in ("frequency", "recency", "T"))

    bgnbd = clv.fit_bgnbd(x, t_x, big_t)
    predicted = clv.expected_purchases(bgnbd, holdout_length, x, t_x, big_t)
    p_alive = clv.probability_alive(bgnbd, x, t_x, big_t)
    bought = (actual.to_numpy() > 0).astype(int)
    # Naive baselines: each customer's own past repeat rate continues; everyone gets the
    # mean rate; the most recent buyers are the likeliest to buy again.
    own_rate = x / np.maximum(big_t, 1) * holdout_length
    mean_rate = np.full_like(predicted, (x.sum() / np.maximum(big_t, 1).sum()) * holdout_length)
    days_since_last = big_t - t_x

    result = {
        "calibration_end": calibration_end.date().isoformat(),
        "holdout_end": holdout_end.date().isoformat(),
        "period_days": period_days,
        "customers": int(len(rfm)),
        "repeat_buyers": int((x > 0).sum()),
        "bgnbd": {
            k: round(v, 6) if isinstance(v, float) else v for k, v in bgnbd.as_dict().items()
        },
        "holdout": {
            "actual_repeat_transactions": int(actual.sum()),
            "predicted_repeat_transactions": round(float(predicted.sum()), 2),
            "mae_per_customer": round(float(np.abs(actual - predicted).mean()), 4),
            "auc_expected_purchases": auc(bought, predicted),
            "auc_p_alive": auc(bought, p_alive),
        },
        "baselines": {
            "own_rate_continues": {
                "predicted_repeat_transactions": round(float(own_rate.sum()), 2),
                "mae_per_customer": round(float(np.abs(actual - own_rate).mean()), 4),
                "auc": auc(bought, own_rate),
            },
            "everyone_average_rate": {
                "predicted_repeat_transactions": round(float(mean_rate.sum()), 2),
                "mae_per_customer": round(float(np.abs(actual - mean_rate).mean()), 4),
            },
            "predict_zero": {
                "predicted_repeat_transactions": 0.0,
                "mae_per_customer": round(float(actual.mean()), 4),
                "auc": 0.5,  # a constant ranks nobody above anybody
            },
            "most_recent_first": {"auc": auc(bought, -days_since_last)},
        },
        "gamma_gamma": None,
        "clv_interval": None,
    }
    result["churn"] = _churn_rankings(
        transactions, day, calibration_end, holdout_length * period_days, rfm.index, bought
    )
    if "amount" in transactions and (rfm["monetary"] > 0).sum() >= 10:
        try:
            gg = clv.fit_gamma_gamma(x, rfm["monetary"].to_numpy())
            result["gamma_gamma"] = {
                k: round(v, 6) if isinstance(v, float) else v for k, v in gg.as_dict().items()
            }
            result["clv_interval"] = _interval_coverage(
                transactions, calibration_end, holdout_end, rfm, bgnbd, gg, holdout_length
            )
        except clv.FitError as exc:
            result["gamma_gamma"] = {"error": str(exc)}
    return result
