"""CSV import: read the file, validate every row, then write all of it or nothing.

The validators (formats) are pure; this module does the file and database work.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext, gettext_noop, ngettext

from cs_platform.bulk import upsert
from customers.models import Customer, Interaction, Order

from . import formats
from .formats import Errors

KINDS = ("customers", "orders", "interactions")
CHUNK_ROWS = 50_000  # rows validated at once: bounds the memory of an import


class Progress:
    """Told how far an import got; the CLI draws a bar, the upload page stores it."""

    def start(self, phase: str, total: int) -> None:
        pass

    def advance(self, rows: int) -> None:
        pass


@dataclass
class ImportReport:
    kind: str
    layout: str = "cs_platform"
    rows: int = 0
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    skipped: int = 0
    customers_created: int = 0
    errors: list = field(default_factory=list)
    error_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def summary(self) -> str:
        """What happened, in the active language (the import page renders it again
        from `counts()` in the owner's language)."""
        if not self.ok:
            problems = ngettext("%(n)s problem", "%(n)s problems", self.error_count) % {
                "n": _number(self.error_count)
            }
            rows = ngettext("%(n)s row", "%(n)s rows", self.rows) % {"n": _number(self.rows)}
            return gettext(
                "Nothing was imported: %(problems)s in %(rows)s. Fix them and import the file "
                "again."
            ) % {"problems": problems, "rows": rows}
        kind = {
            "customers": gettext("customers"),
            "orders": gettext("orders"),
            "interactions": gettext("interactions"),
        }.get(self.kind, self.kind)
        text = ngettext(
            "%(n)s row of %(kind)s: %(new)s new, %(updated)s updated, %(same)s unchanged.",
            "%(n)s rows of %(kind)s: %(new)s new, %(updated)s updated, %(same)s unchanged.",
            self.rows,
        ) % {
            "n": _number(self.rows),
            "kind": kind,
            "new": _number(self.created),
            "updated": _number(self.changed),
            "same": _number(self.unchanged),
        }
        if self.skipped:
            text += " " + ngettext(
                "%(n)s failed or pending payment skipped.",
                "%(n)s failed or pending payments skipped.",
                self.skipped,
            ) % {"n": _number(self.skipped)}
        if self.customers_created:
            text += " " + ngettext(
                "%(n)s customer created from the payments.",
                "%(n)s customers created from the payments.",
                self.customers_created,
            ) % {"n": _number(self.customers_created)}
        return text

    def counts(self) -> dict:
        """What `summary` needs, to store with the job."""
        return {
            "kind": self.kind,
            "rows": self.rows,
            "created": self.created,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "customers_created": self.customers_created,
            "error_count": self.error_count,
        }


def _number(n: int) -> str:
    return number_format(n, force_grouping=True)


class UnreadableFile(Exception):
    pass


def count_lines(binary) -> int:
    """Rough row count for the progress bar (quoted newlines make it an overestimate)."""
    position = binary.tell()
    total = sum(chunk.count(b"\n") for chunk in iter(lambda: binary.read(1 << 20), b""))
    binary.seek(position)
    return max(total - 1, 0)


def _delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample.splitlines()[0], delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def preview(binary, rows: int = 5) -> tuple[list[str], list[list[str]]]:
    """The header and first rows of an uploaded file, as the owner will recognise them
    (empty when the file cannot be read: the import itself then reports why)."""
    try:
        sample = binary.read(64 * 1024).decode("utf-8-sig", errors="replace")
    finally:
        binary.seek(0)
    lines = sample.splitlines()[: rows + 1]
    if not lines:
        return [], []
    table = list(csv.reader(lines, delimiter=_delimiter(sample)))
    return table[0], table[1:]


def read_chunks(binary):
    """Yield DataFrames of raw strings from a UTF-8 (optionally BOM) CSV file object."""
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    try:
        sample = text.read(64 * 1024)
        text.seek(0)
        if not sample.strip():
            raise UnreadableFile("The file is empty.")
        delimiter = _delimiter(sample)
        reader = pd.read_csv(
            text,
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            chunksize=CHUNK_ROWS,
            skip_blank_lines=True,
        )
        for chunk in reader:
            chunk.columns = [formats.normalise_header(c) for c in chunk.columns]
            yield chunk.astype(object)
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            "The file is not UTF-8 text. Save it as 'CSV UTF-8' and try again."
        ) from exc
    except pd.errors.ParserError as exc:
        raise UnreadableFile(f"The file is not valid CSV: {exc}") from exc
    finally:
        text.detach()


def import_csv(kind: str, binary, currency: str, progress: Progress | None = None) -> ImportReport:
    """Validate the whole CSV file; if every row is valid, write it in one transaction.
    `currency`: the account's (Settings); orders in another one are refused. The file
    is read twice (validate, then write), so memory stays bounded by a chunk."""
    progress = progress or Progress()
    progress.start("validating", count_lines(binary))

    def again():
        binary.seek(0)
        return read_chunks(binary)

    try:
        return import_rows(kind, again(), currency, progress, again=again)
    except UnreadableFile as exc:
        report = ImportReport(kind=kind, error_count=1)
        report.errors = [formats.RowError(1, "", "", str(exc)).as_dict()]
        return report


def _validate(kind: str, chunk: pd.DataFrame, currency: str, report: ImportReport):
    chunk, nul_errors = formats.without_nul(chunk)
    clean, errors = _validate_kind(kind, chunk, currency, report)
    errors.merge(nul_errors)
    return clean, errors


def _validate_kind(kind: str, chunk: pd.DataFrame, currency: str, report: ImportReport):
    tz = settings.TIME_ZONE
    if kind == "customers":
        return formats.validate_customers(chunk, tz)
    if kind == "orders" and formats.is_stripe_export(chunk.columns):
        report.layout = "stripe"
        clean, errors, skipped = formats.validate_stripe_charges(chunk, currency)
        report.skipped += skipped
        return clean, errors
    if kind == "orders":
        return formats.validate_orders(chunk, tz, currency)
    return formats.validate_interactions(chunk, tz)


def import_rows(
    kind: str,
    chunks,
    currency: str,
    progress: Progress | None = None,
    check_header=True,
    again=None,
) -> ImportReport:
    """Validate chunks of raw rows (DataFrames of strings); write all or nothing.

    With `again` (a callable that reads the same chunks afresh) the rows are validated
    keeping only 12 bytes a row for the duplicate check, then read again and written
    chunk by chunk in one transaction: a million-row file validates in bounded memory.
    Without it (the API's list of rows) the clean rows are kept between the passes."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    progress = progress or Progress()
    report = ImportReport(kind=kind)
    errors = Errors()
    kept, keys = [], _Keys()
    stream = again is not None
    for chunk in chunks:
        clean, chunk_errors = _validate(kind, chunk, currency, report)
        if report.rows == 0 and check_header:
            _check_header(kind, report.layout, chunk.columns, errors)
        report.rows += len(chunk)
        errors.total += chunk_errors.total
        errors.extend(chunk_errors[: formats.MAX_KEPT_ERRORS - len(errors)])
        # Stripe exports create their customers from all the rows at once: kept.
        stream = stream and report.layout != "stripe"
        if not clean.empty:
            keys.add(clean["external_id"])
            if kind != "customers":
                clean = _attach_customers(clean, errors, create_missing=report.layout == "stripe")
        if not stream:
            kept.append(clean)
        progress.advance(len(chunk))
    if report.rows == 0 and not errors.total:
        errors.add_one(1, "", "", gettext_noop("The file has a header but no rows."))
    keys.check(errors, again if stream else (lambda: kept))
    report.errors = [e.as_dict() for e in sorted(errors, key=lambda e: (e.row, e.column))]
    report.error_count = errors.total
    if not report.ok:
        return report

    progress.start("writing", report.rows)
    totals = [0, 0, 0]
    with transaction.atomic():
        if stream:
            for chunk in again():
                clean, _ = _validate(kind, chunk, currency, report)
                if kind != "customers":
                    clean = _attach_customers(clean, Errors(), create_missing=False)
                _add(totals, _write(kind, clean, report, progress))
        else:
            frame = pd.concat(kept) if kept else pd.DataFrame()
            _add(totals, _write(kind, frame, report, progress))
    report.created, report.changed, report.unchanged = totals
    return report


def _write(kind: str, frame: pd.DataFrame, report: ImportReport, progress: Progress):
    if frame.empty:
        return None
    if kind == "customers":
        return _write_customers(frame, progress)
    if report.layout == "stripe":
        report.customers_created = _create_customers(frame)
        frame = _attach_customers(frame, Errors(), create_missing=False)
    return _write_rows(kind, frame, progress)


def _add(totals: list[int], result) -> None:
    if result is not None:
        totals[0] += result.created
        totals[1] += result.changed
        totals[2] += result.unchanged


class _Keys:
    """The external ids seen so far, as 64-bit hashes with their row numbers (12 bytes a
    row), for the "appears twice" check without keeping a million strings."""

    def __init__(self):
        self.hashes, self.rows = [], []

    def add(self, ids: pd.Series) -> None:
        given = ids[ids != ""]
        self.hashes.append(pd.util.hash_pandas_object(given, index=False).to_numpy())
        self.rows.append(given.index.to_numpy(dtype="int32"))

    def check(self, errors: Errors, chunks) -> None:
        """Report every repeated id at its later rows; the ids themselves are read again
        (from `chunks()`) only for the rows that repeat."""
        if not self.hashes:
            return
        # One array at a time, each freed as soon as it is sorted: the peak stays small.
        hashes = np.concatenate(self.hashes)
        self.hashes = []
        # Rows were added in file order, so a stable sort keeps them in order per id.
        order = np.argsort(hashes, kind="stable")
        hashes = hashes[order]
        rows = np.concatenate(self.rows)
        self.rows = []
        rows = rows[order]
        del order
        repeated = np.flatnonzero(hashes[1:] == hashes[:-1]) + 1
        if not len(repeated):
            return
        wanted = set(rows[repeated].tolist()) | set(rows[repeated - 1].tolist())
        values = {}
        for chunk in chunks():
            hit = chunk.index.isin(list(wanted))
            values.update(chunk.loc[hit, "external_id"].astype(str).items())
        first_of = {}
        duplicates = []
        for index in sorted(set(repeated.tolist()) | set((repeated - 1).tolist())):
            row = int(rows[index])
            value = values[row]
            if value in first_of:
                duplicates.append((row, value, first_of[value]))
            else:
                first_of[value] = row
        for row, value, first in duplicates[: formats.MAX_KEPT_ERRORS]:
            errors.add_one(
                row + 2,
                "external_id",
                value,
                gettext_noop("appears twice in this file (first in row %(first)s)"),
                first=first + 2,
            )
        errors.total += max(len(duplicates) - formats.MAX_KEPT_ERRORS, 0)


REQUIRED_HEADERS = {
    ("customers", "cs_platform"): ["external_id"],
    ("orders", "cs_platform"): ["external_id", "customer_external_id", "occurred_at", "amount"],
    ("orders", "stripe"): ["id", "created_(utc)", "amount"],
    ("interactions", "cs_platform"): ["customer_external_id", "kind"],
}


def _check_header(kind, layout, columns, errors: Errors) -> None:
    missing = [c for c in REQUIRED_HEADERS[(kind, layout)] if c not in columns]
    if missing:
        errors.add_one(
            1,
            ", ".join(missing),
            "",
            gettext_noop("required column(s) missing from the header row"),
        )


def _customer_ids(external_ids) -> dict[str, int]:
    found = {}
    unique = list(dict.fromkeys(external_ids))
    for start in range(0, len(unique), 5000):
        found.update(
            Customer.objects.filter(external_id__in=unique[start : start + 5000]).values_list(
                "external_id", "id"
            )
        )
    return found


def _attach_customers(frame: pd.DataFrame, errors: Errors, create_missing: bool) -> pd.DataFrame:
    refs = frame["customer_external_id"]
    ids = refs.map(_customer_ids(refs[refs != ""]))
    if not create_missing:
        unknown = ids.isna() & (refs != "")
        for index, value in refs[unknown].head(formats.MAX_KEPT_ERRORS).items():
            errors.add_one(
                int(index) + 2,
                "customer_external_id",
                value,
                gettext_noop("no customer has this external id; import customers first"),
            )
        errors.total += max(int(unknown.sum()) - formats.MAX_KEPT_ERRORS, 0)
    return frame.assign(customer_id=ids)


def _create_customers(frame: pd.DataFrame) -> int:
    """Stripe payments name their customer; create the ones we have not seen."""
    missing = frame[frame["customer_id"].isna()].drop_duplicates("customer_external_id")
    if missing.empty:
        return 0
    now = timezone.now()
    new = pd.DataFrame(
        {
            "external_id": missing["customer_external_id"],
            "name": missing["customer_name"],
            "email": missing["customer_email"],
            "signup_date": frame.groupby("customer_external_id")["occurred_at"]
            .min()
            .reindex(missing["customer_external_id"])
            .dt.tz_convert(settings.TIME_ZONE)
            .dt.tz_localize(None)
            .values,
        }
    )
    new = with_customer_defaults(new, now)
    return upsert(Customer, new, key="external_id", update_columns=[]).created


CUSTOMER_DEFAULTS = {
    "name": "",
    "email": "",
    "company": "",
    "locale": "",
    "plan": "",
    "mrr": "0",
    "lifecycle_stage": "active",
    "survey_opt_out": False,
}


def with_customer_defaults(frame: pd.DataFrame, now) -> pd.DataFrame:
    frame = frame.copy()
    for name, default in CUSTOMER_DEFAULTS.items():
        if name not in frame.columns:
            frame[name] = default
    for name, empty in (("tags", list), ("custom", dict)):
        if name not in frame.columns:
            frame[name] = [empty() for _ in range(len(frame))]
    frame["created_at"] = now
    frame["updated_at"] = now
    return frame


def _write_customers(frame: pd.DataFrame, progress: Progress):
    present = [c for c in frame.columns if c != "external_id"]
    full = with_customer_defaults(frame, timezone.now())
    return upsert(
        Customer,
        full,
        key="external_id",
        update_columns=present,
        touch_columns=["updated_at"],
        progress=progress.advance,
    )


ORDER_COLUMNS = [
    "external_id",
    "customer_id",
    "occurred_at",
    "amount",
    "currency",
    "kind",
    "margin",
]
INTERACTION_COLUMNS = [  # database columns; the API shows the same, with "customer"
    "customer_id",
    "external_id",
    "kind",
    "direction",
    "occurred_at",
    "subject",
    "body",
    "opened_at",
    "first_response_at",
    "resolved_at",
]


def _write_rows(kind: str, frame: pd.DataFrame, progress: Progress):
    model, columns = (
        (Order, ORDER_COLUMNS) if kind == "orders" else (Interaction, INTERACTION_COLUMNS)
    )
    frame = frame[columns].astype({"customer_id": "int64"})
    return upsert(model, frame, key="external_id", progress=progress.advance)
