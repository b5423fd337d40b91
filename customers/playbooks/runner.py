"""Playbooks run by themselves, each step exactly once (docs/architecture.md#playbooks).

A runner (the beat task or `manage.py run_playbooks`) enrols whom the triggers find,
then claims due enrolments in one UPDATE (`claimed_by`, `claimed_at`) before it acts:
a second runner's UPDATE finds them claimed and skips them. A step's outcome (the
history row, unique per enrolment and step) and the move to the next step are written
in one transaction after the e-mail is accepted. A runner that dies between claim and
send leaves a claim that goes stale after PLAYBOOK_LEASE_SECONDS; the next runner
takes the step over and sends it then, with the same Message-ID."""

from __future__ import annotations

import contextlib
import logging
import smtplib
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.mail import get_connection
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_noop

from customers.followups import actions as followup_actions
from customers.followups import email as outreach
from customers.listing import churned_customers
from customers.models import (
    Customer,
    Direction,
    Enrolment,
    EnrolmentState,
    FollowUp,
    FollowUpRule,
    Interaction,
    InteractionKind,
    Playbook,
    PlaybookExit,
    StepAction,
    StepRun,
    StepStatus,
    Urgency,
)
from feedback import sending as survey_sending
from feedback.models import Survey, SurveyInvitation, Unsubscribe
from metrics.models import AccountSettings, CustomerScore

from . import links, triggers

log = logging.getLogger(__name__)

BATCH = 200
RETRY_AFTER = timedelta(minutes=15)  # an SMTP failure: try the step again this much later
DRAFT_REASON = gettext_noop('Playbook "%(playbook)s": approve the e-mail "%(subject)s"')
EMAILS = (StepAction.EMAIL, StepAction.SURVEY)
# Why a step was skipped (stored in English, shown translated).
NO_ADDRESS = gettext_noop("no e-mail address")
NO_SURVEY = gettext_noop("no survey of this kind yet")
OPTED_OUT = gettext_noop("opted out of surveys")
RECENTLY_SURVEYED = gettext_noop("surveyed recently")
UNKNOWN_STEP = gettext_noop("unknown step")


def lease() -> timedelta:
    return timedelta(seconds=settings.PLAYBOOK_LEASE_SECONDS)


# --- Enrolling -------------------------------------------------------------------------


def enrol(playbook: Playbook, now: datetime) -> int:
    """Enrol whom the trigger finds now; the partial unique index keeps a customer
    from being in one playbook twice even when two runners enrol at once."""
    ids = list(triggers.entering(playbook, now).values_list("pk", flat=True))
    Enrolment.objects.bulk_create(
        [Enrolment(playbook=playbook, customer_id=pk, next_at=now, entered_at=now) for pk in ids],
        batch_size=2000,
        ignore_conflicts=True,
    )
    return len(ids)


# --- Claiming --------------------------------------------------------------------------


def _due(now: datetime) -> Q:
    stale = timezone.now() - lease()
    return Q(state=EnrolmentState.ACTIVE, next_at__lte=now) & (
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale)
    )


def claim(now: datetime, size: int = BATCH) -> list[Enrolment]:
    """Up to `size` due enrolments, claimed for this runner alone."""
    while True:
        ids = list(
            Enrolment.objects.filter(_due(now))
            .order_by("next_at", "id")
            .values_list("pk", flat=True)[:size]
        )
        if not ids:
            return []
        token = uuid.uuid4().hex
        taken = Enrolment.objects.filter(_due(now), pk__in=ids).update(
            claimed_at=timezone.now(), claimed_by=token
        )
        if taken:
            return list(
                Enrolment.objects.filter(claimed_by=token).select_related("playbook", "customer")
            )
        # Another runner took these between our SELECT and UPDATE: look again.


def _release(enrolment: Enrolment, **changes) -> None:
    Enrolment.objects.filter(pk=enrolment.pk, claimed_by=enrolment.claimed_by).update(
        claimed_at=None, claimed_by="", **changes
    )


# --- What a batch needs to know ----------------------------------------------------------


@dataclass
class Batch:
    """Facts about a batch's customers, read once: who replied when, who is green,
    unsubscribed or churned, and their automated e-mails of the last week."""

    replied: dict[int, datetime]
    green: set[int]
    unsubscribed: set[int]
    churned: set[int]
    last_surveyed: dict[int, datetime]
    recent_sends: dict[int, list[datetime]] = field(default_factory=dict)


def _facts(enrolments: list[Enrolment], now: datetime) -> Batch:
    ids = [e.customer_id for e in enrolments]
    replied = dict(
        Interaction.objects.filter(
            customer_id__in=ids, kind=InteractionKind.EMAIL, direction=Direction.INBOUND
        )
        .values("customer_id")
        .annotate(last=Max("occurred_at"))
        .values_list("customer_id", "last")
    )
    green = set(
        CustomerScore.objects.filter(
            run__is_current=True, customer_id__in=ids, health_band="green"
        ).values_list("customer_id", flat=True)
    )
    unsubscribed = set(
        Customer.objects.filter(pk__in=ids)
        .annotate(address=Lower("email"))
        .filter(address__in=Unsubscribe.objects.values("email"))
        .values_list("pk", flat=True)
    )
    churned = set(
        Customer.objects.filter(pk__in=ids).filter(churned_customers()).values_list("pk", flat=True)
    )
    week = now - timedelta(days=7)
    sends = defaultdict(list)
    # Through the customers' enrolments, so the (enrolment, step) index finds the rows
    # (not a scan of every step sent this week).
    theirs = Enrolment.objects.filter(customer_id__in=ids).values("pk")
    for customer_id, at in StepRun.objects.filter(
        enrolment_id__in=theirs, status=StepStatus.SENT, action__in=EMAILS, at__gt=week
    ).values_list("enrolment__customer_id", "at"):
        sends[customer_id].append(at)
    for customer_id, at in SurveyInvitation.objects.filter(
        customer_id__in=ids, sent_at__gt=week
    ).values_list("customer_id", "sent_at"):
        sends[customer_id].append(at)
    last_surveyed = dict(
        SurveyInvitation.objects.filter(customer_id__in=ids, sent_at__isnull=False)
        .values("customer_id")
        .annotate(last=Max("sent_at"))
        .values_list("customer_id", "last")
    )
    return Batch(replied, green, unsubscribed, churned, last_surveyed, dict(sends))


def exit_reason(enrolment: Enrolment, facts: Batch) -> str:
    customer_id, wanted = enrolment.customer_id, enrolment.playbook.exits
    checks = {
        PlaybookExit.UNSUBSCRIBED: customer_id in facts.unsubscribed,
        PlaybookExit.CHURNED: customer_id in facts.churned,
        PlaybookExit.REPLIED: facts.replied.get(customer_id, enrolment.entered_at)
        > enrolment.entered_at,
        PlaybookExit.HEALTHY: customer_id in facts.green,
    }
    return next((reason for reason, hit in checks.items() if hit and reason in wanted), "")


# --- When an automated e-mail may go -------------------------------------------------------


def quiet_until(now: datetime, zone: ZoneInfo, start: int, end: int) -> datetime | None:
    """The end of the quiet hours if `now` falls inside them in `zone`, else None."""
    if start == end:
        return None
    local = now.astimezone(zone)
    hour = local.hour
    quiet = (hour >= start or hour < end) if start > end else (start <= hour < end)
    if not quiet:
        return None
    day = local.date() if hour < end else local.date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, end, tzinfo=zone)


def _zone(customer: Customer, account: AccountSettings) -> ZoneInfo:
    try:
        return ZoneInfo(customer.time_zone) if customer.time_zone else account.zone
    except (ZoneInfoNotFoundError, ValueError):
        return account.zone


def not_before(customer: Customer, now: datetime, facts: Batch, account) -> datetime | None:
    """When an automated e-mail to this customer may go, if not now: after the quiet
    hours in their time zone, or once the weekly cap has room again."""
    sent = sorted(facts.recent_sends.get(customer.pk, []))
    cap = max(account.weekly_email_cap, 1)
    if len(sent) >= cap:
        return sent[len(sent) - cap] + timedelta(days=7)
    return quiet_until(now, _zone(customer, account), account.quiet_start, account.quiet_end)


# --- Doing a step ----------------------------------------------------------------------------


@dataclass
class Runner:
    now: datetime
    account: AccountSettings
    connection: object
    counts: Counter = field(default_factory=Counter)
    surveys: dict = field(default_factory=dict)
    templates: dict = field(default_factory=dict)

    def template(self, key: str, language: str) -> tuple[str, str]:
        """(subject, body) of a template, read once per run."""
        if (key, language) not in self.templates:
            self.templates[key, language] = outreach.template_for(key, language)
        return self.templates[key, language]

    def sender(self) -> outreach.Sender:
        return outreach.Sender(self.account.from_address, self.account.reply_to)

    def send(self, email) -> None:
        """Over the run's one connection: opened on the first e-mail, kept open."""
        self.connection.open()
        self.connection.send_messages([email])

    def drop_connection(self) -> None:
        """After a failure: the next e-mail opens a fresh connection."""
        with contextlib.suppress(smtplib.SMTPException, OSError):
            self.connection.close()

    def owner(self) -> str:
        return self.account.sender_name or self.account.business_name

    def survey(self, kind: str) -> Survey | None:
        if kind not in self.surveys:
            self.surveys[kind] = Survey.objects.filter(kind=kind).order_by("-id").first()
        return self.surveys[kind]


def _advance(enrolment: Enrolment, runner: Runner, record: StepRun, wait_days: int = 0) -> None:
    """The step's history row and the move to the next step, in one transaction."""
    steps = enrolment.playbook.steps
    following = enrolment.step + 1
    finished = following >= len(steps)
    changes = {
        "step": following,
        "next_at": runner.now + timedelta(days=wait_days),
        "state": EnrolmentState.FINISHED if finished else EnrolmentState.ACTIVE,
        "ended_at": runner.now if finished else None,
    }
    record.at = runner.now
    with transaction.atomic():
        record.save()
        _release(enrolment, **changes)
    runner.counts[record.status] += 1


def _record(enrolment: Enrolment, action: str, status: str, detail: str = "", **more) -> StepRun:
    return StepRun(
        enrolment=enrolment,
        step=enrolment.step,
        action=action,
        status=status,
        detail=detail,
        **more,
    )


def _exit(enrolment: Enrolment, runner: Runner, reason: str) -> None:
    _release(enrolment, state=EnrolmentState.EXITED, ended_at=runner.now, exit_reason=reason)
    runner.counts["exited"] += 1


def message_id(enrolment: Enrolment, account: AccountSettings) -> str:
    """The same for every attempt at one step: a retried send is recognisably the same
    e-mail to the receiving server and to reply matching."""
    domain = outreach.domain_of(account.from_address)
    return f"<playbook-{enrolment.pk}-{enrolment.step}@{domain}>"


def _email(enrolment: Enrolment, runner: Runner, template: str, facts: Batch) -> None:
    customer, playbook = enrolment.customer, enrolment.playbook
    language = outreach.language_of(customer)
    subject, body = runner.template(template, language)
    fields = outreach.customer_fields(
        customer, runner.owner(), runner.account.business_name, why_link=links.why_url(customer)
    )
    subject, body = outreach.fill(subject, fields), outreach.fill(body, fields)
    if playbook.review:
        _draft(enrolment, runner, subject, body)
        return
    msgid = message_id(enrolment, runner.account)
    email = outreach.message(
        customer, subject, body, runner.sender(), msgid, links.unsubscribe_url(customer)
    )
    runner.send(email)
    facts.recent_sends.setdefault(customer.pk, []).append(runner.now)
    record = _record(
        enrolment, StepAction.EMAIL, StepStatus.SENT, template, message_id=msgid, subject=subject
    )
    with transaction.atomic():
        outreach.log_sent(customer, subject, body, msgid)
        _advance(enrolment, runner, record)


def _draft(enrolment: Enrolment, runner: Runner, subject: str, body: str) -> None:
    """Review before sending: the e-mail waits in the queue for the owner to approve."""
    args = {"t": DRAFT_REASON, "playbook": enrolment.playbook.name, "subject": subject}
    with transaction.atomic():
        item = FollowUp.objects.create(
            customer=enrolment.customer,
            rule=FollowUpRule.MANUAL,
            reason=DRAFT_REASON % args,
            reason_args=args,
            priority=Urgency.ROUTINE,
            due=timezone.localdate(runner.now),
        )
        _record(
            enrolment,
            StepAction.EMAIL,
            StepStatus.DRAFT,
            subject=subject,
            body=body,
            followup=item,
            at=runner.now,
        ).save()
        _release(enrolment, state=EnrolmentState.REVIEW)
    runner.counts["draft"] += 1


def _survey(enrolment: Enrolment, runner: Runner, kind: str, facts: Batch) -> None:
    customer = enrolment.customer
    survey = runner.survey(kind)
    if survey is None:
        _advance(enrolment, runner, _record(enrolment, "survey", "skipped", NO_SURVEY))
        return
    if customer.survey_opt_out:
        _advance(enrolment, runner, _record(enrolment, "survey", "skipped", OPTED_OUT))
        return
    last = facts.last_surveyed.get(customer.pk)
    if last is not None and last > runner.now - timedelta(days=survey.recontact_days):
        _advance(enrolment, runner, _record(enrolment, "survey", "skipped", RECENTLY_SURVEYED))
        return
    feedback_sender = survey_sending.Sender(
        runner.account.business_name, runner.account.from_address, runner.account.reply_to
    )
    with transaction.atomic():
        invitation, token = SurveyInvitation.create_for(survey, customer)
        runner.send(survey_sending.survey_email(invitation, token, feedback_sender))
        SurveyInvitation.objects.filter(pk=invitation.pk).update(sent_at=runner.now)
        facts.recent_sends.setdefault(customer.pk, []).append(runner.now)
        facts.last_surveyed[customer.pk] = runner.now
        _advance(enrolment, runner, _record(enrolment, "survey", "sent", survey.name))


def _step(enrolment: Enrolment, runner: Runner, facts: Batch) -> None:
    steps = enrolment.playbook.steps
    if enrolment.step >= len(steps):
        _release(enrolment, state=EnrolmentState.FINISHED, ended_at=runner.now)
        return
    if reason := exit_reason(enrolment, facts):
        _exit(enrolment, runner, reason)
        return
    step = steps[enrolment.step]
    action, value = step.get("action"), str(step.get("value", ""))
    customer = enrolment.customer
    if action == StepAction.WAIT:
        days = int(value) if value.isdigit() else 0
        _advance(enrolment, runner, _record(enrolment, action, "done", value), wait_days=days)
    elif action == StepAction.TAG:
        if value and value not in customer.tags:
            Customer.objects.filter(pk=customer.pk).update(tags=[*customer.tags, value])
        _advance(enrolment, runner, _record(enrolment, action, "done", value))
    elif action == StepAction.FOLLOWUP:
        item = followup_actions.add_followup(customer, value, timezone.localdate(runner.now))
        _advance(enrolment, runner, _record(enrolment, action, "done", value, followup=item))
    elif action in EMAILS:
        if not customer.email:
            _advance(enrolment, runner, _record(enrolment, action, "skipped", NO_ADDRESS))
            return
        if customer.pk in facts.unsubscribed:
            _exit(enrolment, runner, PlaybookExit.UNSUBSCRIBED)
            return
        later = not_before(customer, runner.now, facts, runner.account)
        if later is not None and not (action == StepAction.EMAIL and enrolment.playbook.review):
            _release(enrolment, next_at=later)
            runner.counts["deferred"] += 1
            return
        if action == StepAction.EMAIL:
            _email(enrolment, runner, value, facts)
        else:
            _survey(enrolment, runner, value, facts)
    else:
        _advance(enrolment, runner, _record(enrolment, "wait", "skipped", UNKNOWN_STEP))


def run(now: datetime | None = None) -> Counter:
    """Enrol, then do every step due by `now` (a day of steps in one call: a step that
    needs no waiting is followed by the next at once). Returns what happened."""
    fixed = now
    now = now or timezone.now()
    account = AccountSettings.load()
    runner = Runner(now, account, get_connection())
    for playbook in Playbook.objects.filter(enabled=True):
        try:
            runner.counts["enrolled"] += enrol(playbook, now)
        except Exception:  # one bad trigger never stops the others
            log.exception("playbook %s: enrolling failed", playbook.pk)
    try:
        _run_due(runner, fixed)
    finally:
        runner.connection.close()
    return runner.counts


def _run_due(runner: Runner, fixed: datetime | None) -> None:
    """Every due step, a batch at a time, over one SMTP connection (opened on the first
    e-mail, reopened after a failure). On the clock (no `fixed` time), each batch is
    claimed by the time of claiming: a runner enrolling at the same moment stamps its
    enrolments a little later, and they are due too."""
    now = runner.now
    while batch := claim(fixed or timezone.now()):
        facts = _facts(batch, now)
        for enrolment in batch:
            try:
                _step(enrolment, runner, facts)
            except (smtplib.SMTPException, OSError) as exc:
                log.warning("playbook e-mail not sent (%s); retrying later", type(exc).__name__)
                runner.drop_connection()
                _release(enrolment, next_at=now + RETRY_AFTER)
                runner.counts["failed"] += 1
            except IntegrityError:  # the step was recorded already: look again later
                log.warning("playbook enrolment %s: step recorded twice", enrolment.pk)
                _release(enrolment, next_at=now + RETRY_AFTER)
                runner.counts["already"] += 1
            except Exception:  # one bad enrolment never stops the run
                log.exception("playbook enrolment %s failed", enrolment.pk)
                _release(enrolment, next_at=now + RETRY_AFTER)
                runner.counts["failed"] += 1
