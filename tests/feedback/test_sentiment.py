"""Comment sentiment, measured on 109 labelled comments per language written for this
project (tests/data). Plain VADER is the baseline for English."""

import csv
from pathlib import Path

import pytest

from feedback.sentiment import label, sentiment, terms, themes

DATA = Path(__file__).resolve().parents[1] / "data"


def labelled(language):
    with open(DATA / f"sentiment_{language}.tsv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def accuracy(rows, scorer) -> float:
    return sum(label(scorer(r["text"])) == r["label"] for r in rows) / len(rows)


@pytest.mark.parametrize(("language", "minimum"), [("en", 0.85), ("zh", 0.9)])
def test_accuracy_on_our_labelled_comments(language, minimum):
    rows = labelled(language)
    assert len(rows) >= 100
    assert {r["label"] for r in rows} == {"positive", "negative", "neutral"}
    measured = accuracy(rows, sentiment)
    print(f"{language}: {measured:.1%} of {len(rows)} comments")
    assert measured >= minimum


def test_english_beats_plain_vader_on_support_complaints():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    plain = SentimentIntensityAnalyzer()
    rows = labelled("en")
    baseline = accuracy(rows, lambda text: plain.polarity_scores(text)["compound"])
    assert accuracy(rows, sentiment) > baseline + 0.1
    assert plain.polarity_scores("Support was slow and the app keeps crashing.")["compound"] > 0
    assert label(sentiment("Support was slow and the app keeps crashing.")) == "negative"


def test_chinese_negation_and_degree_words():
    assert label(sentiment("推荐")) == "positive"
    assert label(sentiment("不推荐")) == "negative"
    assert sentiment("太慢了") < sentiment("慢")
    assert label(sentiment("没有问题，很满意")) == "positive"


def test_empty_comments_have_no_sentiment():
    assert sentiment("") is None and sentiment("   ") is None and label(None) == "neutral"


def test_themes_count_terms_once_per_comment_in_both_languages():
    comments = [
        "Support was slow, slow, slow",
        "Slow delivery",
        "Great support",
        "客服回复太慢了",
        "客服很好",
    ]
    top = dict(themes(comments, top=5))
    assert top["slow"] == 2 and top["support"] == 2 and top["客服"] == 2
    assert "was" not in terms("Support was slow")


@pytest.mark.django_db
def test_an_answer_stores_the_sentiment_of_its_comment(client):
    from feedback.models import Survey, SurveyInvitation, SurveyResponse
    from tests.conftest import make_customer

    survey = Survey.objects.create(name="NPS", kind="nps", question_en="Recommend us?")
    _, token = SurveyInvitation.create_for(survey, make_customer())
    client.post(
        f"/s/{token}/", {"score": "4", "comment": "Support was slow and the app keeps crashing."}
    )
    assert SurveyResponse.objects.get().sentiment < -0.3
