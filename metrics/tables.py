"""Tables in, DataFrames out, and scores back: the only place scoring touches the database.

Reads stream the whole table at once: COPY ... TO STDOUT on Postgres, chunked cursor
reads on SQLite. Times are converted to the owner's time zone and made naive, so
the pure functions work in calendar days.
"""

from __future__ import annotations

import io

import pandas as pd
from django.conf import settings
from django.db import connection

from cs_platform.bulk import upsert

from .inputs import Tables
from .models import CustomerScore, ScoringRun

CHUNK = 200_000
TEXT_COLUMN_ENDINGS = ("kind", "plan", "stage", "_at")


def read_query(sql: str, columns: list[str]) -> pd.DataFrame:
    """Run a SELECT and return its rows as a DataFrame of raw values."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            buffer = io.StringIO()
            cursor.copy_expert(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", buffer)
            buffer.seek(0)
            if not buffer.getvalue():
                return pd.DataFrame(columns=columns)
            return pd.read_csv(
                buffer,
                names=columns,
                header=None,
                keep_default_na=True,
                # Times stay text for local_naive: a column of mostly empty times would
                # otherwise be guessed chunk by chunk (float, then str; pandas warns).
                dtype={c: "string" for c in columns if c.endswith(TEXT_COLUMN_ENDINGS)},
            )
        cursor.execute(sql)
        chunks = []
        while rows := cursor.fetchmany(CHUNK):
            chunks.append(pd.DataFrame.from_records(rows, columns=columns))
        return pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(columns=columns)


def local_naive(values: pd.Series) -> pd.Series:
    """UTC timestamps (text or datetime) -> naive wall-clock time in TIME_ZONE."""
    stamps = pd.to_datetime(values, utc=True, format="ISO8601")
    return stamps.dt.tz_convert(settings.TIME_ZONE).dt.tz_localize(None)


def read_orders() -> pd.DataFrame:
    frame = read_query(
        "SELECT customer_id, occurred_at, amount, kind, margin, currency FROM customers_order",
        ["customer_id", "occurred_at", "amount", "kind", "margin", "currency"],
    )
    frame["customer_id"] = frame["customer_id"].astype("int64")
    frame["occurred_at"] = local_naive(frame["occurred_at"])
    frame["amount"] = pd.to_numeric(frame["amount"]).astype(float)
    frame["margin"] = pd.to_numeric(frame["margin"]).astype(float)
    frame["kind"] = frame["kind"].astype("category")
    frame["currency"] = frame["currency"].astype(str).astype("category")
    return frame


def read_customers() -> pd.DataFrame:
    columns = [
        "id",
        "plan",
        "mrr",
        "signup_date",
        "subscription_ends_on",
        "churned_at",
        "lifecycle_stage",
        "created_at",
    ]
    frame = read_query(f"SELECT {', '.join(columns)} FROM customers_customer", columns)
    frame["id"] = frame["id"].astype("int64")
    frame["mrr"] = pd.to_numeric(frame["mrr"]).astype(float)
    for name in ("signup_date", "subscription_ends_on"):
        frame[name] = pd.to_datetime(frame[name], format="ISO8601")
    for name in ("churned_at", "created_at"):
        frame[name] = local_naive(frame[name])
    frame["plan"] = frame["plan"].fillna("").astype(str)
    return frame.set_index("id")


def read_interactions() -> pd.DataFrame:
    columns = [
        "customer_id",
        "kind",
        "direction",
        "occurred_at",
        "opened_at",
        "first_response_at",
        "resolved_at",
    ]
    frame = read_query(f"SELECT {', '.join(columns)} FROM customers_interaction", columns)
    frame["customer_id"] = frame["customer_id"].astype("int64")
    for name in ("occurred_at", "opened_at", "first_response_at", "resolved_at"):
        frame[name] = local_naive(frame[name])
    frame["kind"] = frame["kind"].astype(str)
    return frame


def read_survey_responses() -> pd.DataFrame:
    """customer_id, kind (nps/csat/ces), score, responded_at, comment."""
    columns = ["customer_id", "kind", "score", "responded_at", "comment"]
    frame = read_query(f"SELECT {', '.join(columns)} FROM feedback_surveyresponse", columns)
    frame["customer_id"] = frame["customer_id"].astype("int64")
    frame["kind"] = frame["kind"].astype(str)
    frame["score"] = pd.to_numeric(frame["score"]).astype(float)
    frame["responded_at"] = (
        local_naive(frame["responded_at"]) if len(frame) else pd.Series(dtype="datetime64[ns]")
    )
    frame["comment"] = frame["comment"].astype(object).fillna("").astype(str)
    return frame


def read_all() -> Tables:
    return Tables(
        orders=read_orders(),
        customers=read_customers(),
        interactions=read_interactions(),
        responses=read_survey_responses(),
    )


def previous_health(as_of, ids) -> pd.DataFrame:
    """Health of the same customers in the latest successful runs at least 7 and 30
    days before `as_of` (index customer id; columns health_7d, health_30d)."""
    out = pd.DataFrame(index=pd.Index(ids, name="customer_id"))
    for days, column in ((7, "health_7d"), (30, "health_30d")):
        run = (
            ScoringRun.objects.filter(
                status=ScoringRun.Status.SUCCEEDED,
                as_of__lte=pd.Timestamp(as_of).date() - pd.Timedelta(days=days),
            )
            .order_by("-as_of", "-started_at")
            .first()
        )
        values = pd.Series(dtype=float)
        if run is not None:
            rows = CustomerScore.objects.filter(run=run, customer_id__in=list(map(int, ids)))
            values = pd.Series(dict(rows.values_list("customer_id", "health")), dtype=float)
        out[column] = values.reindex(out.index)
    return out


def write_scores(run, frame: pd.DataFrame) -> int:
    """Bulk-insert CustomerScore rows (COPY on Postgres) for `run`."""
    rows = frame.assign(run_id=run.pk)
    rows["as_of"] = pd.to_datetime(rows["as_of"])
    upsert(CustomerScore, rows, key=None)
    return len(rows)
