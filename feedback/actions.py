"""Recording answers and closing the loop: the only writers of SurveyResponse."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from cs_platform.prepared import Prepared
from customers import followup_rules
from customers.models import FollowUpRule, FollowUpStatus

from .models import GRACE_PERIOD, SurveyInvitation, SurveyResponse, Unsubscribe
from .sentiment import sentiment

log = logging.getLogger(__name__)


class AlreadyAnswered(Exception):
    """The answer was recorded more than the grace period ago and is final."""


# The answer's hot path, in SQL (see record_response): two statements on SQLite, one on Postgres.
INSERT_RESPONSE = """
    INSERT INTO feedback_surveyresponse (invitation_id, customer_id, kind, score, comment,
        language, sentiment, responded_at, updated_at)
    VALUES (%(invitation)s, %(customer)s, %(kind)s, %(score)s, %(comment)s, %(language)s,
        %(sentiment)s, %(now)s, %(now)s)
    ON CONFLICT (invitation_id) DO NOTHING RETURNING id"""
MARK_ANSWERED = """
    UPDATE feedback_surveyinvitation
    SET responded_at = %(now)s, opened_at = COALESCE(opened_at, %(now)s)
    WHERE id = %(invitation)s"""
# On Postgres both in one statement, atomic by itself: no BEGIN and COMMIT round trips.
ANSWER_ONCE = Prepared(
    "survey_answer_once",
    f"""WITH answer AS ({INSERT_RESPONSE}),
    marked AS ({MARK_ANSWERED} AND EXISTS (SELECT FROM answer))
    SELECT id FROM answer""",
)


def record_response(invitation: SurveyInvitation, score: int, comment: str, language: str):
    """Store the answer exactly once, then close the loop. The one-to-one key on the
    invitation settles repeats and races: a later or simultaneous submit inserts nothing
    and only updates the comment, within the grace period. Returns (response, created).

    This is the public page's hot path (a sending to a big list brings hundreds of
    answers a second), so its statements are written in SQL: building them with the ORM
    cost the web worker more than running them cost the database (python -m
    feedback.bench measures it)."""
    now = timezone.now()
    response = SurveyResponse(
        invitation=invitation,
        customer_id=invitation.customer_id,
        kind=invitation.survey.kind,
        score=score,
        comment=comment,
        language=language,
        sentiment=sentiment(comment),
        responded_at=now,
        updated_at=now,
    )
    params = {
        "invitation": invitation.pk,
        "customer": invitation.customer_id,
        "kind": response.kind,
        "score": score,
        "comment": comment,
        "language": language,
        "sentiment": response.sentiment,
        "now": connection.ops.adapt_datetimefield_value(now),
    }
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            ANSWER_ONCE.execute(cursor, params)
            inserted = cursor.fetchone()
        else:  # SQLite has no INSERT or UPDATE inside WITH
            with transaction.atomic():
                cursor.execute(INSERT_RESPONSE, params)
                inserted = cursor.fetchone()
                if inserted:
                    cursor.execute(MARK_ANSWERED, params)
    if inserted is None:
        return _update_comment(invitation, comment, now), False
    response.pk, response._state.adding = inserted[0], False
    transaction.on_commit(lambda: _close_the_loop_safely(response))
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
            transaction.on_commit(lambda: _close_the_loop_safely(response))
    return response


def _close_the_loop_safely(response: SurveyResponse) -> None:
    """Runs once the answer is committed, so a failure here can never cost the answer;
    the nightly run's detractor/promoter rules then queue what is missing."""
    try:
        close_the_loop(response)
    except DatabaseError:
        log.exception("could not close the loop for survey response %s", response.pk)


UNHAPPY = {"nps": lambda s: s <= 6, "csat": lambda s: s <= 2, "ces": lambda s: s >= 5}

# One open item per customer and rule (a partial unique index): a new one, or else that
# one brought up to date, in one statement. Its value at stake is the customer's CLV in
# the current run. The index's condition is repeated as literals so that both Postgres
# and SQLite can match the conflict to it.
CURRENT_CLV = """COALESCE((
    SELECT ROUND(CAST(s.clv AS NUMERIC), 2) FROM metrics_customerscore s
    JOIN metrics_scoringrun r ON r.id = s.run_id
    WHERE r.is_current AND s.customer_id = %(customer)s), 0)"""
UPSERT_FOLLOW_UP = Prepared(
    "follow_up_from_answer",
    f"""INSERT INTO customers_followup (customer_id, rule, reason, reason_args,
        suggested_action, priority, value_at_stake, due, status, outcome, created_at,
        updated_at)
    SELECT %(customer)s, %(rule)s, %(reason)s, %(reason_args)s, %(action)s, %(priority)s,
        {CURRENT_CLV}, %(due)s, '{FollowUpStatus.OPEN}', '', %(now)s, %(now)s
    WHERE TRUE  -- in INSERT ... SELECT, SQLite needs a WHERE before ON CONFLICT
    ON CONFLICT (customer_id, rule)
        WHERE NOT (status = '{FollowUpStatus.DONE}') AND NOT (rule = '{FollowUpRule.MANUAL}')
    DO UPDATE SET reason = excluded.reason, reason_args = excluded.reason_args,
        suggested_action = excluded.suggested_action, priority = excluded.priority,
        value_at_stake = excluded.value_at_stake, updated_at = excluded.updated_at""",
)


def close_the_loop(response: SurveyResponse) -> None:
    """An unhappy answer puts the customer at the top of the queue at once, quoting
    them; an NPS promoter gets a gentle "ask for a review" item. Safe to run twice: the
    item is never doubled."""
    if UNHAPPY[response.kind](response.score):
        rule, priority, due_days = FollowUpRule.DETRACTOR, 1, 2
        action = followup_rules.DETRACTOR_ACTION
    elif response.kind == "nps" and response.score >= 9:
        rule, priority, due_days = FollowUpRule.PROMOTER, 3, 3
        action = followup_rules.PROMOTER_ACTION
    else:
        return
    reason = followup_rules.answered(response.kind, response.score, response.comment[:200])
    ops = connection.ops
    params = {
        "customer": response.customer_id,
        "rule": rule,
        "reason": reason["t"] % reason,
        "reason_args": json.dumps(reason),
        "action": action,
        "priority": priority,
        "due": ops.adapt_datefield_value(timezone.localdate() + timedelta(days=due_days)),
        "now": ops.adapt_datetimefield_value(timezone.now()),
    }
    with connection.cursor() as cursor:
        UPSERT_FOLLOW_UP.execute(cursor, params)


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
