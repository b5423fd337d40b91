"""Support load: the owner as the single server of an M/M/1 queue
(docs/metrics.md#support-load). Pure."""

from __future__ import annotations

import pandas as pd


def support_load(tickets: pd.DataFrame, as_of, days: int = 30) -> dict:
    """Over the last `days` days before `as_of`:

    lambda  tickets opened per day
    mu      tickets resolved per day on days with at least one resolution (the
            owner's observed capacity; counting idle days would make mu = lambda)
    rho     lambda / mu; when rho < 1: Lq = rho^2 / (1 - rho) tickets waiting,
            Wq = Lq / lambda days of waiting. rho >= 0.8 is flagged as overloaded.
    Also the median first-response and resolution times in hours and open tickets.
    """
    as_of = pd.Timestamp(as_of)
    since = as_of - pd.Timedelta(days=days)
    opened = tickets[(tickets["opened_at"] > since) & (tickets["opened_at"] <= as_of)]
    resolved = tickets[(tickets["resolved_at"] > since) & (tickets["resolved_at"] <= as_of)]
    arrival = len(opened) / days
    busy_days = resolved["resolved_at"].dt.normalize().nunique()
    service = len(resolved) / busy_days if busy_days else 0.0
    rho = arrival / service if service else (float("inf") if arrival else 0.0)
    stable = rho < 1
    lq = rho**2 / (1 - rho) if stable else float("inf")
    wq = lq / arrival if stable and arrival else (0.0 if stable else float("inf"))
    hours = pd.Timedelta(hours=1)
    first_response = (opened["first_response_at"] - opened["opened_at"]).dropna() / hours
    resolution = (resolved["resolved_at"] - resolved["opened_at"]).dropna() / hours
    still_open = tickets[
        (tickets["opened_at"] <= as_of)
        & (tickets["resolved_at"].isna() | (tickets["resolved_at"] > as_of))
    ]
    return {
        "lambda_per_day": round(arrival, 3),
        "mu_per_day": round(service, 3),
        "rho": round(rho, 3) if rho != float("inf") else None,
        "lq": round(lq, 3) if lq != float("inf") else None,
        "wq_days": round(wq, 3) if wq != float("inf") else None,
        "overloaded": bool(rho >= 0.8),
        "median_first_response_hours": round(float(first_response.median()), 2)
        if len(first_response)
        else None,
        "median_resolution_hours": round(float(resolution.median()), 2)
        if len(resolution)
        else None,
        "open_tickets": int(len(still_open)),
    }
