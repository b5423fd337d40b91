"""Write a DataFrame into a model's table in bulk: COPY on Postgres, executemany on SQLite.

The ORM's bulk_create builds one Python object per row; at a million rows that alone
takes minutes. Here values are encoded column by column and sent in large batches,
which is what makes a million-row import or a nightly score write-back fast.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db import connection, models

BATCH_ROWS = 50_000
ANALYZE_AFTER_ROWS = 10_000  # a bigger write refreshes the table's planner statistics


@dataclass(frozen=True)
class UpsertResult:
    rows: int  # rows sent
    created: int  # new rows
    changed: int  # existing rows whose values changed

    @property
    def unchanged(self) -> int:
        return self.rows - self.created - self.changed


def _internal_type(model: type[models.Model], column: str) -> str:
    for field in model._meta.concrete_fields:
        if field.column == column:
            return field.get_internal_type()
    raise ValueError(f"{model.__name__} has no column {column!r}")


def _encode(series: pd.Series, kind: str, vendor: str) -> pd.Series:
    """Values as the database's text form, None for NULL (object dtype)."""
    missing = series.isna()
    if kind == "DateTimeField":
        utc = pd.to_datetime(series, utc=True)
        fmt = "%Y-%m-%d %H:%M:%S.%f+00:00" if vendor == "postgresql" else "%Y-%m-%d %H:%M:%S.%f"
        text = utc.dt.strftime(fmt).str.replace(r"\.000000(?=\+|$)", "", regex=True)
    elif kind == "DateField":
        text = pd.to_datetime(series).dt.strftime("%Y-%m-%d")
    elif kind == "BooleanField":
        text = (
            series.map({True: "t", False: "f"})
            if vendor == "postgresql"
            else series.map({True: 1, False: 0})
        )
    elif kind == "JSONField":
        text = series.map(lambda value: json.dumps(value, ensure_ascii=False), na_action="ignore")
    elif kind in {"CharField", "TextField", "EmailField", "DecimalField"}:
        text = series.astype(object)
    else:  # integers, foreign keys, floats
        text = series.astype(object)
    return text.astype(object).where(~missing, None)


INTEGER_KINDS = {
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "PositiveBigIntegerField",
    "ForeignKey",
    "AutoField",
    "BigAutoField",
}


def _plain_number(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _copy_text(frame: pd.DataFrame, encoded: pd.DataFrame, kinds: dict) -> io.StringIO:
    """Postgres COPY text format: tab-separated, \\N for NULL, backslash escapes.
    Numeric columns take a vectorised path (no escaping needed)."""
    columns = []
    for name in frame.columns:
        values = frame[name]
        if _plain_number(values):
            missing = values.isna().to_numpy()
            numbers = values.to_numpy(dtype=float, na_value=0.0)
            if kinds[name] in INTEGER_KINDS:
                text = numbers.astype(np.int64).astype(str)
            else:
                text = numbers.astype(str)
            columns.append(
                pd.Series(np.where(missing, "\\N", text), index=frame.index, dtype=object)
            )
            continue
        text = encoded[name].map(str, na_action="ignore").astype(object)
        text = (
            text.str.replace("\\", "\\\\", regex=False)
            .str.replace("\t", "\\t", regex=False)
            .str.replace("\n", "\\n", regex=False)
            .str.replace("\r", "\\r", regex=False)
        )
        columns.append(text.where(encoded[name].notna(), "\\N"))
    lines = columns[0].str.cat(columns[1:], sep="\t") if len(columns) > 1 else columns[0]
    return io.StringIO("\n".join(lines.tolist()) + "\n")


def upsert(
    model: type[models.Model],
    frame: pd.DataFrame,
    key: str | None,
    update_columns: list[str] | None = None,
    touch_columns: tuple[str, ...] | list[str] = (),
    progress=None,
) -> UpsertResult:
    """Insert the frame's rows; on a `key` conflict update `update_columns` if they differ.

    `touch_columns` (e.g. updated_at) are set along with a real change but are not
    compared, so re-sending the same rows changes nothing.
    `frame` columns are database column names. With key=None rows are only inserted.
    Must run inside a transaction when the caller wants all or nothing.
    `progress(n)` is called with the number of rows written after each batch.
    """
    table = model._meta.db_table
    vendor = connection.vendor
    columns = list(frame.columns)
    if update_columns is None:
        update_columns = [c for c in columns if c != key and c not in touch_columns]
    kinds = {c: _internal_type(model, c) for c in columns}
    # COPY formats plain numbers itself (vectorised); only the rest needs encoding.
    encoded = pd.DataFrame(
        {
            c: frame[c]
            if vendor == "postgresql" and _plain_number(frame[c])
            else _encode(frame[c], kinds[c], vendor)
            for c in columns
        }
    )
    qn = connection.ops.quote_name
    column_list = ", ".join(qn(c) for c in columns)
    before = model._default_manager.count() if key else 0
    changed_or_created = 0
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            stage = "_cs_stage"
            cursor.execute(f"DROP TABLE IF EXISTS {stage}")
            cursor.execute(
                f"CREATE TEMP TABLE {stage} AS SELECT {column_list} FROM {qn(table)} WITH NO DATA"
            )
        for start in range(0, len(encoded), BATCH_ROWS):
            batch = encoded.iloc[start : start + BATCH_ROWS]
            if vendor == "postgresql":
                target = stage if key else qn(table)
                text = _copy_text(frame.iloc[start : start + BATCH_ROWS], batch, kinds)
                cursor.copy_expert(f"COPY {target} ({column_list}) FROM STDIN", text)
                if key:
                    cursor.execute(
                        f"INSERT INTO {qn(table)} ({column_list}) SELECT {column_list} FROM {stage}"
                        + _on_conflict(table, key, update_columns, touch_columns, vendor)
                    )
                    changed_or_created += cursor.rowcount
                    cursor.execute(f"TRUNCATE {stage}")
            else:
                placeholders = ", ".join(["%s"] * len(columns))
                sql = f"INSERT INTO {qn(table)} ({column_list}) VALUES ({placeholders})"
                if key:
                    sql += _on_conflict(table, key, update_columns, touch_columns, vendor)
                rows = list(batch.itertuples(index=False, name=None))
                cursor.executemany(sql, rows)
                changed_or_created += max(cursor.rowcount, 0)
            if progress:
                progress(len(batch))
        if vendor == "postgresql":
            cursor.execute(f"DROP TABLE IF EXISTS {stage}")
            if len(frame) >= ANALYZE_AFTER_ROWS:
                # Planner statistics now, not whenever autovacuum gets round to it: the
                # owner's pages plan their queries on them right after an import.
                cursor.execute(f"ANALYZE {qn(table)}")
    if not key:
        return UpsertResult(rows=len(frame), created=len(frame), changed=0)
    created = model._default_manager.count() - before
    return UpsertResult(rows=len(frame), created=created, changed=changed_or_created - created)


def _on_conflict(table, key, update_columns, touch_columns, vendor) -> str:
    qn = connection.ops.quote_name
    if not update_columns:
        return f" ON CONFLICT ({qn(key)}) DO NOTHING"
    sets = ", ".join(f"{qn(c)} = excluded.{qn(c)}" for c in [*update_columns, *touch_columns])
    if vendor == "postgresql":
        old = ", ".join(f"{qn(table)}.{qn(c)}" for c in update_columns)
        new = ", ".join(f"excluded.{qn(c)}" for c in update_columns)
        differs = f"ROW({old}) IS DISTINCT FROM ROW({new})"
    else:
        same = " AND ".join(f"{qn(table)}.{qn(c)} IS excluded.{qn(c)}" for c in update_columns)
        differs = f"NOT ({same})"
    return f" ON CONFLICT ({qn(key)}) DO UPDATE SET {sets} WHERE {differs}"
