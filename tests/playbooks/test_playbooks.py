"""Playbooks: triggers enrol, steps run (e-mails through a real SMTP server on loopback),
exit conditions end an enrolment early, review mode drafts into the queue, sending
respects unsubscribes, the weekly cap and quiet hours, and a rerun never sends twice."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from customers.models import (
    Customer,
    Enrolment,
    FollowUp,
    ImportJob,
    Interaction,
    Playbook,
    StepRun,
)
from customers.playbooks import links, runner
from feedback.models import SurveyInvitation, Unsubscribe
from metrics.models import AccountSettings, CustomerScore, ScoringRun
from tests.conftest import make_customer

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")
# Ten in the morning: outside the default quiet hours (21:00 to 08:00) in UTC.
MORNING = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def shipped(key: str, **changes) -> Playbook:
    playbook = Playbook.objects.get(key=key)
    for name, value in {"enabled": True, **changes}.items():
        setattr(playbook, name, value)
    playbook.save()
    return playbook


def newcomer(**fields):
    return make_customer(signup_date=MORNING.date(), **fields)


def test_shipped_playbooks_are_there_and_switched_off():
    keys = set(Playbook.objects.values_list("key", flat=True))
    assert {"onboarding", "rescue", "csat_after_ticket", "nps_quarterly", "winback"} <= keys
    assert not Playbook.objects.filter(enabled=True).exists()


def test_onboarding_sends_day_0_3_and_7_in_the_customers_language(smtp, account):
    shipped("onboarding")
    ana = newcomer(name="Ana Lima", email="ana@example.com", plan="Pro")
    newcomer(name="李娜", email="li@example.com", locale="zh-hans")
    runner.run(MORNING)
    assert sorted(m["To"] for m in smtp.received) == ["ana@example.com", "li@example.com"]
    welcome = next(m for m in smtp.received if m["To"] == "ana@example.com")
    assert welcome["Subject"] == "Welcome to Northwind Records"
    text = welcome.get_body(("plain",)).get_content()
    html = welcome.get_body(("html",)).get_content()
    assert "Hi Ana," in text and "Mia Chen" in text and "Hi Ana," in html
    unsubscribe = links.unsubscribe_url(ana)
    assert welcome["List-Unsubscribe"].strip() == f"<{unsubscribe}>"
    assert welcome["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe in text and unsubscribe in html
    assert welcome["Reply-To"] == "help@northwind.example"
    chinese = next(m for m in smtp.received if m["To"] == "li@example.com")
    assert "李娜" in chinese.get_body(("plain",)).get_content()
    assert "Welcome" not in chinese["Subject"]
    # Logged on the timeline with the Message-ID a reply will name.
    logged = Interaction.objects.get(customer=ana, direction="outbound")
    assert logged.message_id == welcome["Message-ID"]

    runner.run(MORNING + timedelta(days=1))  # nothing due yet
    assert len(smtp.received) == 2
    runner.run(MORNING + timedelta(days=3))
    runner.run(MORNING + timedelta(days=7))
    ana_mail = [m["Subject"] for m in smtp.received if m["To"] == "ana@example.com"]
    assert ana_mail == [
        "Welcome to Northwind Records",
        "Three tips to get the most out of Pro",
        "How is it going so far?",
    ]
    enrolment = Enrolment.objects.get(customer=ana)
    assert enrolment.state == "finished"
    assert [r.status for r in enrolment.history.order_by("step")] == ["sent", "done"] * 2 + ["sent"]


def test_a_rerun_never_sends_twice(smtp, account):
    shipped("onboarding")
    newcomer(email="bo@example.com")
    runner.run(MORNING)
    runner.run(MORNING)
    call_command("run_playbooks")  # now: enrols nobody new, nothing due
    assert len(smtp.received) == 1
    assert Enrolment.objects.count() == 1


def test_a_reply_ends_the_enrolment(client, smtp, account):
    shipped("onboarding")
    cy = newcomer(email="cy@example.com")
    runner.run(MORNING)
    Interaction.objects.create(
        customer=cy,
        kind="email",
        direction="inbound",
        occurred_at=MORNING + timedelta(hours=2),
        subject="Re: Welcome",
    )
    runner.run(MORNING + timedelta(days=3))
    enrolment = Enrolment.objects.get(customer=cy)
    assert (enrolment.state, enrolment.exit_reason) == ("exited", "replied")
    assert len(smtp.received) == 1


def test_an_unsubscribe_link_stops_every_automated_email(client, smtp, account):
    shipped("onboarding")
    dee = newcomer(email="dee@example.com")
    runner.run(MORNING)
    token_url = links.unsubscribe_url(dee).split("127.0.0.1:8000")[1]
    page = client.get(token_url)
    assert page.status_code == 200 and b"dee@example.com" not in page.content
    client.post(token_url)  # RFC 8058 one-click POST
    assert Unsubscribe.objects.filter(email="dee@example.com").exists()
    runner.run(MORNING + timedelta(days=3))
    assert len(smtp.received) == 1
    assert Enrolment.objects.get(customer=dee).exit_reason == "unsubscribed"
    assert client.get("/s/email/forged:token/unsubscribe/").status_code == 404


def test_quiet_hours_in_the_customers_time_zone_hold_the_email_until_morning(smtp, account):
    shipped("onboarding")
    # 10:00 UTC is 19:00 in Tokyo: fine. 14:00 UTC is 23:00 there: quiet until 08:00.
    tokyo = newcomer(email="kenji@example.com", time_zone="Asia/Tokyo")
    late = MORNING.replace(hour=14)
    runner.run(late)
    assert smtp.received == []
    enrolment = Enrolment.objects.get(customer=tokyo)
    assert enrolment.next_at == datetime(2026, 12, 3, 8, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    runner.run(enrolment.next_at)
    assert len(smtp.received) == 1


def test_at_most_two_automated_emails_a_week_across_playbooks_and_surveys(smtp, account, nps):
    customer = newcomer(email="eve@example.com")
    for days in (1, 2):  # two surveys this week already
        invitation, _token = SurveyInvitation.create_for(nps, customer)
        SurveyInvitation.objects.filter(pk=invitation.pk).update(
            sent_at=MORNING - timedelta(days=days)
        )
    shipped("onboarding")
    runner.run(MORNING)
    assert smtp.received == []
    enrolment = Enrolment.objects.get(customer=customer)
    assert enrolment.next_at == MORNING - timedelta(days=2) + timedelta(days=7)
    runner.run(enrolment.next_at)
    assert len(smtp.received) == 1


def test_review_mode_drafts_into_the_queue_and_sending_it_goes_on(owner_client, smtp, account):
    shipped("onboarding", review=True)
    fay = newcomer(name="Fay Wong", email="fay@example.com")
    runner.run(MORNING)
    assert smtp.received == []
    draft = FollowUp.objects.get(customer=fay)
    assert "approve the e-mail" in draft.reason
    enrolment = Enrolment.objects.get(customer=fay)
    assert enrolment.state == "review"
    page = owner_client.get(f"/followups/{draft.pk}/email/").content.decode()
    assert "Welcome to Northwind Records" in page and "Hi Fay," in page
    owner_client.post(
        f"/followups/{draft.pk}/email/",
        {"subject": "Welcome, Fay", "body": "Hi Fay,\n\nGlad you are here."},
    )
    assert [m["Subject"] for m in smtp.received] == ["Welcome, Fay"]
    assert smtp.received[0]["List-Unsubscribe"]  # still an automated e-mail
    enrolment.refresh_from_db()
    assert (enrolment.state, enrolment.step) == ("active", 1)
    assert enrolment.history.get(step=0).status == "sent"
    runner.run(MORNING + timedelta(days=3))  # the wait
    runner.run(MORNING + timedelta(days=6))
    assert FollowUp.objects.filter(customer=fay, status="open").count() == 1  # the next draft


def test_a_draft_closed_without_sending_is_skipped_and_the_playbook_goes_on(owner_client, account):
    shipped("onboarding", review=True)
    gus = newcomer(email="gus@example.com")
    runner.run(MORNING)
    draft = FollowUp.objects.get(customer=gus)
    owner_client.post(f"/followups/{draft.pk}/done/")
    enrolment = Enrolment.objects.get(customer=gus)
    assert (enrolment.state, enrolment.step) == ("active", 1)
    assert enrolment.history.get(step=0).status == "skipped"


def test_the_nps_playbook_sends_a_survey_with_its_own_unsubscribe(smtp, account, nps, scored):
    CustomerScore.objects.update(behaviour="active")
    shipped("nps_quarterly")
    runner.run(MORNING)
    assert len(smtp.received) == 3
    assert all("/s/" in m["List-Unsubscribe"] for m in smtp.received)
    assert SurveyInvitation.objects.filter(sent_at__isnull=False).count() == 3
    runner.run(MORNING + timedelta(days=30))  # may enter again only after 90 days
    assert len(smtp.received) == 3


def test_win_back_asks_why_and_the_answer_is_stored(client, owner_client, smtp, account):
    shipped("winback")
    hal = make_customer(name="Hal Berg", email="hal@example.com", churned_at=MORNING, mrr=0)
    for month, amount in ((10, 20), (11, 35)):
        hal.orders.create(
            external_id=f"sub-{month}",
            kind="subscription",
            amount=amount,
            occurred_at=MORNING.replace(month=month),
        )
    runner.run(MORNING)
    assert smtp.received == []  # waits a day first
    runner.run(MORNING + timedelta(days=1))
    (winback,) = smtp.received
    why = links.why_url(hal)
    assert why in winback.get_body(("plain",)).get_content()
    path = why.split("127.0.0.1:8000")[1]
    page = client.get(path).content.decode()
    assert "Why did you leave" in page and "Too expensive" in page
    assert client.post(path, {"reason": "nonsense"}).status_code == 400
    client.post(path, {"reason": "price", "comment": "Half the price elsewhere"})
    client.post(path, {"reason": "features", "comment": ""})  # changed their mind
    hal.refresh_from_db()
    assert (hal.churn_reason, hal.churn_comment) == ("features", "")
    assert "win-back" in hal.tags
    revenue = owner_client.get("/revenue/").content.decode()
    lost = revenue.split('id="lost-by-reason"')[1]
    assert "Missing features" in lost and '<td class="num">35</td>' in lost
    assert client.get("/why/1:forged/").status_code == 404


def test_a_failing_smtp_server_leaves_the_step_to_retry(settings, account):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    shipped("onboarding")
    customer = newcomer(email="ivy@example.com")
    counts = runner.run(MORNING)
    assert counts["failed"] == 1
    enrolment = Enrolment.objects.get(customer=customer)
    assert (enrolment.step, enrolment.claimed_by) == (0, "")
    assert enrolment.next_at == MORNING + runner.RETRY_AFTER
    assert not StepRun.objects.exists() and not Interaction.objects.exists()


def test_a_stale_claim_of_a_dead_runner_is_taken_over(smtp, account, settings):
    settings.PLAYBOOK_LEASE_SECONDS = 60
    shipped("onboarding")
    customer = newcomer(email="jo@example.com")
    runner.enrol(Playbook.objects.get(key="onboarding"), MORNING)
    Enrolment.objects.update(claimed_by="dead", claimed_at=timezone.now())
    runner.run(MORNING)
    assert smtp.received == []  # claimed by a runner that may still be sending
    Enrolment.objects.update(claimed_at=timezone.now() - timedelta(seconds=61))
    runner.run(MORNING)
    assert [m["To"] for m in smtp.received] == [customer.email]


def test_quiet_hours_across_midnight_and_within_a_day():
    utc = ZoneInfo("UTC")
    at = datetime(2026, 1, 1, 22, 30, tzinfo=utc)
    assert runner.quiet_until(at, utc, 21, 8) == datetime(2026, 1, 2, 8, tzinfo=utc)
    assert runner.quiet_until(at.replace(hour=3), utc, 21, 8) == datetime(2026, 1, 1, 8, tzinfo=utc)
    assert runner.quiet_until(at.replace(hour=12), utc, 21, 8) is None
    assert runner.quiet_until(at.replace(hour=13), utc, 12, 14) == datetime(
        2026, 1, 1, 14, tzinfo=utc
    )
    assert runner.quiet_until(at, utc, 0, 0) is None


def test_the_weekly_cap_is_a_setting(smtp, account, nps):
    AccountSettings.objects.update(weekly_email_cap=1)
    kim = newcomer(email="kim@example.com")
    invitation, _token = SurveyInvitation.create_for(nps, kim)
    SurveyInvitation.objects.filter(pk=invitation.pk).update(sent_at=MORNING - timedelta(days=1))
    shipped("onboarding")
    assert runner.run(MORNING)["deferred"] == 1
    assert smtp.received == []


def test_a_customers_time_zone_comes_in_by_import_and_api_and_is_checked(
    api, owner_client, django_capture_on_commit_callbacks
):
    good = api.post(
        "/api/customers/",
        {"external_id": "tz-1", "email": "tz@example.com", "time_zone": "Asia/Tokyo"},
        format="json",
    )
    assert good.status_code == 201 and good.json()["time_zone"] == "Asia/Tokyo"
    bad = api.post(
        "/api/customers/", {"external_id": "tz-2", "time_zone": "Mars/Base"}, format="json"
    )
    assert bad.status_code == 400 and "time_zone" in bad.json()
    csv = b"external_id,email,time_zone\ntz-3,a@example.com,Europe/Paris\ntz-4,b@example.com,Nowhere\n"
    upload = SimpleUploadedFile("c.csv", csv, content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post("/import/", {"kind": "customers", "file": upload})
    job = ImportJob.objects.get()
    assert job.status == "failed" and any("time_zone" in str(e) for e in job.errors)
    assert not Customer.objects.filter(external_id="tz-3").exists()  # all or nothing


def test_each_trigger_finds_whom_it_says(scored):
    from customers.playbooks import triggers
    from segmentation.models import SavedSegment

    run, (ana, bo, cy) = scored
    now = timezone.now()

    def found(trigger, value=""):
        playbook = Playbook(name="t", trigger=trigger, trigger_value=value, steps=[])
        return set(triggers.matching(playbook, now).values_list("pk", flat=True))

    FollowUp.objects.create(customer=ana, rule="detractor", reason="NPS 2")
    assert found("rule", "detractor") == {ana.pk}
    segment = SavedSegment.objects.create(name="Pro", filters={"plan": "Pro"})
    assert found("segment", str(segment.pk)) == {ana.pk, bo.pk}  # Ana and Bo are on Pro
    Customer.objects.filter(pk=cy.pk).update(signup_date=now.date() - timedelta(days=7))
    assert found("signup", "7") == {cy.pk} and found("signup", "3") == set()
    Interaction.objects.create(
        customer=bo, kind="ticket", opened_at=now - timedelta(days=3), resolved_at=now
    )
    assert found("ticket") == {bo.pk}
    Customer.objects.filter(pk=cy.pk).update(churned_at=now - timedelta(hours=5))
    assert found("cancelled") == {cy.pk}
    assert found("red") == set()  # no earlier run: nobody has turned
    earlier = ScoringRun.objects.create(
        as_of=run.as_of - timedelta(days=1), status="succeeded", summary={}
    )
    for customer in (ana, bo):
        CustomerScore.objects.create(
            run=earlier, customer=customer, as_of=earlier.as_of, health_band="green"
        )
    assert found("red") == {ana.pk}  # red now, green the day before
    CustomerScore.objects.filter(run=run, customer=bo).update(behaviour="active")
    assert found("active") == {bo.pk}
    entering = Playbook.objects.create(name="t", trigger="active", steps=[], reenter_days=90)
    runner.enrol(entering, now)
    assert not triggers.entering(entering, now).exists()
    later = now + timedelta(days=91)
    assert not triggers.entering(entering, later).exists()  # still in it
    Enrolment.objects.update(state="finished")
    assert set(triggers.entering(entering, later).values_list("pk", flat=True)) == {bo.pk}


def steps_form(*steps, **fields) -> dict:
    form = {
        "name": "Nudge detractors",
        "trigger": "rule",
        "trigger_value": "detractor",
        "exits": ["replied", "unsubscribed"],
        "steps-TOTAL_FORMS": str(len(steps)),
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "20",
        **fields,
    }
    for n, (action, value) in enumerate(steps):
        form[f"steps-{n}-action"], form[f"steps-{n}-value"] = action, value
    return form


def test_the_owner_builds_a_playbook_and_bad_steps_are_refused(owner_client):
    bad = owner_client.post(
        "/playbooks/new/", steps_form(("email", "nonsense"), ("wait", "soon"))
    ).content.decode()
    assert "Name an e-mail template" in bad and "The number of days to wait." in bad
    assert not Playbook.objects.filter(name="Nudge detractors").exists()
    posted = owner_client.post(
        "/playbooks/new/",
        steps_form(("email", "detractor"), ("wait", "2"), ("followup", "Call them"), review="on"),
    )
    playbook = Playbook.objects.get(name="Nudge detractors")
    assert posted["Location"] == f"/playbooks/{playbook.pk}/"
    assert playbook.steps == [
        {"action": "email", "value": "detractor"},
        {"action": "wait", "value": "2"},
        {"action": "followup", "value": "Call them"},
    ]
    assert playbook.review and playbook.exits == ["replied", "unsubscribed"]
    assert not playbook.enabled  # switched on only on purpose
    page = owner_client.get(f"/playbooks/{playbook.pk}/").content.decode()
    assert "Send the e-mail “detractor”" in page and "Wait 2 days" in page
    owner_client.post(f"/playbooks/{playbook.pk}/switch/", {"enabled": "1"})
    playbook.refresh_from_db()
    assert playbook.enabled
