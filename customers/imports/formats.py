"""Validation of imported rows, per kind of file. Pure: DataFrames in, DataFrames out.

Each validator takes one chunk of the file as raw strings (columns already
normalised to snake_case, index = 0-based data row) and returns the clean,
typed frame and a list of RowError. Row numbers count the header as row 1, as a
spreadsheet shows them.
"""

from __future__ import annotations

import hashlib
import zoneinfo
from dataclasses import dataclass, field

import pandas as pd
from django.utils.translation import gettext, gettext_noop

from . import parsing

MAX_KEPT_ERRORS = 1000


@dataclass(frozen=True)
class RowError:
    """A problem of one row. `message` is an English template (shown translated on the
    import page: `problem`), `args` its arguments."""

    row: int
    column: str
    value: str
    message: str
    args: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message % self.args if self.args else self.message,
            "template": self.message,
            "args": self.args,
        }


def problem(error: dict) -> str:
    """A stored row error in the active language."""
    template = error.get("template")
    if not template:
        return error.get("message", "")
    try:
        return gettext(template) % error["args"] if error.get("args") else gettext(template)
    except (KeyError, TypeError, ValueError):
        return error.get("message", "")


class Errors(list):
    """Collects RowErrors; keeps the first MAX_KEPT_ERRORS but counts them all."""

    total = 0

    def add(
        self, mask: pd.Series, column: str, raw: pd.Series | None, message: str, **args
    ) -> None:
        mask = mask.fillna(False).astype(bool)
        count = int(mask.sum())
        if not count:
            return
        self.total += count
        room = MAX_KEPT_ERRORS - len(self)
        for index in mask[mask].index[: max(room, 0)]:
            value = "" if raw is None else str(raw.get(index, ""))
            self.append(RowError(int(index) + 2, column, value[:80], message, args))

    def add_one(self, row: int, column: str, value: str, message: str, **args) -> None:
        self.total += 1
        if len(self) < MAX_KEPT_ERRORS:
            self.append(RowError(row, column, value[:80], message, args))

    def merge(self, other: Errors) -> None:
        self.total += other.total
        self.extend(other[: max(MAX_KEPT_ERRORS - len(self), 0)])


NUL = "\x00"


def without_nul(frame: pd.DataFrame) -> tuple[pd.DataFrame, Errors]:
    """Rows with a NUL character in a cell, refused and left out of the other checks:
    Postgres cannot store a NUL in text, nor look one up."""
    errors = Errors()
    refused = pd.Series(False, index=frame.index)
    for name in frame.columns:
        values = frame[name]
        has_nul = values.str.contains(NUL, regex=False, na=False)
        if has_nul.any():
            shown = values.str.replace(NUL, "\\0", regex=False)
            errors.add(has_nul, name, shown, gettext_noop("contains a NUL character (\\0)"))
            refused |= has_nul
    return (frame[~refused] if refused.any() else frame), errors


def normalise_header(name: str) -> str:
    return "_".join(str(name).replace("\ufeff", "").replace(NUL, "").strip().lower().split())


def column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name].fillna("").astype(str).str.strip()
    return pd.Series("", index=frame.index, dtype=object)


def require(frame, errors: Errors, name: str, limit: int) -> pd.Series:
    values = limit_text(frame, errors, name, limit)
    errors.add(values == "", name, values, gettext_noop("is required"))
    return values


def limit_text(frame, errors: Errors, name: str, limit: int) -> pd.Series:
    values = column(frame, name)
    errors.add(
        parsing.too_long(values, limit),
        name,
        values,
        gettext_noop("is longer than %(limit)s characters"),
        limit=limit,
    )
    return values


def datetimes(frame, errors: Errors, name: str, tz: str, required: bool = False) -> pd.Series:
    raw = column(frame, name)
    values, bad = parsing.parse_datetimes(raw, tz)
    errors.add(
        bad,
        name,
        raw,
        gettext_noop("is not a date we can read (use YYYY-MM-DD or YYYY-MM-DD HH:MM)"),
    )
    if required:
        errors.add(raw == "", name, raw, gettext_noop("is required"))
    return values


def dates(frame, errors: Errors, name: str, tz: str) -> pd.Series:
    raw = column(frame, name)
    values, bad = parsing.parse_dates(raw, tz)
    errors.add(bad, name, raw, gettext_noop("is not a date we can read (use YYYY-MM-DD)"))
    return values


FUTURE_SLACK = pd.Timedelta(days=1)  # clocks and time zones differ; more is a mistake
IN_THE_FUTURE = gettext_noop("is more than a day in the future")


def not_in_future(errors: Errors, values: pd.Series, name: str, raw: pd.Series, tz: str) -> None:
    """A signup or an order cannot lie ahead: one such row would skew every score.
    `values` are UTC timestamps or naive calendar days in `tz`."""
    now = pd.Timestamp.now(tz="UTC")
    if values.dt.tz is None:
        now = now.tz_convert(tz).normalize().tz_localize(None)
    errors.add(values > now + FUTURE_SLACK, name, raw, IN_THE_FUTURE)


# --- customers -------------------------------------------------------------------

CUSTOMER_COLUMNS = [
    "external_id",
    "name",
    "email",
    "company",
    "locale",
    "plan",
    "mrr",
    "signup_date",
    "subscription_ends_on",
    "churned_at",
    "tags",
    "lifecycle_stage",
    "survey_opt_out",
    "time_zone",
]
# The scores a customer export adds after the import columns (the current run's; read
# only: an import of an export skips them instead of storing them as custom fields).
EXPORTED_SCORES = [
    "health",
    "health_band",
    "clv",
    "churn_probability",
    "value_at_risk",
    "rfm_segment",
    "last_nps",
]
LIFECYCLE_SYNONYMS = {
    "lead": "lead",
    "prospect": "lead",
    "trial": "trial",
    "trialing": "trial",
    "active": "active",
    "customer": "active",
    "at_risk": "at_risk",
    "risk": "at_risk",
    "churned": "churned",
    "cancelled": "churned",
    "canceled": "churned",
    "lost": "churned",
}


TIME_ZONES = frozenset(zoneinfo.available_timezones())


def validate_customers(frame: pd.DataFrame, tz: str) -> tuple[pd.DataFrame, Errors]:
    errors = Errors()
    clean = pd.DataFrame(index=frame.index)
    clean["external_id"] = require(frame, errors, "external_id", 100)
    for name, limit in [("name", 200), ("company", 200), ("plan", 100)]:
        if name in frame.columns:
            clean[name] = limit_text(frame, errors, name, limit)
    if "email" in frame.columns:
        clean["email"] = column(frame, "email").str.lower()
        errors.add(
            parsing.bad_emails(clean["email"]),
            "email",
            clean["email"],
            gettext_noop("is not an email address"),
        )
    if "locale" in frame.columns:
        raw = column(frame, "locale")
        clean["locale"], bad = parsing.normalise_locale(raw)
        errors.add(bad, "locale", raw, gettext_noop("must be en or zh-hans"))
    if "mrr" in frame.columns:
        raw = column(frame, "mrr")
        text, values, bad = parsing.parse_amounts(raw)
        errors.add(bad, "mrr", raw, gettext_noop("is not an amount"))
        errors.add(values < 0, "mrr", raw, gettext_noop("must not be negative"))
        clean["mrr"] = text.fillna("0")
    for name in ("signup_date", "subscription_ends_on"):
        if name in frame.columns:
            clean[name] = dates(frame, errors, name, tz)
    if "signup_date" in frame.columns:
        not_in_future(errors, clean["signup_date"], "signup_date", column(frame, "signup_date"), tz)
    if "churned_at" in frame.columns:
        clean["churned_at"] = datetimes(frame, errors, "churned_at", tz)
    if "tags" in frame.columns:
        clean["tags"] = parsing.split_tags(column(frame, "tags"))
    if "lifecycle_stage" in frame.columns:
        raw = column(frame, "lifecycle_stage")
        clean["lifecycle_stage"], bad = parsing.parse_choice(raw, LIFECYCLE_SYNONYMS, "active")
        errors.add(
            bad,
            "lifecycle_stage",
            raw,
            gettext_noop("must be lead, trial, active, at_risk or churned"),
        )
    if "survey_opt_out" in frame.columns:
        raw = column(frame, "survey_opt_out")
        clean["survey_opt_out"], bad = parsing.parse_bools(raw)
        errors.add(bad, "survey_opt_out", raw, gettext_noop("must be yes/no, true/false or 1/0"))
    if "time_zone" in frame.columns:
        clean["time_zone"] = column(frame, "time_zone")
        bad = clean["time_zone"].ne("") & ~clean["time_zone"].isin(TIME_ZONES)
        errors.add(bad, "time_zone", clean["time_zone"], gettext_noop("is not a time zone"))
    known = {*CUSTOMER_COLUMNS, *EXPORTED_SCORES, "custom"}
    extra = [c for c in frame.columns if c not in known]
    if extra:
        clean["custom"] = frame[extra].fillna("").astype(str).to_dict(orient="records")
    return clean, errors


# --- orders ----------------------------------------------------------------------

ORDER_KIND_SYNONYMS = {
    "purchase": "purchase",
    "order": "purchase",
    "sale": "purchase",
    "charge": "purchase",
    "subscription": "subscription",
    "subscription_payment": "subscription",
    "renewal": "subscription",
    "invoice": "subscription",
    "refund": "refund",
    "return": "refund",
    "credit": "refund",
}
STRIPE_SKIPPED_STATUSES = {"failed", "canceled", "cancelled", "requires_payment_method", "pending"}


def is_stripe_export(columns) -> bool:
    return {"id", "created_(utc)", "amount"} <= set(columns)


def _currency(frame, errors: Errors, name: str, account: str) -> pd.Series:
    """The account's currency: an order in another one would be added as if it were
    (2,000 JPY counted as 2,000 USD), so it is refused. A blank cell is the account's."""
    values = column(frame, name).str.upper()
    values = values.where(values != "", account)
    bad_code = ~values.str.match(r"^[A-Z]{3}$")
    errors.add(bad_code, name, values, gettext_noop("must be a 3-letter currency code"))
    errors.add(
        ~bad_code & (values != account),
        name,
        values,
        gettext_noop(
            "is not the account currency (%(account)s): convert the amount to %(account)s first"
        ),
        account=account,
    )
    return values


def validate_orders(frame: pd.DataFrame, tz: str, currency: str) -> tuple[pd.DataFrame, Errors]:
    """Our template: external_id, customer_external_id, occurred_at, amount, currency, kind,
    margin."""
    errors = Errors()
    clean = pd.DataFrame(index=frame.index)
    clean["external_id"] = require(frame, errors, "external_id", 100)
    clean["customer_external_id"] = require(frame, errors, "customer_external_id", 100)
    clean["occurred_at"] = datetimes(frame, errors, "occurred_at", tz, required=True)
    not_in_future(errors, clean["occurred_at"], "occurred_at", column(frame, "occurred_at"), tz)
    raw_amount = column(frame, "amount")
    text, values, bad = parsing.parse_amounts(raw_amount)
    errors.add(raw_amount == "", "amount", raw_amount, gettext_noop("is required"))
    errors.add(bad, "amount", raw_amount, gettext_noop("is not an amount with at most 2 decimals"))
    errors.add(values.abs() >= 10**10, "amount", raw_amount, gettext_noop("is too large"))
    raw_kind = column(frame, "kind")
    kind, bad_kind = parsing.parse_choice(raw_kind, ORDER_KIND_SYNONYMS, "purchase")
    errors.add(bad_kind, "kind", raw_kind, gettext_noop("must be purchase, subscription or refund"))
    # A negative amount without a kind is a refund; a negative purchase is a mistake.
    kind = kind.where(~((values < 0) & (raw_kind == "")), "refund")
    errors.add(
        (values < 0) & (kind != "refund"),
        "amount",
        raw_amount,
        gettext_noop("is negative; only refunds may be negative (set kind to refund)"),
    )
    clean["kind"] = kind
    clean["amount"] = _signed(text, kind)
    clean["currency"] = _currency(frame, errors, "currency", currency)
    raw_margin = column(frame, "margin")
    clean["margin"], bad = parsing.parse_shares(raw_margin)
    errors.add(
        bad, "margin", raw_margin, gettext_noop("must be a share between 0 and 1 (e.g. 0.4 or 40%)")
    )
    clean["customer_email"] = ""
    clean["customer_name"] = ""
    return clean, errors


def _signed(text: pd.Series, kind: pd.Series) -> pd.Series:
    """Refunds are stored negative whatever sign the file used."""
    unsigned = text.str.lstrip("-")
    return ("-" + unsigned).where(kind == "refund", unsigned)


def validate_stripe_charges(frame: pd.DataFrame, currency: str) -> tuple[pd.DataFrame, Errors, int]:
    """A Stripe payments ("unified payments" / charges) export. Times are UTC.

    Failed or pending charges are skipped and counted; a charge with an
    'Amount Refunded' also yields a refund order '<id>:refund'.
    """
    errors = Errors()
    status = column(frame, "status").str.lower()
    skipped = status.isin(STRIPE_SKIPPED_STATUSES)
    frame = frame[~skipped]
    clean = pd.DataFrame(index=frame.index)
    clean["external_id"] = require(frame, errors, "id", 100)
    clean["occurred_at"] = datetimes(frame, errors, "created_(utc)", "UTC", required=True)
    not_in_future(
        errors, clean["occurred_at"], "created_(utc)", column(frame, "created_(utc)"), "UTC"
    )
    raw_amount = column(frame, "amount")
    text, values, bad = parsing.parse_amounts(raw_amount)
    errors.add(bad | (raw_amount == ""), "amount", raw_amount, gettext_noop("is not an amount"))
    errors.add(values < 0, "amount", raw_amount, gettext_noop("must not be negative"))
    clean["amount"] = text
    clean["kind"] = "purchase"
    clean["currency"] = _currency(frame, errors, "currency", currency)
    clean["margin"] = float("nan")
    email = column(frame, "customer_email").str.lower()
    errors.add(
        parsing.bad_emails(email), "customer_email", email, gettext_noop("is not an email address")
    )
    customer = column(frame, "customer_id")
    customer = customer.where(customer != "", ("email:" + email).where(email != "", ""))
    errors.add(
        customer == "",
        "customer_id",
        customer,
        gettext_noop("is empty and so is Customer Email; we cannot tell whose payment this is"),
    )
    clean["customer_external_id"] = customer
    clean["customer_email"] = email
    clean["customer_name"] = column(frame, "customer_description").str.slice(0, 200)

    raw_refunded = column(frame, "amount_refunded")
    refunded_text, refunded, bad = parsing.parse_amounts(raw_refunded)
    errors.add(bad, "amount_refunded", raw_refunded, gettext_noop("is not an amount"))
    has_refund = refunded.fillna(0) > 0
    refunds = clean[has_refund].copy()
    refunds["external_id"] = refunds["external_id"] + ":refund"
    refunds["amount"] = "-" + refunded_text[has_refund]
    refunds["kind"] = "refund"
    return pd.concat([clean, refunds]), errors, int(skipped.sum())


# --- interactions ----------------------------------------------------------------

INTERACTION_KIND_SYNONYMS = {
    "payment": "payment",
    "payment_failed": "payment",
    "failed_payment": "payment",
    "email": "email",
    "e_mail": "email",
    "mail": "email",
    "call": "call",
    "phone": "call",
    "phone_call": "call",
    "meeting": "meeting",
    "demo": "meeting",
    "video_call": "meeting",
    "note": "note",
    "comment": "note",
    "ticket": "ticket",
    "support": "ticket",
    "support_ticket": "ticket",
    "usage": "usage",
    "login": "usage",
    "product_usage": "usage",
    "session": "usage",
}
DIRECTION_SYNONYMS = {
    "inbound": "inbound",
    "in": "inbound",
    "incoming": "inbound",
    "outbound": "outbound",
    "out": "outbound",
    "outgoing": "outbound",
    "internal": "internal",
}


def validate_interactions(frame: pd.DataFrame, tz: str) -> tuple[pd.DataFrame, Errors]:
    """external_id (optional), customer_external_id, kind, direction, occurred_at,
    subject, body, opened_at, first_response_at, resolved_at."""
    errors = Errors()
    clean = pd.DataFrame(index=frame.index)
    clean["customer_external_id"] = require(frame, errors, "customer_external_id", 100)
    raw_kind = column(frame, "kind")
    clean["kind"], bad = parsing.parse_choice(raw_kind, INTERACTION_KIND_SYNONYMS, None)
    errors.add(
        bad,
        "kind",
        raw_kind,
        gettext_noop("must be email, call, meeting, note, ticket, usage or payment"),
    )
    raw_direction = column(frame, "direction")
    clean["direction"], bad = parsing.parse_choice(raw_direction, DIRECTION_SYNONYMS, "inbound")
    errors.add(
        bad, "direction", raw_direction, gettext_noop("must be inbound, outbound or internal")
    )
    clean["subject"] = limit_text(frame, errors, "subject", 300)
    clean["body"] = column(frame, "body")
    for name in ("opened_at", "first_response_at", "resolved_at"):
        clean[name] = datetimes(frame, errors, name, tz)
    occurred = datetimes(frame, errors, "occurred_at", tz)
    occurred = occurred.fillna(clean["opened_at"])
    errors.add(
        occurred.isna() & (column(frame, "occurred_at") == ""),
        "occurred_at",
        None,
        gettext_noop("is required (or opened_at for a ticket)"),
    )
    clean["occurred_at"] = occurred
    is_ticket = clean["kind"] == "ticket"
    clean["opened_at"] = clean["opened_at"].where(~is_ticket | clean["opened_at"].notna(), occurred)
    for name in ("first_response_at", "resolved_at"):
        errors.add(
            clean[name] < clean["opened_at"],
            name,
            column(frame, name),
            gettext_noop("is before opened_at"),
        )
    external = limit_text(frame, errors, "external_id", 100)
    clean["external_id"] = external.where(external != "", _content_ids(clean))
    return clean, errors


def _content_ids(clean: pd.DataFrame) -> pd.Series:
    """A stable id from the row's content, so files without ids still re-import idempotently."""
    key = (
        clean["customer_external_id"]
        + "|"
        + clean["kind"].fillna("")
        + "|"
        + clean["occurred_at"].astype(str)
        + "|"
        + clean["subject"]
    )
    return "h:" + key.map(lambda text: hashlib.sha1(text.encode()).hexdigest()[:24])
