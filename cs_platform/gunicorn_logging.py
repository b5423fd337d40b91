"""gunicorn's logger with secrets redacted from every access-log field and error line:
`gunicorn --logger-class cs_platform.gunicorn_logging.Logger` (Dockerfile, compose)."""

from gunicorn import glogging

from .redaction import RedactRecords, redact


class Logger(glogging.Logger):
    def setup(self, cfg):
        super().setup(cfg)
        self.error_log.addFilter(RedactRecords())

    def atoms(self, resp, req, environ, request_time):
        return {
            name: redact(value) if isinstance(value, str) else value
            for name, value in super().atoms(resp, req, environ, request_time).items()
        }
