"""The owner's morning digest: today's top follow-ups, new detractors with their words,
the KPIs that moved overnight, and a warning when the scores are not fresh. One e-mail
a day (claimed on the settings row before it goes), optionally posted to a
Slack-compatible webhook; and the instant alert when a detractor answers."""

from __future__ import annotations

import json
import logging
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from customers.followups import today as today_queue
from customers.models import FollowUp
from feedback import scales
from feedback.models import SurveyResponse
from metrics.models import CACHE_KEY, AccountSettings, ScoringRun

from . import kpis

log = logging.getLogger(__name__)

TOP_ITEMS = 10
STALE_AFTER = timedelta(hours=26)  # a nightly run should be at most a day and a bit old


@dataclass
class Digest:
    day: str
    items: list = field(default_factory=list)
    detractors: list = field(default_factory=list)
    moved: list = field(default_factory=list)  # (Kpi, change in percent or points)
    warnings: list[str] = field(default_factory=list)
    site: str = ""

    @property
    def subject(self) -> str:
        if self.warnings:
            return _("cs_platform, %(day)s: %(warning)s") % {
                "day": self.day,
                "warning": self.warnings[0],
            }
        return _("cs_platform, %(day)s: %(n)s to contact today") % {
            "day": self.day,
            "n": len(self.items),
        }


def _unhappy() -> Q:
    return (
        Q(kind="nps", score__lte=scales.DETRACTOR_MAX)
        | Q(kind="csat", score__lte=scales.UNHAPPY_CSAT_MAX)
        | Q(kind="ces", score__gte=scales.HARD_CES_MIN)
    )


def _moved(run: ScoringRun, threshold: int) -> list:
    previous = (
        ScoringRun.objects.filter(status=ScoringRun.Status.SUCCEEDED, as_of__lt=run.as_of)
        .only("summary", "as_of")
        .order_by("-as_of")
        .first()
    )
    if previous is None:
        return []
    moved = []
    for card in kpis.kpis(run.summary, previous.summary):
        if card.change is None:
            continue
        if card.unit in ("points", "percent"):
            size = card.change * (100 if card.unit == "percent" else 1)
        elif card.previous:
            size = 100 * card.change / abs(card.previous)
        else:
            continue
        if abs(size) >= threshold:
            moved.append((card, size))
    return moved


def _warnings(now: datetime) -> list[str]:
    latest = ScoringRun.objects.defer("fitted_state").order_by("-started_at").first()
    current = ScoringRun.objects.current()
    warnings = []
    if latest is not None and latest.status == ScoringRun.Status.FAILED:
        warnings.append(_("the last scoring run failed; the scores are from an earlier run"))
    if current is None:
        warnings.append(_("nothing is scored yet"))
    elif current.finished_at and now - current.finished_at > STALE_AFTER:
        days = (now - current.finished_at).days
        warnings.append(_("the scores are %(days)s days old") % {"days": max(days, 1)})
    return warnings


def build(now: datetime | None = None) -> Digest:
    now = now or timezone.now()
    account = AccountSettings.cached()
    digest = Digest(day=f"{timezone.localtime(now, account.zone):%Y-%m-%d}", site=settings.SITE_URL)
    ids = today_queue.todays_ids()[:TOP_ITEMS]
    items = FollowUp.objects.filter(pk__in=ids).select_related("customer")
    digest.items = sorted(items, key=lambda i: (i.priority, -i.value_at_stake, i.due))
    digest.detractors = list(
        SurveyResponse.objects.filter(_unhappy(), responded_at__gte=now - timedelta(days=1))
        .select_related("customer")
        .order_by("-responded_at")[:20]
    )
    if run := ScoringRun.objects.current():
        digest.moved = _moved(run, account.digest_threshold)
    digest.warnings = _warnings(now)
    return digest


def render(digest: Digest) -> tuple[str, str]:
    """(plain text, HTML)."""
    context = {"digest": digest, "queue_url": digest.site + reverse("followups")}
    return (
        render_to_string("dashboard/email/digest.txt", context),
        render_to_string("dashboard/email/digest.html", context),
    )


def _post(url: str, text: str) -> None:
    request = urllib.request.Request(
        url,
        data=json.dumps({"text": text}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (owner's URL)
        answer.read()


def _deliver(account: AccountSettings, subject: str, text: str, html: str) -> None:
    if account.digest_to:
        email = EmailMultiAlternatives(
            subject, text, from_email=account.from_address, to=[account.digest_to]
        )
        email.attach_alternative(html, "text/html")
        email.send()
    if account.digest_webhook:
        try:
            _post(account.digest_webhook, f"*{subject}*\n{text}")
        except OSError as exc:  # the URL itself is a secret: never logged
            log.warning("the digest webhook did not answer (%s)", type(exc).__name__)


def send(now: datetime | None = None, force: bool = False) -> Digest | None:
    """Today's digest, once: the day is claimed on the settings row in one UPDATE before
    anything goes out, so a rerun or a second worker sends nothing. None: already sent
    today, or nowhere to send it."""
    now = now or timezone.now()
    account = AccountSettings.load()
    if not (account.digest_to or account.digest_webhook):
        return None
    today = timezone.localtime(now, account.zone).date()
    claimed = (
        AccountSettings.objects.filter(pk=account.pk)
        .exclude(digest_sent_on=today)
        .update(digest_sent_on=today)
    )
    if not claimed and not force:
        return None
    cache.delete(CACHE_KEY)  # the cached row still holds the day before
    try:
        with translation.override(account.owner_language):
            digest = build(now)
            text, html = render(digest)
            _deliver(account, digest.subject, text, html)
    except Exception:  # not sent: give the day back, so the next try sends it
        AccountSettings.objects.filter(pk=account.pk).update(digest_sent_on=account.digest_sent_on)
        raise
    return digest


def send_safely(now: datetime | None = None) -> None:
    """After a nightly run: a failure here never fails the run."""
    try:
        send(now)
    except Exception:
        log.exception("the morning digest could not be sent")


def detractor_alert(response: SurveyResponse) -> bool:
    """E-mail the owner at once about an unhappy answer (if switched on); sent once
    per answer (claimed on the answer row)."""
    account = AccountSettings.cached()
    if not account.detractor_alert or not (account.digest_to or account.digest_webhook):
        return False
    if not SurveyResponse.objects.filter(_unhappy(), pk=response.pk).exists():
        return False
    claimed = SurveyResponse.objects.filter(pk=response.pk, alerted_at__isnull=True).update(
        alerted_at=timezone.now()
    )
    if not claimed:
        return False
    response = SurveyResponse.objects.select_related("customer").get(pk=response.pk)
    context = {
        "response": response,
        "customer_url": settings.SITE_URL + reverse("customer", args=[response.customer_id]),
    }
    with translation.override(account.owner_language):
        subject = _("Unhappy answer from %(customer)s: %(kind)s %(score)s") % {
            "customer": response.customer,
            "kind": response.kind.upper(),
            "score": response.score,
        }
        text = render_to_string("dashboard/email/alert.txt", context)
        html = render_to_string("dashboard/email/alert.html", context)
        try:
            _deliver(account, subject, text, html)
        except Exception:  # not sent: a retry may send it
            SurveyResponse.objects.filter(pk=response.pk).update(alerted_at=None)
            raise
    return True
