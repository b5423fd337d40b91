"""Remembering that a service is down, so that a page neither waits on it at every
request nor logs it at every request: one warning when it goes, one note when it is
back, and another try only every RETRY_SECONDS."""

import logging
import time

log = logging.getLogger("cs_platform.outage")
RETRY_SECONDS = 30


class Outage:
    def __init__(self, service: str, consequence: str):
        self.service, self.consequence = service, consequence
        self.retry_at = 0.0
        self.down = False

    def worth_trying(self) -> bool:
        return time.monotonic() >= self.retry_at

    def failed(self, error: Exception) -> None:
        if not self.down:
            log.warning(
                "%s unreachable (%s): %s; retrying every %d s",
                self.service,
                type(error).__name__,
                self.consequence,
                RETRY_SECONDS,
            )
        self.down, self.retry_at = True, time.monotonic() + RETRY_SECONDS

    def worked(self) -> None:
        if self.down:
            log.warning("%s reachable again", self.service)
        self.down, self.retry_at = False, 0.0
