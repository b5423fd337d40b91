"""State changes to customers and their timeline (views and the API call these).
The follow-up queue's own actions are in customers.followups.actions."""

from __future__ import annotations

from django.utils import timezone

from .models import Customer, Direction, Interaction, InteractionKind


def log_interaction(customer: Customer, kind: str, subject: str, body: str = "") -> Interaction:
    direction = Direction.INTERNAL if kind == InteractionKind.NOTE else Direction.OUTBOUND
    return Interaction.objects.create(
        customer=customer, kind=kind, direction=direction, subject=subject[:300], body=body
    )


def tag_customers(customer_ids: list[int], tag: str) -> int:
    """Add `tag` to each customer that lacks it. Returns how many changed."""
    changed = []
    for customer in Customer.objects.filter(pk__in=customer_ids).only("id", "tags"):
        if tag not in customer.tags:
            customer.tags = [*customer.tags, tag]
            changed.append(customer)
    Customer.objects.bulk_update(changed, ["tags"], batch_size=1000)
    return len(changed)


def personal_data(customer: Customer) -> dict:
    """Everything stored about one customer (GDPR Art. 15/20 export)."""
    return {
        "customer": {f.name: getattr(customer, f.name) for f in Customer._meta.concrete_fields},
        "orders": list(
            customer.orders.values("external_id", "occurred_at", "amount", "currency", "kind")
        ),
        "interactions": list(
            customer.interactions.values("kind", "direction", "occurred_at", "subject", "body")
        ),
        "survey_answers": list(
            customer.survey_responses.values("kind", "score", "comment", "language", "responded_at")
        ),
        "follow_ups": list(customer.followups.values("rule", "reason", "status", "due", "outcome")),
        "playbooks": list(
            customer.enrolments.values("playbook__name", "state", "entered_at", "ended_at")
        ),
        "exported_at": timezone.now(),
    }


def delete_customer(customer: Customer) -> None:
    """Erase the customer and everything about them (orders, interactions, answers,
    scores, follow-ups cascade). An unsubscribe record keeps only the address, so a
    later import cannot survey them again."""
    customer.delete()
