"""Sending surveys: who is skipped and why, the e-mail itself, and the counts."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from feedback.models import Survey, SurveyInvitation, SurveySend, Unsubscribe
from metrics.models import AccountSettings
from segmentation.models import SavedSegment
from tests.conftest import make_customer

pytestmark = pytest.mark.django_db


def send_all(capsys, survey, *extra):
    call_command("send_survey", str(survey.pk), *(extra or ("--all",)))
    return capsys.readouterr().out


def test_eligible_customers_get_one_email_and_the_rest_are_skipped_with_reasons(
    nps, capsys, django_capture_on_commit_callbacks
):
    ok = make_customer(email="ok@example.com")
    make_customer(email="")
    make_customer(survey_opt_out=True)
    gone = make_customer(email="Gone@Example.com")
    Unsubscribe.objects.create(email="gone@example.com")
    recent = make_customer()
    invitation, _ = SurveyInvitation.create_for(nps, recent)
    SurveyInvitation.objects.filter(pk=invitation.pk).update(
        sent_at=timezone.now() - timedelta(days=10)
    )
    with django_capture_on_commit_callbacks(execute=True):
        out = send_all(capsys, nps)
    assert "1 sent; skipped: 1 no email, 1 unsubscribed, 1 opted out, 1 recently surveyed." in out
    assert [m.to for m in mail.outbox] == [["ok@example.com"]]
    send = SurveySend.objects.with_outcomes().get()
    assert (send.sent, sum(send.skipped.values()), send.opened, send.answered) == (1, 4, 0, 0)
    assert SurveyInvitation.objects.get(customer=ok).sent_at is not None
    assert not SurveyInvitation.objects.filter(customer=gone).exists()


def test_an_unsubscribe_outlives_a_later_import_that_opts_the_customer_back_in(nps, capsys):
    customer = make_customer(email="ana@example.com", survey_opt_out=False)
    Unsubscribe.objects.create(email="ana@example.com", customer=customer)
    assert "0 would be sent; skipped: 1 unsubscribed" in send_all(capsys, nps, "--all", "--dry-run")


def test_the_email_has_score_links_an_unsubscribe_link_and_rfc_8058_headers(
    nps, capsys, client, django_capture_on_commit_callbacks
):
    make_customer(email="ana@example.com", name="Ana")
    with django_capture_on_commit_callbacks(execute=True):
        send_all(capsys, nps)
    message = mail.outbox[0]
    assert message.subject == "A quick question: How likely are you to recommend us?"
    links = re.findall(r"^\d+: (\S+)$", message.body, re.M)
    assert len(links) == 11 and links[0].endswith("?score=0") and links[10].endswith("?score=10")
    html = message.alternatives[0][0]
    assert html.count("?score=") == 11 and "Hello Ana," in html
    unsubscribe = message.extra_headers["List-Unsubscribe"]
    assert unsubscribe.startswith("<http") and unsubscribe.endswith("/unsubscribe/>")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Clicking a score opens the page with it chosen; nothing is recorded by the click.
    path = links[9].split("127.0.0.1:8000", 1)[1]
    page = client.get(path).content.decode()
    assert 'value="9" checked' in page
    assert not SurveyInvitation.objects.filter(responded_at__isnull=False).exists()


def test_a_chinese_customer_gets_the_email_in_chinese(
    nps, capsys, django_capture_on_commit_callbacks
):
    make_customer(email="wang@example.com", name="王小明", locale="zh-hans")
    with django_capture_on_commit_callbacks(execute=True):
        send_all(capsys, nps)
    message = mail.outbox[0]
    assert message.subject == "一个简短的问题：您有多大可能向朋友推荐我们？"
    assert "王小明，您好：" in message.body and "请选择分数：" in message.body
    assert "不再接收问卷" in message.alternatives[0][0]


def test_a_survey_without_chinese_text_reaches_chinese_customers_wholly_in_english(
    capsys, client, django_capture_on_commit_callbacks
):
    survey = Survey.objects.create(
        name="CSAT",
        kind="csat",
        question_en="How satisfied are you with our support?",
        question_zh="您对我们的支持满意吗？",
        followup_en="What could we do better?",  # no Chinese follow-up: not complete
    )
    wang = make_customer(email="wang@example.com", name="王小明", locale="zh-hans")
    with django_capture_on_commit_callbacks(execute=True):
        send_all(capsys, survey)
    message = mail.outbox[0]
    assert message.subject == "A quick question: How satisfied are you with our support?"
    assert "Hello 王小明," in message.body and "请" not in message.body
    link = re.search(r"^5: (\S+)$", message.body, re.M).group(1).split("127.0.0.1:8000", 1)[1]
    page = client.get(link).content.decode()
    assert 'lang="en"' in page and "What could we do better?" in page and "Send" in page
    assert not re.search(r"[\u4e00-\u9fff]", page.replace(wang.name, ""))  # no Chinese at all


def test_the_email_and_the_page_name_the_business_and_reply_to_the_owner(
    nps, capsys, client, django_capture_on_commit_callbacks
):
    account = AccountSettings.load()
    account.business_name, account.sender_name = "Northwind Records", "Mia Chen"
    account.sender_email, account.reply_to = "mia@northwind.example", "help@northwind.example"
    account.save()
    make_customer(email="ana@example.com", name="Ana")
    wang = make_customer(email="wang@example.com", name="王小明", locale="zh-hans")
    with django_capture_on_commit_callbacks(execute=True):
        send_all(capsys, nps)
    english, chinese = sorted(mail.outbox, key=lambda m: m.to[0])
    assert english.subject.startswith("A quick question from Northwind Records:")
    assert english.from_email == "Mia Chen <mia@northwind.example>"
    assert english.reply_to == ["help@northwind.example"]
    assert "Northwind Records would like to know:" in english.body
    assert chinese.to == [wang.email] and "Northwind Records" in chinese.subject
    link = re.search(r"^9: (\S+)$", english.body, re.M).group(1).split("127.0.0.1:8000", 1)[1]
    page = client.get(link).content.decode()
    assert "Northwind Records would like to know" in page


def test_sending_to_a_saved_segment_or_one_customer(
    nps, capsys, django_capture_on_commit_callbacks
):
    make_customer(plan="Pro", email="pro@example.com")
    make_customer(plan="Basic", email="basic@example.com")
    SavedSegment.objects.create(name="Pro", filters={"plan": "Pro"})
    with django_capture_on_commit_callbacks(execute=True):
        send_all(capsys, nps, "--segment", "Pro")
    assert [m.to for m in mail.outbox] == [["pro@example.com"]]
    basic = make_customer(external_id="b-2", email="b2@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        send_all(capsys, nps, "--customer", basic.external_id)
    assert mail.outbox[-1].to == ["b2@example.com"]


def test_running_the_send_task_twice_sends_once(nps):
    from feedback.tasks import send_survey

    customer = make_customer()
    send = SurveySend.objects.create(survey=nps, audience="test")
    assert send_survey.delay(send.pk, [customer.pk]).get() == 1
    assert send_survey.delay(send.pk, [customer.pk]).get() == 0
    assert len(mail.outbox) == 1
