"""The owner's part in a playbook: approving (or dropping) a drafted e-mail, and the
customer's answer to the win-back exit question."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from customers.models import (
    Customer,
    EnrolmentState,
    FollowUp,
    Interaction,
    StepRun,
    StepStatus,
)

APPROVED = gettext_noop("approved by you")
NOT_SENT = gettext_noop("closed by you without sending")


def pending_draft(item: FollowUp) -> StepRun | None:
    """The playbook e-mail this follow-up asks the owner to approve, if any."""
    return (
        StepRun.objects.filter(followup=item, status=StepStatus.DRAFT)
        .select_related("enrolment__playbook")
        .first()
    )


@transaction.atomic
def resolve_draft(draft: StepRun, sent: Interaction | None) -> None:
    """The owner sent the draft (`sent`) or closed its follow-up without sending: the
    step is recorded as sent or skipped and the enrolment goes on with the next step."""
    draft.status = StepStatus.SENT if sent else StepStatus.SKIPPED
    draft.message_id = sent.message_id if sent else ""
    draft.detail = APPROVED if sent else NOT_SENT
    draft.at = timezone.now()
    draft.save(update_fields=["status", "message_id", "detail", "at"])
    enrolment = draft.enrolment
    following = enrolment.step + 1
    finished = following >= len(enrolment.playbook.steps)
    type(enrolment).objects.filter(pk=enrolment.pk, state=EnrolmentState.REVIEW).update(
        step=following,
        next_at=timezone.now(),
        state=EnrolmentState.FINISHED if finished else EnrolmentState.ACTIVE,
        ended_at=timezone.now() if finished else None,
    )


def record_exit_answer(customer: Customer, reason: str, comment: str) -> None:
    """Why they left: the latest answer stands (a second submit replaces the first)."""
    Customer.objects.filter(pk=customer.pk).update(
        churn_reason=reason, churn_comment=comment[:2000], updated_at=timezone.now()
    )
