"""Who gets a survey, and the e-mail they get."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Case, Q, Value, When
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from customers.models import Customer

from .models import Survey, SurveyInvitation, SurveySend, Unsubscribe


@dataclass(frozen=True)
class Sender:
    """Who the e-mails are from (the owner's Settings; the caller reads them)."""

    business: str = ""
    from_address: str | None = None  # None: DEFAULT_FROM_EMAIL
    reply_to: str = ""


SKIP_REASONS = ("no_email", "unsubscribed", "opted_out", "churned", "recently_surveyed")
BATCH = 200


def eligibility(survey: Survey, customers, churned: Q | None = None) -> tuple[list[int], Counter]:
    """Split a Customer queryset into the ids to survey and the skip counts per reason
    (first reason that applies: no e-mail, unsubscribed, opted out, churned when
    `churned` says who is, surveyed within the survey's recontact window)."""
    since = timezone.now() - timedelta(days=survey.recontact_days)
    unsubscribed = set(Unsubscribe.objects.values_list("email", flat=True))
    recent = set(
        SurveyInvitation.objects.filter(sent_at__gte=since).values_list("customer_id", flat=True)
    )
    eligible, skipped = [], Counter()
    rows = customers.annotate(
        email_lower=Lower("email"),
        is_churned=Case(When(churned, then=Value(True)), default=Value(False))
        if churned is not None
        else Value(False),
    ).values_list("id", "email_lower", "survey_opt_out", "is_churned")
    for customer_id, email, opted_out, is_churned in rows.iterator(chunk_size=5000):
        if not email:
            skipped["no_email"] += 1
        elif email in unsubscribed:
            skipped["unsubscribed"] += 1
        elif opted_out:
            skipped["opted_out"] += 1
        elif is_churned:
            skipped["churned"] += 1
        elif customer_id in recent:
            skipped["recently_surveyed"] += 1
        else:
            eligible.append(customer_id)
    return eligible, skipped


def survey_email(
    invitation: SurveyInvitation, token: str, sender: Sender, reminder: bool = False
) -> EmailMultiAlternatives:
    """Plain text + HTML in the customer's language, one link per score (opening the page
    with that score chosen; nothing is recorded until the customer taps Send), an
    unsubscribe link and the RFC 8058 one-click headers. A reminder is the same e-mail
    with the same links, saying that it is one."""
    customer, survey = invitation.customer, invitation.survey
    language = survey.language_for(customer.locale or settings.LANGUAGE_CODE)
    base = f"{settings.SITE_URL}/s/{token}/"
    low, high = survey.scale
    with translation.override(language):
        context = {
            "customer": customer,
            "survey": survey,
            "question": survey.question(language),
            "scores": [(n, f"{base}?score={n}") for n in range(low, high + 1)],
            "survey_url": base,
            "unsubscribe_url": f"{base}unsubscribe/",
            "language": language,
            "reminder": reminder,
            "business": sender.business,
        }
        if sender.business:
            subject = (
                _("Reminder from %(business)s: %(question)s")
                if reminder
                else _("A quick question from %(business)s: %(question)s")
            )
        else:
            subject = (
                _("Reminder: %(question)s") if reminder else _("A quick question: %(question)s")
            )
        message = EmailMultiAlternatives(
            subject=subject % {"question": context["question"], "business": sender.business},
            body=render_to_string("feedback/email/invitation.txt", context),
            from_email=sender.from_address,
            reply_to=[sender.reply_to] if sender.reply_to else None,
            to=[customer.email],
            headers={
                "List-Unsubscribe": f"<{base}unsubscribe/>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
        message.attach_alternative(
            render_to_string("feedback/email/invitation.html", context), "text/html"
        )
    return message


def send_to(send: SurveySend, customer_ids: list[int], sender: Sender) -> int:
    """Invite and e-mail these customers in batches; returns how many were sent."""
    sent = 0
    already = set(send.invitations.values_list("customer_id", flat=True))
    todo = [c for c in customer_ids if c not in already]
    connection = get_connection()
    for start in range(0, len(todo), BATCH):
        batch = Customer.objects.filter(id__in=todo[start : start + BATCH])
        messages, invitations = [], []
        for customer in batch:
            invitation, token = SurveyInvitation.create_for(send.survey, customer, send=send)
            messages.append(survey_email(invitation, token, sender))
            invitations.append(invitation.pk)
        connection.send_messages(messages)
        SurveyInvitation.objects.filter(pk__in=invitations).update(sent_at=timezone.now())
        sent += len(messages)
        SurveySend.objects.filter(pk=send.pk).update(sent=len(already) + sent)
    return sent


def due_for_reminder(survey: Survey, now):
    """Invitations of `survey` e-mailed at least its reminder_days ago, not answered, not
    reminded yet, with a day of link life left, to customers who can still be e-mailed."""
    return (
        survey.invitations.filter(
            channel=SurveyInvitation.Channel.EMAIL,
            sent_at__lte=now - timedelta(days=survey.reminder_days),
            responded_at__isnull=True,
            reminded_at__isnull=True,
            expires_at__gt=now + timedelta(days=1),
            customer__survey_opt_out=False,
        )
        .exclude(token_seed="")
        .exclude(customer__email="")
        .annotate(email_lower=Lower("customer__email"))
        .exclude(email_lower__in=Unsubscribe.objects.values("email"))
    )


def send_reminders(sender: Sender, now=None) -> int:
    """One reminder per invitation, for every survey with reminder_days set; returns how
    many were sent. Each batch is marked reminded before its e-mails go out, so a second
    worker or a rerun never sends twice (a failed SMTP batch is not retried)."""
    now = now or timezone.now()
    connection = get_connection()
    sent = 0
    for survey in Survey.objects.filter(reminder_days__gt=0):
        ids = list(due_for_reminder(survey, now).values_list("pk", flat=True))
        for start in range(0, len(ids), BATCH):
            with transaction.atomic():
                batch = list(
                    SurveyInvitation.objects.select_for_update(of=("self",))
                    .select_related("customer", "survey")
                    .filter(
                        pk__in=ids[start : start + BATCH],
                        reminded_at__isnull=True,
                        responded_at__isnull=True,  # an answer may have come in since
                    )
                )
                tokens = {invitation.pk: invitation.recover_token() for invitation in batch}
                batch = [invitation for invitation in batch if tokens[invitation.pk]]
                SurveyInvitation.objects.filter(pk__in=[i.pk for i in batch]).update(
                    reminded_at=now
                )
            connection.send_messages(
                [survey_email(i, tokens[i.pk], sender, reminder=True) for i in batch]
            )
            sent += len(batch)
    return sent


UNSUBSCRIBE_SALT = "feedback.unsubscribe-customer"


def unsubscribe_token(customer_id: int) -> str:
    """The token of an automated e-mail's unsubscribe link (signed with the secret key)."""
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign(str(customer_id))


def customer_of_unsubscribe_token(token: str) -> int | None:
    try:
        return int(signing.Signer(salt=UNSUBSCRIBE_SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        return None
