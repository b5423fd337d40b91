"""The instant path of a survey answer: an unhappy answer (or an NPS promoter) opens
or updates its follow-up item at once, through the same rule definitions and the
owner's same rule settings as the nightly refresh (docs/architecture.md#an-answer).

It is the public survey page's hot path, so the upsert is one prepared SQL statement.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from django.db import DatabaseError, connection
from django.utils import timezone

from cs_platform.prepared import Prepared
from customers.models import FollowUp, FollowUpRule, FollowUpStatus
from feedback import scales
from feedback.models import SurveyResponse
from metrics.models import AccountSettings

from . import rules

log = logging.getLogger(__name__)

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


def rule_for(kind: str, score: float) -> str | None:
    """The rule an answer falls under, if any."""
    if scales.is_unhappy(kind, score):
        return FollowUpRule.DETRACTOR
    if scales.is_promoter(kind, score):
        return FollowUpRule.PROMOTER
    return None


def follow_up(response: SurveyResponse) -> None:
    """Open (or bring up to date) the answer's item, if its rule is switched on. Safe
    to run twice: the item is never doubled. A changed answer (`previous_score`) first
    withdraws the item its earlier score opened, if the new score falls under another
    rule."""
    name = rule_for(response.kind, response.score)
    previous = getattr(response, "previous_score", None)
    if previous is not None and (earlier := rule_for(response.kind, previous)) not in (None, name):
        FollowUp.objects.filter(
            customer_id=response.customer_id,
            rule=earlier,
            status=FollowUpStatus.OPEN,
            created_at__gte=response.responded_at,
        ).delete()
    if name is None:
        return
    definition = rules.REGISTRY[name]
    params = definition.params(AccountSettings.cached().followup_rules.get(name))
    if not params["enabled"]:
        return
    reason = rules.answered(response.kind, response.score, response.comment)
    due = timezone.localdate() + timedelta(days=params.get("due_days", definition.due_days))
    ops = connection.ops
    values = {
        "customer": response.customer_id,
        "rule": name,
        "reason": reason["t"] % reason,
        "reason_args": json.dumps(reason),
        "action": definition.action,
        "priority": definition.priority,
        "due": ops.adapt_datefield_value(due),
        "now": ops.adapt_datetimefield_value(timezone.now()),
    }
    with connection.cursor() as cursor:
        UPSERT_FOLLOW_UP.execute(cursor, values)


def follow_up_safely(response: SurveyResponse) -> None:
    """For after the answer's commit: a failure here never costs the answer, and the
    nightly detractor/promoter rules then queue what is missing."""
    try:
        follow_up(response)
    except DatabaseError:
        log.exception("could not open the follow-up for survey response %s", response.pk)
