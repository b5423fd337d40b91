"""Recording answers and closing the loop: the only writers of SurveyResponse."""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.models import FollowUp, FollowUpRule

from .models import GRACE_PERIOD, SurveyInvitation, SurveyResponse, Unsubscribe
from .sentiment import sentiment


class AlreadyAnswered(Exception):
    """The answer was recorded more than the grace period ago and is final."""


def record_response(invitation: SurveyInvitation, score: int, comment: str, language: str):
    """Store the answer exactly once. A repeat submit within the grace period updates
    the comment; two simultaneous submits store one answer (the invitation row is
    locked on Postgres; SQLite serialises writers; the one-to-one key is the backstop).
    Returns (response, created)."""
    now = timezone.now()
    with transaction.atomic():
        locked = SurveyInvitation.objects.select_for_update().get(pk=invitation.pk)
        response = SurveyResponse.objects.filter(invitation=locked).first()
        created = False
        if response is None:
            try:
                with transaction.atomic():
                    response = SurveyResponse.objects.create(
                        invitation=locked,
                        customer_id=locked.customer_id,
                        kind=locked.survey.kind,
                        score=score,
                        comment=comment,
                        language=language,
                        responded_at=now,
                        sentiment=sentiment(comment),
                    )
                created = True
            except IntegrityError:
                response = SurveyResponse.objects.get(invitation=locked)
        if not created:
            if now - response.responded_at > GRACE_PERIOD:
                raise AlreadyAnswered
            if comment and comment != response.comment:
                response.comment, response.sentiment = comment, sentiment(comment)
                response.save(update_fields=["comment", "sentiment", "updated_at"])
        SurveyInvitation.objects.filter(pk=locked.pk).update(
            responded_at=response.responded_at, opened_at=locked.opened_at or now
        )
        if created or comment:
            from .tasks import close_the_loop_task

            transaction.on_commit(lambda: close_the_loop_task.delay(response.pk))
    return response, created


UNHAPPY = {"nps": lambda s: s <= 6, "csat": lambda s: s <= 2, "ces": lambda s: s >= 5}


def close_the_loop(response_id: int) -> FollowUp | None:
    """An unhappy answer puts the customer at the top of the queue at once, quoting
    them; an NPS promoter gets a gentle "ask for a review" item."""
    response = SurveyResponse.objects.select_related("customer").get(pk=response_id)
    if UNHAPPY[response.kind](response.score):
        rule, priority, due_days = FollowUpRule.DETRACTOR, 1, 2
        action = "Reply personally within two days and ask what went wrong."
    elif response.kind == "nps" and response.score >= 9:
        rule, priority, due_days = FollowUpRule.PROMOTER, 3, 3
        action = "Thank them and ask for a review or a referral."
    else:
        return None
    reason = f"Answered {response.kind.upper()} {response.score}"
    reason += f': "{response.comment[:200]}"' if response.comment else "."
    fields = {
        "reason": reason,
        "suggested_action": action,
        "priority": priority,
        "value_at_stake": _clv(response.customer_id),
    }
    for _attempt in range(2):  # two answers at once may race to create the item
        item = FollowUp.objects.not_done().filter(customer=response.customer, rule=rule).first()
        if item is not None:
            FollowUp.objects.filter(pk=item.pk).update(**fields, updated_at=timezone.now())
            return item
        try:
            with transaction.atomic():
                return FollowUp.objects.create(
                    customer=response.customer,
                    rule=rule,
                    due=timezone.localdate() + timedelta(days=due_days),
                    **fields,
                )
        except IntegrityError:
            continue
    return None


def _clv(customer_id: int):
    from metrics.models import CustomerScore

    score = (
        CustomerScore.objects.filter(customer_id=customer_id, run__is_current=True)
        .values_list("clv", flat=True)
        .first()
    )
    return round(score or 0, 2)


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
