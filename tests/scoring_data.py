"""A small shop with a known churn signal, for scoring tests (fixed seed)."""

import numpy as np
import pandas as pd

from metrics.inputs import Tables

AS_OF = pd.Timestamp("2026-06-30")


def shop(customers: int = 1500, seed: int = 3) -> Tables:
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
    orders["occurred_at"] = orders["occurred_at"].dt.floor("s")
    for name in ("occurred_at", "opened_at", "resolved_at", "first_response_at"):
        interactions[name] = interactions[name].dt.floor("s")
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
    return Tables(
        orders=orders[orders["occurred_at"] <= AS_OF].reset_index(drop=True),
        customers=customers_frame,
        interactions=interactions[interactions["occurred_at"] <= AS_OF].reset_index(drop=True),
        responses=responses,
    )


def load_into_db(data: Tables) -> dict:
    """Write a shop() into the database; returns {frame customer id: Customer pk}."""
    from customers.models import Customer, Interaction, Order

    customers = data.customers
    objects = Customer.objects.bulk_create(
        Customer(
            external_id=f"s{cid}",
            name=f"Shop customer {cid}",
            email=f"s{cid}@example.com",
            signup_date=row.signup_date.date(),
        )
        for cid, row in customers.iterrows()
    )
    ids = {cid: obj.pk for cid, obj in zip(customers.index, objects, strict=True)}
    utc = "UTC"
    Order.objects.bulk_create(
        Order(
            customer_id=ids[row.customer_id],
            external_id=f"so{i}",
            occurred_at=row.occurred_at.tz_localize(utc).to_pydatetime(),
            amount=round(row.amount, 2),
        )
        for i, row in enumerate(data.orders.itertuples())
    )
    Interaction.objects.bulk_create(
        Interaction(
            customer_id=ids[row.customer_id],
            kind=row.kind,
            direction=row.direction,
            occurred_at=row.occurred_at.tz_localize(utc).to_pydatetime(),
            subject="Help" if row.kind == "ticket" else "",
            opened_at=None
            if pd.isna(row.opened_at)
            else row.opened_at.tz_localize(utc).to_pydatetime(),
            resolved_at=None
            if pd.isna(row.resolved_at)
            else row.resolved_at.tz_localize(utc).to_pydatetime(),
        )
        for row in data.interactions.itertuples()
    )
    return ids
