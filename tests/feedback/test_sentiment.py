"""Comment sentiment, measured on the test half of our labelled comments (tests/data),
which the model never trains on (feedback/sentiment_data holds what it learns from).
The lexicon alone, plain VADER and "always the commonest label" are the baselines."""

import csv
from collections import Counter
from pathlib import Path

import pytest

from feedback.models import Survey, SurveyInvitation, SurveyResponse
from feedback.sentiment import (
    label,
    lexicon_score,
    sentiment,
    terms,
    themes,
    training_comments,
)
from tests.conftest import make_customer

DATA = Path(__file__).resolve().parents[1] / "data"
LABELS = ("negative", "neutral", "positive")


def held_out(language):
    with open(DATA / f"sentiment_{language}_test.tsv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def accuracy(rows, scorer) -> float:
    return sum(label(scorer(r["text"])) == r["label"] for r in rows) / len(rows)


def confusion(rows) -> str:
    counts = Counter((r["label"], label(sentiment(r["text"]))) for r in rows)
    lines = [f"{'labelled / scored':18}" + "".join(f"{name:>10}" for name in LABELS)]
    for truth in LABELS:
        lines.append(f"{truth:18}" + "".join(f"{counts[truth, said]:>10}" for said in LABELS))
    return "\n".join(lines)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_held_out_half_was_never_trained_on(language):
    rows = held_out(language)
    assert len(rows) >= 150 and {r["label"] for r in rows} == set(LABELS)
    trained, _labels = training_comments(language)
    assert len(trained) >= 300
    assert not {r["text"] for r in rows} & set(trained)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_accuracy_on_comments_the_model_never_saw(language):
    rows = held_out(language)
    measured = accuracy(rows, sentiment)
    lexicon = accuracy(rows, lexicon_score)
    commonest = Counter(r["label"] for r in rows).most_common(1)[0][1] / len(rows)
    print(
        f"\n{language}: {measured:.1%} of {len(rows)} held-out comments "
        f"(lexicon alone {lexicon:.1%}, always the commonest label {commonest:.1%})\n"
        + confusion(rows)
    )
    assert measured > max(lexicon, commonest)
    assert measured >= 0.85


def test_english_beats_plain_vader_on_support_complaints():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    plain = SentimentIntensityAnalyzer()
    rows = held_out("en")
    baseline = accuracy(rows, lambda text: plain.polarity_scores(text)["compound"])
    assert accuracy(rows, sentiment) > baseline + 0.1
    assert plain.polarity_scores("Support was slow and the app keeps crashing.")["compound"] > 0
    assert label(sentiment("Support was slow and the app keeps crashing.")) == "negative"


def test_the_chinese_lexicon_handles_negation_and_degree_words():
    assert label(lexicon_score("推荐")) == "positive"
    assert label(lexicon_score("不推荐")) == "negative"
    assert lexicon_score("太慢了") < lexicon_score("慢")
    assert label(lexicon_score("没有问题，很满意")) == "positive"
    assert label(sentiment("没有问题，很满意")) == "positive"


def test_empty_comments_have_no_sentiment_and_scores_are_plain_floats():
    assert sentiment("") is None and sentiment("   ") is None and label(None) == "neutral"
    # A numpy float would reach the database driver as "np.float64(...)" on Postgres.
    assert type(sentiment("Great support")) is float and type(sentiment("还行")) is float


def test_themes_are_phrases_counted_once_per_comment_in_both_languages():
    comments = [
        "The refund took weeks. Refund took weeks, honestly.",
        "My refund took weeks and support was slow",
        "Support was slow to answer",
        "Great support team",
        "客服回复太慢了",
        "客服回复很慢",
        "客服很好",
    ]
    top = dict(themes(comments, top=10))
    assert top["refund took weeks"] == 2  # once per comment, not three times
    assert "refund took" not in top and "took weeks" not in top  # inside the longer one
    assert top["support was slow"] == 2
    assert top["客服回复"] == 2 and top["客服"] == 3
    assert all(n >= 2 for n in top.values())  # a phrase in one comment is no theme
    assert "was slow to" not in terms("Support was slow to answer")  # stop word at an end


@pytest.mark.django_db
def test_an_answer_stores_the_sentiment_of_its_comment(client):

    survey = Survey.objects.create(name="NPS", kind="nps", question_en="Recommend us?")
    _, token = SurveyInvitation.create_for(survey, make_customer())
    client.post(
        f"/s/{token}/", {"score": "4", "comment": "Support was slow and the app keeps crashing."}
    )
    assert SurveyResponse.objects.get().sentiment < -0.3
