from django.core.management.base import BaseCommand
from django.utils import translation

from customers.dashboard import digest
from metrics.models import AccountSettings


class Command(BaseCommand):
    help = (
        "Send today's morning digest to the owner (once a day; the nightly run sends it "
        "by itself). --dry-run prints it and sends nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="print it, send nothing")
        parser.add_argument("--force", action="store_true", help="send even if sent today")

    def handle(self, dry_run=False, force=False, **options):
        if dry_run:
            with translation.override(AccountSettings.load().owner_language):
                built = digest.build()
                text, _html = digest.render(built)
                self.stdout.write(f"Subject: {built.subject}\n\n{text}")
            return
        sent = digest.send(force=force)
        if sent is None:
            self.stdout.write("Not sent: already sent today, or no digest address or webhook set.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Sent: {sent.subject}"))
