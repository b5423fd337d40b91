"""Survey reminders: one per invitation, the same links, only to who can still answer."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from feedback.models import Survey, SurveyInvitation, SurveySend, Unsubscribe
from tests.conftest import make_customer

pytestmark = pytest.mark.django_db


def remind(capsys) -> str:
    call_command("send_survey_reminders")
    return capsys.readouterr().out


def sent_days_ago(days: int, *invitations):
    SurveyInvitation.objects.filter(pk__in=[i.pk for i in invitations]).update(
        sent_at=timezone.now() - timedelta(days=days)
    )


def score_links(message) -> list[str]:
    return re.findall(r"^\d+: (\S+)$", message.body, re.M)


def test_one_reminder_with_the_same_links_once_the_reminder_days_have_passed(
    nps, capsys, client, django_capture_on_commit_callbacks
):
    make_customer(email="ana@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_survey", str(nps.pk), "--all")
    invitation = SurveyInvitation.objects.get()
    assert "0 reminder(s) sent." in remind(capsys)  # sent just now
    sent_days_ago(3, invitation)
    assert "1 reminder(s) sent." in remind(capsys)
    first, reminder = mail.outbox
    assert reminder.subject == "Reminder: How likely are you to recommend us?"
    assert "We asked you this a few days ago" in reminder.body
    assert "We asked you this a few days ago" in reminder.alternatives[0][0]
    assert score_links(reminder) == score_links(first) and len(score_links(first)) == 11
    assert reminder.extra_headers["List-Unsubscribe"] == first.extra_headers["List-Unsubscribe"]
    path = score_links(reminder)[10].split("127.0.0.1:8000", 1)[1]
    assert "How likely" in client.get(path).content.decode()
    assert "0 reminder(s) sent." in remind(capsys)  # never a second one
    assert SurveySend.objects.with_outcomes().get().reminded == 1


def test_no_reminder_once_answered_unsubscribed_opted_out_expiring_or_switched_off(
    nps, capsys, client
):
    def invite(survey=nps, **customer):
        invitation, token = SurveyInvitation.create_for(survey, make_customer(**customer))
        sent_days_ago(5, invitation)
        return invitation, token

    waiting, _ = invite(email="waiting@example.com")
    _, token = invite()
    client.post(f"/s/{token}/", {"score": "8"})
    invite(email="Gone@Example.com")
    Unsubscribe.objects.create(email="gone@example.com")
    invite(survey_opt_out=True)
    invite(email="")
    expiring, _ = invite()
    SurveyInvitation.objects.filter(pk=expiring.pk).update(
        expires_at=timezone.now() + timedelta(hours=12)
    )
    older, _ = invite()  # made before links had a seed: its link cannot be rebuilt
    SurveyInvitation.objects.filter(pk=older.pk).update(token_seed="")
    quiet = Survey.objects.create(
        name="No reminders", kind="csat", question_en="Ok?", reminder_days=0
    )
    invite(survey=quiet)
    assert "1 reminder(s) sent." in remind(capsys)
    assert [m.to for m in mail.outbox] == [["waiting@example.com"]]
    assert list(SurveyInvitation.objects.filter(reminded_at__isnull=False)) == [waiting]


def test_a_chinese_customer_gets_the_reminder_in_chinese(nps, capsys):
    invitation, _ = SurveyInvitation.create_for(nps, make_customer(locale="zh-hans"))
    sent_days_ago(4, invitation)
    remind(capsys)
    message = mail.outbox[0]
    assert message.subject == "提醒：您有多大可能向朋友推荐我们？"
    assert "几天前我们问过您这个问题" in message.body


def test_after_a_key_change_reminders_need_the_old_key_among_the_fallbacks(
    nps, capsys, client, settings
):
    invitation, token = SurveyInvitation.create_for(nps, make_customer())
    sent_days_ago(4, invitation)
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-brand-new-key-" + "x" * 40
    assert "0 reminder(s) sent." in remind(capsys)  # the link cannot be rebuilt: nothing sent
    assert SurveyInvitation.objects.get().reminded_at is None
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert "1 reminder(s) sent." in remind(capsys)
    assert f"/s/{token}/?score=0" in mail.outbox[0].body


def test_the_hourly_task_sends_the_reminders(nps):
    from django.conf import settings

    from feedback.tasks import send_survey_reminders

    schedule = settings.CELERY_BEAT_SCHEDULE["survey-reminders"]
    assert schedule["task"] == send_survey_reminders.name and schedule["schedule"] == 3600
    invitation, _ = SurveyInvitation.create_for(nps, make_customer())
    sent_days_ago(3, invitation)
    assert send_survey_reminders.delay().get() == 1
    assert send_survey_reminders.delay().get() == 0


def test_the_survey_form_wants_the_reminder_before_the_link_expires(owner_client):
    form = {"name": "CES", "kind": "ces", "question_en": "Easy?", "recontact_days": 90}
    page = owner_client.post("/surveys/new/", {**form, "link_days": 3, "reminder_days": 3})
    assert page.status_code == 200 and not Survey.objects.exists()
    assert "The reminder must go out before the link expires." in page.content.decode()
    owner_client.post("/surveys/new/", {**form, "link_days": 3, "reminder_days": 0})
    assert Survey.objects.get().reminder_days == 0
