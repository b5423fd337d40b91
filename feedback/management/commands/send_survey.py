from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from customers.listing import churned_customers, segment_customers
from customers.models import Customer
from feedback.models import Survey
from feedback.sending import SKIP_REASONS, eligibility
from feedback.tasks import start_send
from segmentation.models import SavedSegment


class Command(BaseCommand):
    help = "E-mail a survey to one customer, a saved segment or everyone eligible."

    def add_arguments(self, parser):
        parser.add_argument("survey", type=int, help="Survey id")
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--all", action="store_true", help="Every eligible customer")
        who.add_argument("--segment", help="Name of a saved segment")
        who.add_argument("--customer", help="A customer's external id")
        parser.add_argument("--dry-run", action="store_true", help="Only count who would get it")
        parser.add_argument(
            "--include-churned", action="store_true", help="With --all: churned customers too"
        )

    def handle(
        self,
        survey,
        all=False,
        segment=None,
        customer=None,
        dry_run=False,
        include_churned=False,
        **options,
    ):
        try:
            survey_obj = Survey.objects.get(pk=survey)
        except Survey.DoesNotExist as exc:
            raise CommandError(f"No survey with id {survey}") from exc
        if segment:
            try:
                audience, label = (
                    segment_customers(SavedSegment.objects.get(name=segment)),
                    f"segment {segment}",
                )
            except SavedSegment.DoesNotExist as exc:
                raise CommandError(f"No saved segment named {segment!r}") from exc
        elif customer:
            audience, label = Customer.objects.filter(external_id=customer), f"customer {customer}"
            if not audience.exists():
                raise CommandError(f"No customer with external id {customer!r}")
        else:
            audience, label = Customer.objects.all(), "all customers"
        churned = churned_customers() if all and not include_churned else None
        eligible, skipped = eligibility(survey_obj, audience, churned)
        count = len(eligible)
        if not dry_run:
            with transaction.atomic():
                start_send(survey_obj, label, eligible, skipped)
        skipped_text = (
            ", ".join(
                f"{skipped[reason]} {reason.replace('_', ' ')}"
                for reason in SKIP_REASONS
                if skipped[reason]
            )
            or "none"
        )
        verb = "would be sent" if dry_run else "sent"
        self.stdout.write(
            self.style.SUCCESS(f"{survey_obj}: {count} {verb}; skipped: {skipped_text}.")
        )
