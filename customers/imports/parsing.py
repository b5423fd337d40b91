"""Pure, vectorised parsing of the values people put in CSV files.

Each parser takes a Series of raw strings and returns the parsed Series plus a
boolean mask of the values it could not read. No Django ORM in here.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)
_FALLBACK_FORMATS = [
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%Y%m%d",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%b %d %Y",
    "%B %d %Y",
    "%d-%b-%Y",
    "%d %b %Y %H:%M",
    "%b %d, %Y, %I:%M %p",
    "%b %d, %Y %I:%M %p",
    "%Y年%m月%d日",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日 %H:%M:%S",
]
_MONTH_FIRST = ["%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%y"]
_DAY_FIRST = ["%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%y"]


def _to_datetime(text: pd.Series, **options) -> pd.Series:
    """pd.to_datetime in nanoseconds: pandas reads years outside 1677–2262 in a coarser
    unit, which the nanosecond columns here cannot hold; such values are unreadable."""
    parsed = pd.to_datetime(text, errors="coerce", **options)
    low, high = pd.Timestamp.min.tz_localize("UTC"), pd.Timestamp.max.tz_localize("UTC")
    utc = parsed if parsed.dt.tz is not None else parsed.dt.tz_localize("UTC")
    parsed = parsed.where((utc > low) & (utc < high))
    return parsed.dt.as_unit("ns")


def parse_datetimes(raw: pd.Series, tz: str) -> tuple[pd.Series, pd.Series]:
    """Parse ISO 8601 and common date(-time) formats into UTC timestamps.

    Values without an offset are read in `tz`. Slashed dates are month-first
    (US, Stripe) unless some value in the column has a first part above 12,
    which makes the whole column day-first.
    Returns (datetime64[ns, UTC] series, mask of unreadable non-empty values).
    """
    text = raw.fillna("").astype(str).str.strip()
    empty = text == ""
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")

    has_offset = text.str.contains(_OFFSET) & ~empty
    if has_offset.any():
        result[has_offset] = _to_datetime(text[has_offset], format="ISO8601", utc=True)
    naive = ~has_offset & ~empty
    local = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    if naive.any():
        local[naive] = _to_datetime(text[naive], format="ISO8601")
        todo = naive & local.isna()
        if todo.any():
            slashed = text[todo].str.extract(r"^(\d{1,2})/(\d{1,2})/\d{2,4}")[0].dropna()
            day_first = bool((slashed.astype(int) > 12).any())
            formats = _FALLBACK_FORMATS + (_DAY_FIRST if day_first else _MONTH_FIRST)
            for fmt in formats:
                todo = naive & local.isna()
                if not todo.any():
                    break
                local[todo] = _to_datetime(text[todo], format=fmt)
        readable = naive & local.notna()
        if readable.any():
            result[readable] = (
                local[readable]
                .dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
                .dt.tz_convert("UTC")
            )
    bad = ~empty & result.isna()
    return result, bad


def parse_dates(raw: pd.Series, tz: str) -> tuple[pd.Series, pd.Series]:
    """Calendar dates (the day in `tz` for values that carry a time and an offset)."""
    stamps, bad = parse_datetimes(raw, tz)
    return stamps.dt.tz_convert(tz).dt.normalize().dt.tz_localize(None), bad


_THOUSANDS_COMMA = re.compile(r"^-?\d{1,3}(,\d{3})+$")
_THOUSANDS_DOT = re.compile(r"^-?\d{1,3}(\.\d{3}){2,}$")
_PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def parse_amounts(raw: pd.Series, decimals: int = 2) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Money amounts written as 1234.56, 1,234.56, 1.234,56, 12,50, $12, 12 €, (12.00).

    The last of ',' and '.' is the decimal separator when both appear; a lone ','
    is a decimal comma unless it groups thousands (1,234). Returns
    (canonical text like '-1234.56' or None, float values, mask of unreadable values).
    """
    text = raw.fillna("").astype(str).str.strip()
    empty = text == ""
    text = text.str.replace(r"[\s\u00a0'’]", "", regex=True)
    negative = text.str.match(r"^\(.*\)$") | text.str.startswith("-")
    text = text.str.replace(r"^\(|\)$", "", regex=True).str.lstrip("+-")
    text = text.str.replace(r"^[^\d.,]+|[^\d.,]+$", "", regex=True)  # currency signs and codes

    last_comma = text.str.rfind(",")
    last_dot = text.str.rfind(".")
    both = (last_comma >= 0) & (last_dot >= 0)
    comma_decimal = (both & (last_comma > last_dot)) | (
        ~both & (last_comma >= 0) & ~text.str.match(_THOUSANDS_COMMA)
    )
    dot_thousands = ~both & (last_comma < 0) & text.str.match(_THOUSANDS_DOT)
    canonical = text.where(
        ~comma_decimal, text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    )
    canonical = canonical.where(comma_decimal, canonical.str.replace(",", "", regex=False))
    canonical = canonical.where(~dot_thousands, canonical.str.replace(".", "", regex=False))

    well_formed = canonical.str.match(_PLAIN_NUMBER) & (
        canonical.str.extract(r"\.(\d+)$")[0].fillna("").str.len() <= decimals
    )
    canonical = ("-" + canonical).where(negative, canonical)
    values = pd.to_numeric(canonical.where(well_formed), errors="coerce")
    bad = ~empty & ~well_formed
    return canonical.where(well_formed & ~empty, None), values, bad


_TRUE = {"1", "true", "yes", "y", "t", "x", "是"}
_FALSE = {"0", "false", "no", "n", "f", "", "否"}


def parse_bools(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    text = raw.fillna("").astype(str).str.strip().str.lower()
    values = text.isin(_TRUE)
    bad = ~values & ~text.isin(_FALSE)
    return values, bad


def parse_choice(raw: pd.Series, synonyms: dict[str, str], default: str | None):
    """Map free text onto a choice via a synonym table (keys lower-case, spaces as _)."""
    key = (
        raw.fillna("").astype(str).str.strip().str.lower().str.replace(r"[\s\-]+", "_", regex=True)
    )
    values = key.map(synonyms)
    if default is not None:
        values = values.where(key != "", default)
    bad = values.isna() & (key != "") if default is not None else values.isna()
    return values, bad


def parse_shares(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """A share 0..1 written as 0.35, 0,35 or 35%."""
    text = raw.fillna("").astype(str).str.strip()
    percent = text.str.endswith("%")
    number = pd.to_numeric(
        text.str.rstrip("%").str.replace(",", ".", regex=False).str.strip(), errors="coerce"
    )
    number = number.where(~percent, number / 100)
    empty = text == ""
    bad = ~empty & (number.isna() | (number < 0) | (number > 1))
    return number.where(~bad & ~empty).round(4), bad


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def bad_emails(raw: pd.Series) -> pd.Series:
    text = raw.fillna("").astype(str).str.strip()
    return (text != "") & ~text.str.match(_EMAIL)


def too_long(raw: pd.Series, limit: int) -> pd.Series:
    return raw.fillna("").astype(str).str.len() > limit


def split_tags(raw: pd.Series) -> pd.Series:
    """'vip; beta, 早期用户' -> ['vip', 'beta', '早期用户'] (order kept, duplicates dropped)."""
    return (
        raw.fillna("")
        .astype(str)
        .map(
            lambda text: list(
                dict.fromkeys(t.strip() for t in re.split(r"[;,|]", text) if t.strip())
            )
        )
    )


def normalise_locale(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    key = raw.fillna("").astype(str).str.strip().str.lower().str.replace("_", "-", regex=False)
    chinese = key.str.match(r"^zh(-(hans|cn|sg|hans-cn))?$")
    english = key.str.match(r"^en(-[a-z]{2,4})?$")
    values = pd.Series(np.select([chinese, english], ["zh-hans", "en"], ""), index=raw.index)
    bad = (key != "") & ~chinese & ~english
    return values, bad
