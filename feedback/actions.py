"""Recording answers: the only writers of SurveyResponse."""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection, transaction
from django.utils import timezone

from cs_platform.prepared import Prepared

from .models import GRACE_PERIOD, SurveyInvitation, SurveyResponse, Unsubscribe
from .sentiment import sentiment


class AlreadyAnswered(Exception):
    """The answer was recorded more than the grace period ago and is final."""


# What a submit did: a new answer, an answer changed within the grace period, or nothing
# (the same score and comment again: a double submit).
NEW, CHANGED, SAME = "new", "changed", "same"


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


AfterAnswer = Callable[[SurveyResponse], object]


def record_response(
    invitation: SurveyInvitation,
    score: int,
    comment: str,
    language: str,
    after_commit: AfterAnswer | None = None,
):
    """Store the answer exactly once. The one-to-one key on the invitation settles
    repeats and races: a later or simultaneous submit inserts nothing; within the grace
    period it replaces the score and the comment. Returns (response, NEW | CHANGED | SAME).

    `after_commit(response)` runs once a new or changed answer is committed (a changed
    one carries `previous_score`):
    the public page passes the follow-up queue's instant path there (the queue sits
    above the answers and this module never imports it).

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
        return _change_answer(invitation, score, comment, now, after_commit)
    response.pk, response._state.adding = inserted[0], False
    if after_commit is not None:
        transaction.on_commit(lambda: after_commit(response))
    return response, NEW


def _change_answer(
    invitation: SurveyInvitation, score: int, comment: str, now, after_commit: AfterAnswer | None
) -> tuple[SurveyResponse, str]:
    """A repeat submit: within the grace period it replaces the score and the comment."""
    with transaction.atomic():
        response = SurveyResponse.objects.select_for_update().get(invitation=invitation)
        if now - response.responded_at > GRACE_PERIOD:
            raise AlreadyAnswered
        if (score, comment) == (response.score, response.comment):
            return response, SAME
        response.previous_score = response.score
        response.score, response.comment, response.sentiment = score, comment, sentiment(comment)
        response.save(update_fields=["score", "comment", "sentiment", "updated_at"])
        if after_commit is not None:
            transaction.on_commit(lambda: after_commit(response))
    return response, CHANGED


def unsubscribe(invitation: SurveyInvitation) -> None:
    unsubscribe_customer(invitation.customer)


def unsubscribe_customer(customer) -> None:
    """No more surveys and no more automated e-mails to this address, ever."""
    if customer.email:
        Unsubscribe.objects.get_or_create(
            email=customer.email.lower(), defaults={"customer": customer}
        )
    type(customer).objects.filter(pk=customer.pk).update(survey_opt_out=True)
