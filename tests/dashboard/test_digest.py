"""The morning digest and the instant detractor alert: built from the current run and
today's queue, sent once a day through a real SMTP server, posted to a webhook,
printed by `send_digest --dry-run`, warning when the scores are not fresh."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from customers.dashboard import digest
from customers.models import FollowUp
from feedback.models import SurveyResponse
from metrics.models import AccountSettings, ScoringRun
from tests.conftest import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_address():
    AccountSettings.load()
    AccountSettings.objects.update(digest_to="mia@northwind.example", business_name="Northwind")
    return "mia@northwind.example"


def urgent_item(customer, value=500):
    return FollowUp.objects.create(
        customer=customer,
        rule="detractor",
        reason='Answered NPS 2: "Too slow"',
        priority=1,
        value_at_stake=value,
    )


def test_the_digest_arrives_once_a_day_with_both_parts(smtp, scored, owner_address):
    _run, (ana, bo, _cy) = scored
    urgent_item(ana, 100)
    FollowUp.objects.create(customer=bo, rule="renewal", reason="Renews soon", priority=4)
    call_command("send_digest")
    call_command("send_digest")  # a rerun, a second worker: nothing more
    (digest,) = smtp.received
    assert digest["To"] == owner_address
    assert "2 to contact today" in digest["Subject"]
    text = digest.get_body(("plain",)).get_content()
    html = digest.get_body(("html",)).get_content()
    for part in (text, html):
        assert "Ana Red" in part and "Bo Yellow" in part
        assert part.index("Ana Red") < part.index("Bo Yellow")  # urgency before value
        assert "http://127.0.0.1:8000/followups/" in part
    call_command("send_digest", "--force")
    assert len(smtp.received) == 2


def test_dry_run_prints_it_and_sends_nothing(scored, owner_address):
    _run, (ana, _bo, _cy) = scored
    urgent_item(ana)
    out = StringIO()
    call_command("send_digest", "--dry-run", stdout=out)
    assert "Subject: cs_platform" in out.getvalue() and "Ana Red" in out.getvalue()
    assert mail.outbox == []
    assert AccountSettings.load().digest_sent_on is None


def test_new_unhappy_answers_come_with_their_words(scored, owner_address, invite, client):
    _run, (ana, _bo, _cy) = scored
    AccountSettings.objects.update(detractor_alert=False)
    _invitation, token = invite(customer=ana)
    client.post(f"/s/{token}/", {"score": "3", "comment": "The app keeps crashing"})
    out = StringIO()
    call_command("send_digest", "--dry-run", stdout=out)
    assert "New unhappy answers" in out.getvalue()
    assert '"The app keeps crashing"' in out.getvalue()


def test_it_warns_when_the_last_run_failed_or_the_scores_are_old(scored, owner_address):
    run, _customers = scored
    ScoringRun.objects.filter(pk=run.pk).update(finished_at=timezone.now() - timedelta(days=3))
    ScoringRun.objects.create(as_of=timezone.localdate(), status="failed", error="boom")
    out = StringIO()
    call_command("send_digest", "--dry-run", stdout=out)
    printed = out.getvalue()
    assert "Subject: cs_platform" in printed and "the last scoring run failed" in printed
    assert "the scores are 3 days old" in printed


def test_kpis_that_moved_beyond_the_threshold_are_listed(scored, owner_address):
    run, _customers = scored
    earlier = {**run.summary, "active_customers": 4, "clv_total": 3010.0}
    ScoringRun.objects.create(
        as_of=run.as_of - timedelta(days=1), status="succeeded", summary=earlier
    )
    out = StringIO()
    call_command("send_digest", "--dry-run", stdout=out)
    printed = out.getvalue()
    assert "What moved since the last run" in printed
    assert "Active customers: 4 → 2 (-50%)" in printed
    assert "CLV" not in printed.split("What moved")[1]  # 0.3 % is below the 10 % line


def test_the_digest_speaks_the_owners_language(scored, owner_address):
    AccountSettings.objects.update(language="zh-hans")
    out = StringIO()
    call_command("send_digest", "--dry-run", stdout=out)
    assert "今天" in out.getvalue()


class Hook(BaseHTTPRequestHandler):
    posted: list = []

    def do_POST(self):  # noqa: N802 (the http.server name)
        length = int(self.headers["Content-Length"])
        Hook.posted.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def test_the_digest_is_posted_to_a_slack_compatible_webhook(scored):
    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Hook.posted.clear()
    url = f"http://127.0.0.1:{server.server_port}/hooks/T000/B000/secret"
    AccountSettings.load()
    AccountSettings.objects.update(digest_webhook=url)
    _run, (ana, _bo, _cy) = scored
    urgent_item(ana)
    call_command("send_digest")
    server.shutdown()
    (posted,) = Hook.posted
    assert posted["text"].startswith("*cs_platform,") and "Ana Red" in posted["text"]
    assert mail.outbox == []  # no e-mail address: the webhook only


def test_a_detractor_alerts_the_owner_at_once_and_only_once(
    smtp, owner_address, invite, client, django_capture_on_commit_callbacks
):
    customer = make_customer(name="Dee Dee", email="dee@example.com")
    _invitation, token = invite(customer=customer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/s/{token}/", {"score": "2"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/s/{token}/", {"score": "2", "comment": "Late again"})  # adds a comment
    (alert,) = smtp.received
    assert alert["To"] == owner_address and "Dee Dee" in alert["Subject"]
    assert f"/customers/{customer.pk}/" in alert.get_body(("plain",)).get_content()
    assert SurveyResponse.objects.get().alerted_at is not None


def test_no_alert_for_happy_answers_or_when_switched_off(
    smtp, owner_address, invite, client, django_capture_on_commit_callbacks
):
    _invitation, happy = invite()
    AccountSettings.objects.update(detractor_alert=False)
    _invitation, unhappy = invite()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/s/{happy}/", {"score": "10"})
        client.post(f"/s/{unhappy}/", {"score": "0"})
    assert smtp.received == []


def test_the_nightly_run_sends_the_digest(owner_address):
    call_command("load_demo", "--synthetic", "--customers", "300", "--no-user")
    AccountSettings.objects.update(digest_to="mia@northwind.example")
    call_command("score")
    digests = [m for m in mail.outbox if m.to == ["mia@northwind.example"]]
    assert len(digests) == 1 and "to contact today" in digests[0].subject
    call_command("score", "--as-of", (timezone.localdate() - timedelta(days=28)).isoformat())
    assert len([m for m in mail.outbox if m.to == ["mia@northwind.example"]]) == 1


def test_a_digest_the_smtp_server_refused_is_sent_on_the_next_try(settings, scored, owner_address):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    with pytest.raises(OSError):
        digest.send()
    assert AccountSettings.load().digest_sent_on is None  # the day is given back
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert digest.send() is not None and len(mail.outbox) == 1
