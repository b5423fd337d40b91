from django.core.management.base import BaseCommand

from feedback.sending import send_reminders
from feedback.tasks import sender


class Command(BaseCommand):
    help = (
        "E-mail one reminder to each invitee who has not answered after the survey's "
        "reminder days (what the hourly beat task does; for cron)."
    )

    def handle(self, **options):
        sent = send_reminders(sender())
        self.stdout.write(self.style.SUCCESS(f"{sent} reminder(s) sent."))
