"""CSV downloads that are safe to open in a spreadsheet."""

import csv
import re

from django.http import StreamingHttpResponse

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# A separator a spreadsheet might split on, then a formula's first character: "a;=1+1"
# opened with ";" as the separator is a cell "a" and a formula "=1+1".
SPLIT_FORMULA = re.compile(r"[,;\t|][=+\-@\t\r]")


def safe_cell(value) -> str:
    """Neutralise cells a spreadsheet would run as a formula (OWASP CSV injection)."""
    if value is None:
        return ""
    text = str(value)
    if isinstance(value, str) and (text.startswith(FORMULA_PREFIXES) or SPLIT_FORMULA.search(text)):
        return "'" + text
    return text


class _Echo:
    def write(self, value):
        return value


def streaming_csv(filename: str, header: list[str], rows) -> StreamingHttpResponse:
    """Stream rows (iterables of values) as a UTF-8 CSV with a BOM, so Excel reads Chinese.
    Every cell is quoted: a spreadsheet that splits on ";" then cannot split "a;=1+1"
    into a formula cell."""
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_ALL)

    def lines():
        yield "\ufeff" + writer.writerow(header)
        for row in rows:
            yield writer.writerow([safe_cell(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
