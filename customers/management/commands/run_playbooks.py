from django.core.management.base import BaseCommand

from customers.playbooks import runner


class Command(BaseCommand):
    help = (
        "Enrol customers in the switched-on playbooks and do every step that is due (what "
        "the Celery beat task does every 15 minutes); for cron users. Safe to run twice at once."
    )

    def handle(self, **options):
        counts = runner.run()
        shown = ", ".join(f"{what} {n}" for what, n in sorted(counts.items())) or "nothing due"
        self.stdout.write(self.style.SUCCESS(f"Playbooks: {shown}"))
