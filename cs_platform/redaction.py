"""No secret in any log: survey, unsubscribe and exit-question tokens, the inbound
e-mail secret (all in URL paths, so in access-log request lines and Referers), API
tokens and webhook secrets are replaced by [redacted] before a line is written.

`RedactingFormatter` is the app's log formatter (settings.LOGGING);
`cs_platform.gunicorn_logging.Logger` does the same for gunicorn's access and error
logs (`--logger-class`)."""

import logging
import re

REDACTED = "[redacted]"
SECRETS = [
    # /s/<token>/…, /s/email/<token>/unsubscribe/, /why/<token>/, /inbound/email/<secret>/
    (re.compile(r"(/(?:s/email|inbound/email|s|why)/)[^/?#\s\"']+"), rf"\1{REDACTED}"),
    # the same URL-encoded, as in a login redirect's next=
    (
        re.compile(r"(%2F(?:s%2Femail|inbound%2Femail|s|why)%2F)(?:(?!%2F)[^/?#&\s\"'])+", re.I),
        rf"\1{REDACTED}",
    ),
    # Authorization: Token <key> / Bearer <key>
    (re.compile(r"\b(Token|Bearer)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {REDACTED}"),
    # secret=…, token=…, key=…, signature=… in a query string or a message
    (
        re.compile(r"((?:[a-z_-]*secret|token|api[_-]?key|signature)(?:=|%3D))[^&%\s\"']+", re.I),
        rf"\1{REDACTED}",
    ),
    # The inbound secret's header
    (re.compile(r"(X-Inbound-Secret[\"']?:\s*[\"']?)[^\s\"',}]+", re.I), rf"\1{REDACTED}"),
]


def redact(text: str) -> str:
    for pattern, replacement in SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFormatter(logging.Formatter):
    """The whole formatted record (message and traceback) with secrets redacted."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class RedactRecords(logging.Filter):
    """Redacts a record's message in place, for loggers whose formatter is not ours."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), ()
        return True
