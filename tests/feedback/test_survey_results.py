"""Survey results: answered responses only, uncertainty shown, comments filterable, safe export."""

import html
import re

import pytest

from feedback.actions import record_response
from feedback.models import Survey, SurveyInvitation
from tests.conftest import HTMX, make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered():
    survey = Survey.objects.create(name="NPS", kind="nps", question_en="Recommend us?")
    answers = [
        (10, "Great support"),
        (9, "Great support as always"),
        (8, "ok"),
        (3, "Support was slow and the app keeps crashing."),
        (6, "=cmd|' /C calc'!A0"),
    ]
    for score, comment in answers:
        invitation, _ = SurveyInvitation.create_for(survey, make_customer())
        SurveyInvitation.objects.filter(pk=invitation.pk).update(sent_at=invitation.created_at)
        record_response(invitation, score, comment, "en")
    unanswered, _ = SurveyInvitation.create_for(survey, make_customer())
    SurveyInvitation.objects.filter(pk=unanswered.pk).update(sent_at=unanswered.created_at)
    return survey


def test_results_count_answered_responses_with_a_margin_and_response_rate(owner_client, answered):
    data = owner_client.get(f"/surveys/{answered.pk}/results.json").json()
    assert (
        data["answers"] == 5
        and data["invited"] == 6
        and data["response_rate"] == pytest.approx(5 / 6, abs=1e-4)
    )
    assert data["score"]["nps"] == 0.0  # 2 promoters, 2 detractors of 5
    assert data["score"]["margin"] > 50  # five answers: very uncertain, and it shows
    assert data["distribution"] == {"3": 1, "6": 1, "8": 1, "9": 1, "10": 1}
    assert dict(data["themes"]["promoter"]) == {"great support": 2}  # a phrase, with its count


def test_export_filters_by_group_and_mood_and_is_formula_safe(owner_client, answered):
    body = b"".join(
        owner_client.get(f"/surveys/{answered.pk}/export.csv").streaming_content
    ).decode()
    assert body.count("\n") == 6 and "'=cmd" in body and ",=cmd" not in body
    negative = b"".join(
        owner_client.get(
            f"/surveys/{answered.pk}/export.csv?group=detractor&mood=negative"
        ).streaming_content
    ).decode()
    assert "keeps crashing" in negative and "Great support" not in negative


def test_results_need_a_login(client, answered):
    assert client.get(f"/surveys/{answered.pk}/results.json").status_code == 302


def test_few_answers_are_said_instead_of_a_huge_margin_and_counts_have_whole_ticks(
    owner_client, answered
):
    page = owner_client.get(f"/surveys/{answered.pk}/").content.decode()
    card = page[page.index('id="survey-score"') :][:1500]
    value = re.search(r'<span class="value">(.*?)</span>\s*<span class="sub">', card).group(1)
    assert "few answers (fewer than 30)" in card and value == "0.0"  # no "± 64"
    distribution = page[page.index('id="distribution"') :]
    distribution = distribution[: distribution.index("</section>")]
    ticks = re.findall(r'text-anchor="end">([^<]*)</text>', distribution)
    assert ticks and all(t.strip().isdigit() for t in ticks), ticks
    assert len(set(ticks)) == len(ticks)  # 0, 1 — not 0, 0, 0, 1, 1


def test_every_comment_can_be_read_page_by_page_with_the_filters_kept(owner_client):
    survey = Survey.objects.create(name="NPS", kind="nps", question_en="Recommend us?")
    for i in range(120):
        invitation, _ = SurveyInvitation.create_for(survey, make_customer())
        record_response(invitation, 2 if i % 2 else 10, f"comment number {i:03d}", "en")
    page = owner_client.get(f"/surveys/{survey.pk}/?group=detractor").content.decode()
    page = page[page.index('<div id="comments">') :]
    page = page[: page.index("</ul>")]
    assert "60 comments" in page and page.count("comment number") == 50
    more = re.search(r'hx-get="\?([^"]+)" hx-target="#comments-more"', page).group(1)
    assert html.unescape(more) == "group=detractor&page=2"
    second = owner_client.get(
        f"/surveys/{survey.pk}/?{html.unescape(more)}",
        headers={**HTMX, "HX-Target": "comments-more"},
    ).content.decode()
    assert second.count("comment number") == 10 and "comments-more" not in second
    assert "<html" not in second and 'id="comment-list"' not in second
    shown = set(re.findall(r"comment number (\d+)", page + second))
    assert shown == {f"{i:03d}" for i in range(1, 120, 2)}  # every detractor comment, once
