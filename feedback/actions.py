"""Recording answers and closing the loop: the only writers of SurveyResponse."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from customers import followup_rules
from customers.models import FollowUp, FollowUpRule

from .models import GRACE_PERIOD, SurveyInvitation, SurveyResponse, Unsubscribe
from .sentiment import sentiment

log = logging.getLogger(__name__)


class AlreadyAnswered(Exception):
    """The answer was recorded more than the grace period ago and is final."""


def record_response(invitation: SurveyInvitation, score: int, comment: str, language: str):
    """Store the answer exactly once, and close the loop in the same transaction. The
    first submit is one INSERT and one UPDATE; the one-to-one key on the invitation
    makes any later or simultaneous submit fail that INSERT, and it then only updates
    the comment, within the grace period. Returns (response, created)."""
    now = timezone.now()
    try:
        with transaction.atomic():
            response = SurveyResponse.objects.create(
                invitation=invitation,
                customer_id=invitation.customer_id,
                kind=invitation.survey.kind,
                score=score,
                comment=comment,
                language=language,
                responded_at=now,
                sentiment=sentiment(comment),
            )
            SurveyInvitation.objects.filter(pk=invitation.pk).update(
                responded_at=now, opened_at=Coalesce("opened_at", now)
            )
            _close_the_loop_safely(response)
    except IntegrityError:
        return _update_comment(invitation, comment, now), False
    return response, True


def _update_comment(invitation: SurveyInvitation, comment: str, now) -> SurveyResponse:
    """A repeat submit: the comment may still change within the grace period."""
    with transaction.atomic():
        response = SurveyResponse.objects.select_for_update().get(invitation=invitation)
        if now - response.responded_at > GRACE_PERIOD:
            raise AlreadyAnswered
        if comment and comment != response.comment:
            response.comment, response.sentiment = comment, sentiment(comment)
            response.save(update_fields=["comment", "sentiment", "updated_at"])
            _close_the_loop_safely(response)
    return response


def _close_the_loop_safely(response: SurveyResponse) -> None:
    """In a savepoint: should the follow-up fail, the answer is still stored, and the
    nightly run's detractor/promoter rules queue it then."""
    try:
        with transaction.atomic():
            close_the_loop(response)
    except DatabaseError:
        log.exception("could not close the loop for survey response %s", response.pk)


UNHAPPY = {"nps": lambda s: s <= 6, "csat": lambda s: s <= 2, "ces": lambda s: s >= 5}


def close_the_loop(response: SurveyResponse) -> bool:
    """An unhappy answer puts the customer at the top of the queue at once, quoting
    them; an NPS promoter gets a gentle "ask for a review" item. Returns whether an
    item was created or updated. Safe to run twice: the item is never doubled."""
    if UNHAPPY[response.kind](response.score):
        rule, priority, due_days = FollowUpRule.DETRACTOR, 1, 2
        action = followup_rules.DETRACTOR_ACTION
    elif response.kind == "nps" and response.score >= 9:
        rule, priority, due_days = FollowUpRule.PROMOTER, 3, 3
        action = followup_rules.PROMOTER_ACTION
    else:
        return False
    reason = followup_rules.answered(response.kind, response.score, response.comment[:200])
    fields = {
        "reason": reason["t"] % reason,
        "reason_args": reason,
        "suggested_action": action,
        "priority": priority,
        "value_at_stake": _current_clv(response.customer_id),
    }
    open_items = FollowUp.objects.not_done().filter(customer_id=response.customer_id, rule=rule)
    for _attempt in range(2):  # a new item, or else the open one (at most one per rule)
        try:
            with transaction.atomic():
                FollowUp.objects.create(
                    customer_id=response.customer_id,
                    rule=rule,
                    due=timezone.localdate() + timedelta(days=due_days),
                    **fields,
                )
            return True
        except IntegrityError:
            if open_items.update(**fields, updated_at=timezone.now()):
                return True
    return False


def _current_clv(customer_id: int) -> Decimal:
    """The customer's CLV from the current run (0 before the first run)."""
    from metrics.models import CustomerScore

    clv = CustomerScore.objects.filter(customer_id=customer_id, run__is_current=True)
    found = list(clv.values_list("clv", flat=True)[:1])
    return Decimal(found[0] or 0).quantize(Decimal("0.01")) if found else Decimal(0)


def unsubscribe(invitation: SurveyInvitation) -> None:
    customer = invitation.customer
    if customer.email:
        Unsubscribe.objects.get_or_create(
            email=customer.email.lower(), defaults={"customer": customer}
        )
    type(customer).objects.filter(pk=customer.pk).update(survey_opt_out=True)


def start_send(survey, customers, audience: str):
    """Work out who is eligible, record the skip counts, and queue the e-mails."""
    from .models import SurveySend
    from .sending import eligibility
    from .tasks import send_survey

    eligible, skipped = eligibility(survey, customers)
    send = SurveySend.objects.create(survey=survey, audience=audience, skipped=dict(skipped))
    transaction.on_commit(lambda: send_survey.delay(send.pk, eligible))
    return send, len(eligible), skipped
