"""The owner's web app through Django's test client: pages, HTMX fragments, forms and
the actions behind them."""

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.followups import rules
from customers.listing import segment_customers
from customers.models import Customer, FollowUp, ImportJob, Interaction, Order
from feedback.models import Survey, SurveyInvitation, SurveyResponse
from metrics.models import AccountSettings, CustomerScore, ScoringRun
from segmentation.models import SavedSegment
from tests.conftest import make_customer

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def scored():
    """Three customers scored by a current run (hand-made, so each test is fast)."""
    run = ScoringRun.objects.create(
        as_of=timezone.localdate(),
        status="succeeded",
        is_current=True,
        customers=3,
        finished_at=timezone.now(),
        summary={
            "active_customers": 2,
            "revenue": {"last_30d": 1200.0, "previous_30d": 1000.0},
            "revenue_by_month": [{"month": "2026-10", "revenue": 900.0}],
            "nps_90d": {"nps": 20.0, "n": 10, "margin": 55.0},
            "nps_trend": [{"month": "2026-10", "nps": 20.0, "n": 10}],
            "health_histogram": [0, 1, 0, 0, 0, 1, 0, 0, 1, 0],
            "health_bands": {"red": 1, "yellow": 1, "green": 1},
            "cohorts": [{"cohort": "2026-01", "customers": 3, "0": 1.0, "1": 0.66}],
            "rfm_grid": [{"r": 5, "f": 5, "customers": 1, "revenue": 500.0}],
            "segments": {"Champions": 1, "At risk": 1},
            "clusters": {
                "k": 1,
                "silhouette": 0.5,
                "groups": {"0": {"size": 3, "description": "typical customers", "medians": {}}},
            },
            "clv_total": 3000.0,
            "value_at_risk_total": 400.0,
        },
    )
    rows = [
        ("Ana Red", "red", 20, 100.0, 0.8, "At risk", 3, 200.0),
        ("Bo Yellow", "yellow", 55, 2500.0, 0.3, "Champions", None, 10.0),
        ("Cy Green", "green", 90, 900.0, 0.1, "Champions", 10, 5.0),
    ]
    customers = []
    for name, band, health, clv, churn, segment, nps, contact in rows:
        customer = make_customer(name=name, plan="Pro" if band != "green" else "Basic")
        CustomerScore.objects.create(
            run=run,
            customer=customer,
            as_of=run.as_of,
            health=health,
            health_band=band,
            clv=clv,
            churn_probability=churn,
            value_at_risk=round(clv * churn, 2),
            rfm_segment=segment,
            last_nps=nps,
            days_since_contact=contact,
            explanation=f"{name} explained.",
            components={"parts": {"engagement": health}},
        )
        customers.append(customer)
    return run, customers


def test_every_owner_page_renders_for_the_owner(owner_client, scored):
    _, (ana, *_rest) = scored
    survey = Survey.objects.create(name="NPS", kind="nps", question_en="Recommend us?")
    for url in [
        "/",
        "/followups/",
        "/customers/",
        f"/customers/{ana.pk}/",
        f"/customers/{ana.pk}/edit/",
        f"/customers/{ana.pk}/delete/",
        "/segments/",
        "/surveys/",
        "/surveys/new/",
        f"/surveys/{survey.pk}/",
        f"/surveys/{survey.pk}/send/",
        "/import/",
        "/settings/",
        f"/runs/{scored[0].pk}/",
    ]:
        response = owner_client.get(url)
        assert response.status_code == 200, url
        assert b"<html" in response.content and b"Traceback" not in response.content


def test_the_dashboard_says_when_there_is_no_run_yet(owner_client):
    page = owner_client.get("/").content.decode()
    assert "No scoring run yet." in page and 'href="/settings/"' in page


def test_the_dashboard_shows_kpis_with_formulas_trends_and_charts(owner_client, scored):
    page = owner_client.get("/").content.decode()
    assert 'data-kpi="revenue"' in page and "1,200" in page
    assert "▲" in page and "vs previous 30 days" in page  # 1,200 against 1,000
    assert 'data-tip="Sum of orders minus refunds' in page
    assert "10 answers ± 55" in page  # a small sample looks uncertain
    assert page.count("<svg") == 3  # health, NPS, revenue
    assert 'id="cohorts"' in page and ">66<" in page


def test_kpis_compare_with_a_run_four_weeks_older(owner_client, scored):
    run, _ = scored
    ScoringRun.objects.create(
        as_of=run.as_of - timedelta(days=30),
        status="succeeded",
        summary={"active_customers": 5, "clv_total": 2000.0},
    )
    page = owner_client.get("/").content.decode()
    active = page.split('data-kpi="active"')[1].split("data-kpi=")[0]
    assert "▼" in active and "vs 4 weeks ago" in active and "worse" in active
    clv = page.split('data-kpi="clv_total"')[1].split("data-kpi=")[0]
    assert "▲" in clv and "1,000" in clv


def test_the_queue_is_ordered_by_value_at_stake_and_filters_by_rule(owner_client, scored):
    _, (ana, bo, cy) = scored
    FollowUp.objects.create(customer=ana, rule="detractor", reason="Said 2", value_at_stake=80)
    FollowUp.objects.create(customer=bo, rule="renewal", reason="Renews soon", value_at_stake=750)
    page = owner_client.get("/followups/").content.decode()
    assert page.index("Renews soon") < page.index("Said 2")
    filtered = owner_client.get("/followups/?rule=detractor", headers=HTMX).content.decode()
    assert "Said 2" in filtered and "Renews soon" not in filtered and "<html" not in filtered


def test_done_with_a_note_logs_an_interaction_and_returns_the_item(owner_client, scored):
    _, (ana, *_rest) = scored
    item = FollowUp.objects.create(customer=ana, rule="detractor", reason="Said 2")
    response = owner_client.post(
        f"/followups/{item.pk}/done/", {"note": "Called, refund sent"}, headers=HTMX
    )
    assert response.status_code == 200 and b"<html" not in response.content
    assert "Done" in response.content.decode()
    item.refresh_from_db()
    assert item.status == "done" and item.outcome == "Called, refund sent"
    logged = Interaction.objects.get(customer=ana)
    assert logged.kind == "note" and logged.body == "Called, refund sent"
    assert not FollowUp.objects.open_for_today().exists()


def test_snooze_for_a_week_or_until_a_date_and_refuse_the_past(owner_client, scored):
    _, (ana, bo, _cy) = scored
    today = timezone.localdate()
    a = FollowUp.objects.create(customer=ana, rule="detractor", reason="x")
    b = FollowUp.objects.create(customer=bo, rule="renewal", reason="y")
    fragment = owner_client.post(f"/followups/{a.pk}/snooze/", {"days": "7"}, headers=HTMX)
    assert "Snoozed until" in fragment.content.decode()
    owner_client.post(f"/followups/{b.pk}/snooze/", {"until": str(today + timedelta(days=3))})
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, a.snoozed_until) == ("snoozed", today + timedelta(days=7))
    assert b.snoozed_until == today + timedelta(days=3)
    assert not FollowUp.objects.open_for_today().exists()
    past = owner_client.post(
        f"/followups/{a.pk}/snooze/", {"until": str(today - timedelta(days=1))}, headers=HTMX
    )
    assert past.status_code == 400


def test_the_customer_list_filters_sorts_and_keeps_filters_in_page_links(owner_client, scored):
    for n in range(60):
        make_customer(name=f"Extra {n:02d}")
    by_clv = owner_client.get("/customers/?sort=clv").content.decode()
    assert by_clv.index("Bo Yellow") < by_clv.index("Cy Green") < by_clv.index("Ana Red")
    assert "3 customers" in by_clv and "60 added since the last run are not scored yet" in by_clv
    by_name = owner_client.get("/customers/?sort=name&plan=").content.decode()
    assert "63 customers" in by_name and "Page 1 of 2" in by_name
    assert "?sort=name&amp;page=2" in by_name
    assert (
        "Extra 49" not in by_name
        and "Extra 49" in owner_client.get("/customers/?sort=name&page=2").content.decode()
    )
    red = owner_client.get("/customers/?health=red").content.decode()
    assert "1 customer" in red and "More than 1,000" not in red
    assert "Ana Red" in red and "Bo Yellow" not in red
    assert "Cy Green" in owner_client.get("/customers/?nps=promoter").content.decode()
    assert "Bo Yellow" in owner_client.get("/customers/?nps=none&plan=Pro").content.decode()
    found = owner_client.get("/customers/?q=yellow", headers=HTMX).content.decode()
    assert "Bo Yellow" in found and "Ana Red" not in found and "<html" not in found


def test_the_customer_list_needs_the_same_few_queries_for_any_page(owner_client, scored):
    for n in range(80):
        make_customer(name=f"Extra {n:02d}")
    counts = []
    owner_client.get("/")  # the account's display settings are cached from here on
    for url in ("/customers/", "/customers/?page=2&sort=churn", "/customers/?health=red&q=a"):
        with CaptureQueriesContext(connection) as queries:
            assert owner_client.get(url).status_code == 200
        counts.append(len(queries))
    assert max(counts) <= 7, counts  # session, user, nav count, run, count, page rows


def test_bulk_tag_and_bulk_survey(owner_client, scored):
    _, (ana, bo, cy) = scored
    owner_client.post(
        "/customers/bulk/", {"ids": [ana.pk, bo.pk], "action": "tag", "tag": "vip", "query": ""}
    )
    assert Customer.objects.with_tag("vip").count() == 2
    Survey.objects.create(name="NPS", kind="nps", question_en="Recommend us?")
    response = owner_client.post("/customers/bulk/", {"ids": [cy.pk], "action": "survey"})
    page = owner_client.get(response.url, follow=True).content.decode()
    assert "1 customer will get the e-mail" in page


def test_the_customer_page_explains_the_score_and_shows_the_timeline(owner_client, scored):
    _, (ana, *_rest) = scored
    now = timezone.now()
    Order.objects.create(
        customer=ana, external_id="o1", occurred_at=now - timedelta(days=3), amount=42
    )
    Interaction.objects.create(
        customer=ana, kind="call", occurred_at=now - timedelta(days=1), subject="Check-in call"
    )
    page = owner_client.get(f"/customers/{ana.pk}/").content.decode()
    assert "Ana Red explained." in page and "Engagement (recent activity) 20" in page
    assert page.index("Check-in call") < page.index("42.00")  # newest first


def test_the_timeline_loads_older_events_page_by_page(owner_client):
    customer = make_customer()
    start = timezone.now() - timedelta(days=100)
    for day in range(45):
        Order.objects.create(
            customer=customer,
            external_id=f"t{day}",
            occurred_at=start + timedelta(days=day),
            amount=day + 1,
        )
    page = owner_client.get(f"/customers/{customer.pk}/").content.decode()
    assert page.count('<li class="order">') == 20 and 'hx-trigger="revealed"' in page
    cursor = page.split("timeline/?before=")[1].split('"')[0]
    more = owner_client.get(f"/customers/{customer.pk}/timeline/?before={cursor}", headers=HTMX)
    second = more.content.decode()
    assert second.count('<li class="order">') == 20 and "<html" not in second
    next_cursor = second.split("before=")[1].split('"')[0]
    third = owner_client.get(
        f"/customers/{customer.pk}/timeline/?before={next_cursor}"
    ).content.decode()
    assert third.count('<li class="order">') == 5 and "revealed" not in third


def test_adding_a_note_with_htmx_returns_the_new_timeline(owner_client, scored):
    _, (ana, *_rest) = scored
    response = owner_client.post(
        f"/customers/{ana.pk}/note/",
        {"kind": "call", "subject": "Talked about renewal"},
        headers=HTMX,
    )
    body = response.content.decode()
    assert "Talked about renewal" in body and "Saved." in body and "<html" not in body
    assert Interaction.objects.get(customer=ana).kind == "call"
    invalid = owner_client.post(f"/customers/{ana.pk}/note/", {"kind": "call"}, headers=HTMX)
    assert "This field is required" in invalid.content.decode()
    assert Interaction.objects.count() == 1


def test_editing_a_customer_saves_tags(owner_client, scored):
    _, (ana, *_rest) = scored
    data = {
        "name": "Ana R.",
        "email": "ana@example.com",
        "locale": "en",
        "plan": "Pro",
        "mrr": "10",
        "lifecycle_stage": "active",
        "tags_text": "vip, beta",
    }
    assert owner_client.post(f"/customers/{ana.pk}/edit/", data).status_code == 302
    ana.refresh_from_db()
    assert (ana.name, ana.tags) == ("Ana R.", ["vip", "beta"])
    bad = owner_client.post(f"/customers/{ana.pk}/edit/", {**data, "email": "not-an-email"})
    assert bad.status_code == 200 and "Enter a valid email address" in bad.content.decode()


def test_gdpr_export_and_delete_with_confirmation(owner_client, scored):
    _, (ana, *_rest) = scored
    Order.objects.create(customer=ana, external_id="o1", occurred_at=timezone.now(), amount=42)
    export = owner_client.get(f"/customers/{ana.pk}/export.json")
    data = json.loads(export.content)
    assert "attachment" in export["Content-Disposition"]
    assert data["customer"]["name"] == "Ana Red" and data["orders"][0]["amount"] == "42.00"
    owner_client.post(f"/customers/{ana.pk}/delete/", {"confirm": "wrong"})
    assert Customer.objects.filter(pk=ana.pk).exists()
    owner_client.post(f"/customers/{ana.pk}/delete/", {"confirm": ana.external_id})
    assert not Customer.objects.filter(pk=ana.pk).exists()
    assert (
        not Order.objects.exists() and not CustomerScore.objects.filter(customer_id=ana.pk).exists()
    )


def test_segments_page_and_saving_the_lists_filters(owner_client, scored):
    page = owner_client.get("/segments/").content.decode()
    assert 'id="rfm-grid"' in page and "typical customers" in page and "Champions" in page
    owner_client.post("/segments/new/?health=red&plan=Pro&sort=clv", {"name": "Pro in trouble"})
    segment = SavedSegment.objects.get()
    assert segment.filters == {"health": "red", "plan": "Pro"}
    assert [c.name for c in segment_customers(segment)] == ["Ana Red"]
    assert "Pro in trouble" in owner_client.get("/segments/").content.decode()


def test_a_new_survey_takes_the_defaults_from_settings(owner_client):
    account = AccountSettings.load()
    account.survey_recontact_days = 45
    account.save()
    assert 'value="45"' in owner_client.get("/surveys/new/").content.decode()
    response = owner_client.post(
        "/surveys/new/",
        {
            "name": "CSAT",
            "kind": "csat",
            "question_en": "Happy?",
            "recontact_days": 45,
            "link_days": 14,
            "reminder_days": 3,
        },
    )
    survey = Survey.objects.get()
    assert response.url == f"/surveys/{survey.pk}/" and survey.link_days == 14


def test_sending_previews_who_is_skipped_and_why_then_sends(
    owner_client, scored, django_capture_on_commit_callbacks
):
    _, (ana, bo, cy) = scored
    Customer.objects.filter(pk=bo.pk).update(email="")
    Customer.objects.filter(pk=cy.pk).update(survey_opt_out=True)
    survey = Survey.objects.create(name="NPS", kind="nps", question_en="Recommend us?")
    preview = owner_client.get(
        f"/surveys/{survey.pk}/send/?audience=all", headers=HTMX
    ).content.decode()
    assert "1 customer will get the e-mail" in preview
    assert "1 — no e-mail address" in preview and "1 — opted out" in preview
    assert not mail.outbox
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(f"/surveys/{survey.pk}/send/", {"audience": "all"})
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [ana.email]
    listing = owner_client.get("/surveys/").content.decode()
    row = listing.split("NPS</a>")[1].split("</tr>")[0]
    assert [cell.split("<")[0] for cell in row.split('class="num">')[1:4]] == ["1", "2", "0"]


def test_the_results_page_shows_the_score_with_its_margin_and_filters_comments(owner_client):
    survey = Survey.objects.create(name="NPS", kind="nps", question_en="Recommend us?")
    for score, comment in [
        (10, "Love the app"),
        (9, ""),
        (2, "Support was slow and the app keeps crashing."),
    ]:
        invitation, _ = SurveyInvitation.create_for(survey, make_customer())
        SurveyInvitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now())
        SurveyResponse.objects.create(
            invitation=invitation,
            customer=invitation.customer,
            kind="nps",
            score=score,
            comment=comment,
            sentiment=-0.6 if score < 5 else 0.6,
        )
    page = owner_client.get(f"/surveys/{survey.pk}/").content.decode()
    assert "33.3" in page and "±" in page and "few answers" in page
    negative = owner_client.get(
        f"/surveys/{survey.pk}/?mood=negative", headers=HTMX
    ).content.decode()
    assert (
        "keeps crashing" in negative and "Love the app" not in negative and "<html" not in negative
    )


def test_settings_validate_and_save_weights_rules_and_account(owner_client):
    page = owner_client.get("/settings/").content.decode()
    assert "Run scoring now" in page and "Renewal coming up" in page
    form = {
        "inactive_after_days": 120,
        "horizon_days": 90,
        "clv_months": 12,
        "monthly_discount": 0.01,
        "nightly_hour": 5,
        "survey_recontact_days": 60,
        "survey_link_days": 30,
        "currency": "eur",
        "time_zone": "Asia/Shanghai",
        "weight_engagement": 1,
        "weight_purchase_trend": 1,
        "weight_satisfaction": 1,
        "weight_support": 0,
        "weight_churn_risk": 2,
        "threshold_green": 75,
        "threshold_yellow": 45,
        "rule_renewal_days": 14,
        "rule_onboarding_days": "7, 14, 30",
        "rule_detractor_enabled": "on",
    }
    for rule, value in [
        ("detractor_due_days", 2),
        ("detractor_lookback_days", 14),
        ("health_drop_points", 20),
        ("value_at_risk_top_share", 0.05),
        ("value_at_risk_min_value", 50),
        ("no_contact_days", 60),
        ("no_contact_top_share", 0.1),
        ("ticket_open_days", 3),
        ("promoter_lookback_days", 14),
    ]:
        form[f"rule_{rule}"] = value
    bad = owner_client.post("/settings/", {**form, "threshold_yellow": 80})
    assert bad.status_code == 200 and "Yellow must start below green." in bad.content.decode()
    assert owner_client.post("/settings/", form).status_code == 302
    account = AccountSettings.load()
    assert account.currency == "EUR" and account.zone.key == "Asia/Shanghai"
    assert account.health_weights["churn_risk"] == 2 and account.health_thresholds == {
        "green": 75,
        "yellow": 45,
    }
    stored = account.followup_rules
    assert rules.params(stored, "renewal") == {"enabled": False, "days": 14}
    assert rules.params(stored, "onboarding")["days"] == [7, 14, 30]
    assert rules.params(stored, "detractor")["enabled"]


def test_run_scoring_now_starts_a_run_and_the_status_partial_reports_it(
    owner_client, django_capture_on_commit_callbacks
):
    make_customer()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post("/settings/run/", headers=HTMX)
    assert response.status_code == 200 and b"<html" not in response.content
    run = ScoringRun.objects.get()
    assert run.status == "succeeded"  # in-process without Redis
    status = owner_client.get("/settings/run/status/", headers=HTMX).content.decode()
    assert "Last run finished" in status and "Run scoring now" in status


def test_the_import_page_previews_the_file_and_lists_row_errors(
    owner_client, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    csv_file = tmp_path / "customers.csv"
    csv_file.write_text("external_id,name,email\nc1,Ana,ana@example.com\nc2,Bo,not-an-email\n")
    with csv_file.open("rb") as handle, django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post("/import/", {"kind": "customers", "file": handle})
    job = ImportJob.objects.get()
    page = owner_client.get(response.url).content.decode()
    assert 'id="import-preview"' in page and "not-an-email" in page
    assert job.status == "failed" and '<td class="num">3</td>' in page  # the bad row's number
    assert not Customer.objects.filter(external_id__in=["c1", "c2"]).exists()


def test_a_survey_can_be_sent_to_one_customer_from_their_page(owner_client, scored):
    _, (ana, *_rest) = scored
    survey = Survey.objects.create(name="NPS", kind="nps", question_en="Recommend us?")
    page = owner_client.get(f"/customers/{ana.pk}/").content.decode()
    link = f"/surveys/send-to-customer/{ana.pk}/"
    assert link in page
    send_page = owner_client.get(link, follow=True)
    assert send_page.redirect_chain[-1][0] == (
        f"/surveys/{survey.pk}/send/?audience=customer&customer={ana.pk}"
    )
    assert "1 customer will get the e-mail" in send_page.content.decode()


def test_pages_use_the_accounts_time_zone_and_currency(owner_client, scored):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    _, (ana, *_rest) = scored
    Interaction.objects.create(
        customer=ana,
        kind="call",
        subject="Late call",
        occurred_at=datetime(2026, 1, 1, 0, 30, tzinfo=ZoneInfo("UTC")),
    )
    account = AccountSettings.load()
    account.time_zone, account.currency = "Asia/Shanghai", "EUR"
    account.save()  # also refreshes the cached display settings
    page = owner_client.get(f"/customers/{ana.pk}/").content.decode()
    assert "01/01/2026 8:30 a.m." in page
    assert "EUR" in owner_client.get("/").content.decode()


def test_pages_that_also_serve_fragments_vary_on_the_htmx_header(owner_client, scored):
    for url in ("/customers/", "/followups/"):
        assert "HX-Request" in owner_client.get(url)["Vary"]


def test_a_malformed_audience_shows_the_form_again_not_an_error(owner_client):
    survey = Survey.objects.create(name="NPS", kind="nps", question_en="Recommend us?")
    for query in ("audience=segment&segment=abc", "audience=customer&customer=1%20OR%201=1"):
        page = owner_client.get(f"/surveys/{survey.pk}/send/?{query}")
        assert page.status_code == 200 and "Choose who gets the survey" in page.content.decode()
    assert (
        owner_client.post(
            f"/surveys/{survey.pk}/send/", {"audience": "segment", "segment": "x"}
        ).status_code
        == 200
    )


def test_the_results_page_counts_every_sendings_outcome_in_one_query(owner_client):
    from feedback.models import SurveySend

    survey = Survey.objects.create(name="NPS", kind="nps", question_en="Recommend us?")

    def queries_with(sends: int) -> int:
        for _ in range(sends):
            send = SurveySend.objects.create(survey=survey, audience="all", sent=1)
            invitation, _token = SurveyInvitation.create_for(survey, make_customer(), send=send)
            SurveyInvitation.objects.filter(pk=invitation.pk).update(opened_at=timezone.now())
        with CaptureQueriesContext(connection) as queries:
            page = owner_client.get(f"/surveys/{survey.pk}/").content.decode()
        assert page.count('<td class="num">1</td>') >= 2 * sends  # sent 1, opened 1
        return len(queries)

    owner_client.get("/")  # the account's display settings are cached from here on
    assert queries_with(2) == queries_with(8)


def test_the_health_histogram_is_coloured_by_the_runs_bands(owner_client, scored):
    run, _ = scored
    run.summary["health_thresholds"] = {"green": 80, "yellow": 50}
    run.save()
    page = owner_client.get("/").content.decode()
    chart = page.split('id="health-chart"')[1].split("</svg>")[0]
    colours = [part.split('"')[0] for part in chart.split('class="bar ')[1:]]
    assert colours == ["red"] * 5 + ["yellow"] * 3 + ["green"] * 2
