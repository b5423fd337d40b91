"""A small shop with a known churn signal, for scoring tests (fixed seed)."""

import numpy as np
import pandas as pd

AS_OF = pd.Timestamp("2026-06-30")


def shop(customers: int = 1500, seed: int = 3) -> dict:
    """Customers buy at their own rate until they quit. Before quitting they open
    support tickets and stop logging in: the signal a churn model should find."""
    rng = np.random.default_rng(seed)
    start = AS_OF - pd.Timedelta(days=720)
    ids = np.arange(1, customers + 1)
    signup = start + pd.to_timedelta(rng.integers(0, 400, customers), unit="D")
    rate = rng.gamma(2.0, 1 / 40, customers)  # purchases per day
    lifetime = rng.exponential(420, customers)
    quit_at = signup + pd.to_timedelta(lifetime, unit="D")
    orders, interactions = [], []
    for i, cid in enumerate(ids):
        t = signup[i]
        end = min(quit_at[i], AS_OF)
        while t <= end:
            orders.append((cid, t + pd.Timedelta(hours=10), float(rng.gamma(3, 15)), "purchase"))
            t += pd.Timedelta(days=float(rng.exponential(1 / rate[i])))
        for _ in range(rng.poisson(3)):  # background logins
            when = signup[i] + pd.Timedelta(
                days=float(rng.uniform(0, max((end - signup[i]).days, 1)))
            )
            interactions.append((cid, "usage", "inbound", when, pd.NaT, pd.NaT))
        if quit_at[i] <= AS_OF + pd.Timedelta(days=120):
            for _ in range(rng.poisson(2.5)):  # trouble before leaving
                opened = quit_at[i] - pd.Timedelta(days=float(rng.uniform(5, 80)))
                resolved = opened + pd.Timedelta(days=float(rng.exponential(6)))
                interactions.append((cid, "ticket", "inbound", opened, opened, resolved))
    orders = pd.DataFrame(orders, columns=["customer_id", "occurred_at", "amount", "kind"])
    interactions = pd.DataFrame(
        interactions,
        columns=["customer_id", "kind", "direction", "occurred_at", "opened_at", "resolved_at"],
    )
    interactions["first_response_at"] = interactions["opened_at"] + pd.Timedelta(hours=3)
    customers_frame = pd.DataFrame(
        {
            "signup_date": signup.normalize(),
            "churned_at": pd.NaT,
            "mrr": 0.0,
            "plan": "",
            "subscription_ends_on": pd.NaT,
            "lifecycle_stage": "active",
        },
        index=pd.Index(ids, name="id"),
    )
    responses = pd.DataFrame(
        {
            "customer_id": pd.Series(dtype="int64"),
            "kind": pd.Series(dtype=str),
            "score": pd.Series(dtype=float),
            "responded_at": pd.Series(dtype="datetime64[ns]"),
        }
    )
    return {
        "orders": orders[orders["occurred_at"] <= AS_OF].reset_index(drop=True),
        "customers": customers_frame,
        "interactions": interactions[interactions["occurred_at"] <= AS_OF].reset_index(drop=True),
        "responses": responses,
    }
