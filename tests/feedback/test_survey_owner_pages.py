"""The owner's survey pages: defaults, sending, results."""

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import Customer
from feedback.models import Survey, SurveyInvitation, SurveyResponse
from metrics.models import AccountSettings, CustomerScore
from segmentation.models import SavedSegment
from tests.conftest import HTMX, make_customer

pytestmark = pytest.mark.django_db


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
    assert (
        'name="confirm" value="1"' in preview and "Yes, e-mail this survey to 1 customer" in preview
    )
    with django_capture_on_commit_callbacks(execute=True):
        unconfirmed = owner_client.post(
            f"/surveys/{survey.pk}/send/", {"audience": "all"}, follow=True
        )
    assert "Tick the box that confirms" in unconfirmed.content.decode() and not mail.outbox
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(f"/surveys/{survey.pk}/send/", {"audience": "all", "confirm": "1"})
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [ana.email]
    listing = owner_client.get("/surveys/").content.decode()
    row = listing.split("NPS</a>")[1].split("</tr>")[0]
    assert [cell.split("<")[0] for cell in row.split('class="num">')[1:4]] == ["1", "2", "0"]


def test_saving_a_survey_without_chinese_warns_who_will_get_it_in_english(owner_client):
    make_customer(locale="zh-hans"), make_customer(locale="zh-hans"), make_customer()
    form = {
        "name": "NPS",
        "kind": "nps",
        "question_en": "Recommend us?",
        "recontact_days": 60,
        "link_days": 30,
        "reminder_days": 0,
    }
    page = owner_client.post("/surveys/new/", form, follow=True).content.decode()
    assert (
        "The survey has no complete Chinese text: 2 customers who read Chinese "
        "will get it wholly in English." in page
    )
    complete = {**form, "name": "NPS 2", "question_zh": "您会推荐我们吗？"}
    page = owner_client.post("/surveys/new/", complete, follow=True).content.decode()
    assert "no complete Chinese text" not in page


def test_everyone_eligible_leaves_churned_customers_out_unless_asked(owner_client, scored):
    run, (ana, bo, cy) = scored
    Customer.objects.filter(pk=bo.pk).update(lifecycle_stage="churned")
    CustomerScore.objects.filter(run=run, customer=cy).update(behaviour="churned")
    survey = Survey.objects.create(name="NPS", kind="nps", question_en="Recommend us?")
    url = f"/surveys/{survey.pk}/send/?audience=all"
    preview = owner_client.get(url, headers=HTMX).content.decode()
    assert "1 customer will get the e-mail" in preview and "2 — churned" in preview
    everyone = owner_client.get(url + "&include_churned=1", headers=HTMX).content.decode()
    assert "3 customers will get the e-mail" in everyone and 'value="3"' in everyone
    segment = SavedSegment.objects.create(name="All", filters={})
    chosen = owner_client.get(
        f"/surveys/{survey.pk}/send/?audience=segment&segment={segment.pk}", headers=HTMX
    ).content.decode()
    assert "3 customers will get the e-mail" in chosen  # a chosen segment is sent as chosen


def test_send_a_survey_from_a_customer_asks_which_survey_when_there_are_several(
    owner_client, scored
):
    _, (ana, *_rest) = scored
    only = Survey.objects.create(name="NPS", kind="nps", question_en="Recommend us?")
    response = owner_client.get(f"/surveys/send-to-customer/{ana.pk}/")
    assert response.url == f"/surveys/{only.pk}/send/?audience=customer&customer={ana.pk}"
    csat = Survey.objects.create(name="After support", kind="csat", question_en="Happy?")
    page = owner_client.get(f"/surveys/send-to-customer/{ana.pk}/").content.decode()
    assert "Which survey?" in page and "After support" in page and "NPS" in page
    assert f"/surveys/{csat.pk}/send/?audience=customer&amp;customer={ana.pk}" in page


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


def test_a_csat_survey_with_few_answers_shows_percent_and_says_few_not_a_margin(owner_client):
    survey = Survey.objects.create(name="CSAT", kind="csat", question_en="Satisfied?")
    for score in (5, 5, 4, 2):
        invitation, _ = SurveyInvitation.create_for(survey, make_customer())
        SurveyInvitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now())
        SurveyResponse.objects.create(
            invitation=invitation, customer=invitation.customer, kind="csat", score=score
        )
    page = owner_client.get(f"/surveys/{survey.pk}/").content.decode()
    card = page[page.index('id="survey-score"') :][:900]
    assert '<span class="value">75%</span>' in card  # four answers: no "± 35"
    assert "few answers (fewer than 30): treat as a rough signal" in card
