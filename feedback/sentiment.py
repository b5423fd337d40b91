"""Offline comment sentiment, -1 (negative) .. 1 (positive), English and Chinese.

English: VADER's lexicon (shipped inside the vaderSentiment package) plus a small
customer-support vocabulary it lacks ("slow", "crashing", "refund" ... score 0 in
plain VADER, so "Support was slow and the app keeps crashing." came out positive).
Chinese: jieba word segmentation and our own lexicon with negators ("不推荐") and
degree words ("太慢"). Accuracy on our labelled comments (tests/data) is measured in
tests/feedback/test_sentiment.py.
"""

from __future__ import annotations

import logging
import math
import re
from functools import lru_cache

NEUTRAL_BAND = 0.05

SUPPORT_VOCABULARY = {  # valence on VADER's -4..4 scale
    "slow": -1.8,
    "slower": -1.8,
    "slowly": -1.2,
    "crash": -2.2,
    "crashes": -2.2,
    "crashing": -2.2,
    "crashed": -2.2,
    "bug": -1.8,
    "bugs": -1.8,
    "buggy": -2.0,
    "broken": -2.2,
    "broke": -2.0,
    "refund": -1.2,
    "cancel": -1.5,
    "cancelling": -1.6,
    "canceling": -1.6,
    "cancelled": -1.2,
    "late": -1.5,
    "expensive": -1.8,
    "overpriced": -2.2,
    "missing": -1.5,
    "lost": -1.6,
    "error": -1.8,
    "errors": -1.8,
    "fails": -1.8,
    "failed": -1.8,
    "damaged": -2.0,
    "confusing": -1.8,
    "complicated": -1.6,
    "useless": -2.2,
    "waiting": -1.0,
    "waited": -1.2,
    "forever": -1.5,
    "mess": -2.0,
    "hidden": -1.2,
    "fees": -0.8,
    "stopped": -1.5,
    "dies": -1.8,
    "hard": -1.2,
    "ridiculous": -2.2,
    "worse": -2.0,
    "nobody": -1.2,
    "hold": -0.6,
    "logging": -0.3,
    "work": 0.6,
    "works": 0.8,
    "quick": 1.4,
    "quickly": 1.2,
    "fast": 1.5,
    "faster": 1.5,
    "smooth": 1.6,
    "reliable": 1.8,
    "intuitive": 1.8,
    "responsive": 1.6,
    "fixed": 1.4,
    "solved": 1.6,
    "saves": 1.4,
    "five": 0.8,
    "stars": 1.2,
    "recommend": 1.5,
}


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update(SUPPORT_VOCABULARY)
    return analyzer


ZH_POSITIVE = {
    "好": 1.0,
    "很好": 1.5,
    "不错": 1.5,
    "谢谢": 1.2,
    "感谢": 1.2,
    "快": 1.0,
    "很快": 1.5,
    "热情": 1.5,
    "喜欢": 1.5,
    "顺手": 1.5,
    "解决": 1.2,
    "值": 1.0,
    "值得": 1.2,
    "简单": 1.0,
    "一致": 0.8,
    "乐于助人": 1.5,
    "节省": 1.2,
    "性价比": 1.2,
    "满意": 1.8,
    "简洁": 1.2,
    "推荐": 1.5,
    "稳定": 1.2,
    "好用": 1.8,
    "棒": 2.0,
    "太棒了": 2.5,
    "流畅": 1.5,
    "按时": 1.0,
    "实惠": 1.5,
    "热心": 1.5,
    "友好": 1.5,
    "正是": 0.8,
    "加油": 1.2,
    "好多了": 1.8,
    "精美": 1.5,
    "扎实": 1.2,
    "赞": 2.0,
    "精良": 1.5,
    "修好": 1.5,
    "好评": 2.0,
    "方便": 1.2,
    "及时": 1.2,
    "开心": 1.8,
    "爱": 2.0,
    "合适": 1.2,
    "一流": 2.0,
    "有效": 1.2,
    "超级": 0.5,
    "快速": 1.2,
    "优秀": 2.0,
}
ZH_NEGATIVE = {
    "慢": -1.5,
    "太慢": -2.0,
    "闪退": -2.5,
    "崩溃": -2.5,
    "卡": -1.5,
    "贵": -1.5,
    "太贵": -2.0,
    "晚": -1.2,
    "扣款": -0.8,
    "重复扣款": -2.0,
    "失败": -1.8,
    "退出": -0.8,
    "没反应": -2.0,
    "上涨": -1.2,
    "退款": -1.2,
    "坏": -2.0,
    "打不通": -2.0,
    "难": -1.5,
    "丢失": -2.0,
    "丢": -1.8,
    "取消": -1.2,
    "开错": -2.0,
    "错": -1.5,
    "问题": -1.0,
    "破损": -2.0,
    "复杂": -1.5,
    "放弃": -1.8,
    "差": -2.0,
    "不值": -2.0,
    "不值得": -2.0,
    "不了": -1.5,
    "没用": -2.0,
    "报错": -2.0,
    "没到": -1.5,
    "失望": -2.2,
    "难用": -2.2,
    "烦": -1.8,
    "离谱": -2.2,
    "不对": -1.8,
    "没电": -1.8,
    "糟": -2.0,
    "糟糕": -2.5,
    "一团糟": -2.5,
    "隐藏费用": -2.0,
    "不能用": -2.2,
    "没人": -1.8,
    "不推荐": -2.0,
    "老是": -0.8,
    "很差": -2.5,
    "态度": -0.3,
    "麻烦": -1.5,
    "投诉": -2.0,
    "不好": -1.8,
    "垃圾": -2.5,
    "延迟": -1.5,
}
ZH_NEGATORS = {"不", "没", "没有", "别", "无", "未"}
ZH_DEGREE = {
    "很": 1.5,
    "非常": 1.8,
    "太": 1.6,
    "超级": 1.8,
    "特别": 1.6,
    "十分": 1.6,
    "更": 1.3,
    "最": 1.8,
    "极": 1.8,
    "好": 1.2,
}


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    for word in (*ZH_POSITIVE, *ZH_NEGATIVE):
        jieba.add_word(word)
    return jieba


CJK = re.compile(r"[\u4e00-\u9fff]")


@lru_cache(maxsize=1)
def _words_longest_first():
    return sorted({**ZH_POSITIVE, **ZH_NEGATIVE}.items(), key=lambda item: -len(item[0]))


def _inner_word(token: str) -> tuple[float, str]:
    """Segmentation sometimes glues a degree word or negator to a sentiment word
    ("很难", "太赞"): find the sentiment word inside and return it with what precedes it."""
    for word, value in _words_longest_first():
        at = token.find(word)
        if at >= 0:
            return value, token[:at]
    return 0.0, ""


def chinese_score(text: str) -> float:
    total, weight, negate = 0.0, 1.0, False
    for token in _jieba().lcut(text):
        if token in ZH_NEGATORS:
            negate = True
            continue
        if token in ZH_DEGREE and token not in ZH_POSITIVE:
            weight *= ZH_DEGREE[token]
            continue
        value = ZH_POSITIVE.get(token) or ZH_NEGATIVE.get(token)
        if not value and len(token) > 1:
            value, prefix = _inner_word(token)
            if value and any(n in prefix for n in ZH_NEGATORS):
                value = -value
            if value:
                weight *= max((ZH_DEGREE.get(c, 1.0) for c in prefix), default=1.0)
        if value:
            total += (-value if negate else value) * weight
        if value or not token.strip() or re.fullmatch(r"[，。！？,.!?；;、]", token):
            weight, negate = 1.0, False
    return math.tanh(total / 2)


def load_lexicons() -> None:
    """Load VADER's lexicon and jieba's dictionary now (about a second) rather than on
    the first comment a customer sends. Web servers call this at start-up."""
    _vader()
    _jieba()


def sentiment(text: str) -> float | None:
    """-1..1, or None for an empty comment."""
    text = (text or "").strip()
    if not text:
        return None
    if CJK.search(text):
        return round(chinese_score(text), 4)
    return round(_vader().polarity_scores(text)["compound"], 4)


def label(score: float | None) -> str:
    if score is None or abs(score) < NEUTRAL_BAND:
        return "neutral"
    return "positive" if score > 0 else "negative"


EN_STOPWORDS = {
    "a",
    "an",
    "the",
    "and",
    "or",
    "but",
    "if",
    "to",
    "of",
    "in",
    "on",
    "at",
    "for",
    "with",
    "from",
    "by",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "it",
    "its",
    "this",
    "that",
    "these",
    "those",
    "i",
    "me",
    "my",
    "we",
    "our",
    "you",
    "your",
    "they",
    "them",
    "their",
    "he",
    "she",
    "his",
    "her",
    "not",
    "no",
    "so",
    "very",
    "too",
    "just",
    "again",
    "after",
    "before",
    "than",
    "then",
    "there",
    "here",
    "what",
    "when",
    "which",
    "who",
    "how",
    "all",
    "any",
    "some",
    "can",
    "could",
    "would",
    "should",
    "will",
    "did",
    "do",
    "does",
    "done",
    "had",
    "has",
    "have",
    "about",
    "into",
    "out",
    "up",
    "down",
    "over",
    "only",
    "also",
    "still",
    "much",
    "more",
    "most",
}
TOKEN = re.compile(r"[a-z][a-z'-]{2,}")


def terms(text: str) -> list[str]:
    """Content words of a comment: jieba words of two or more characters for Chinese,
    lower-case words without stop words for English."""
    if CJK.search(text):
        return [w for w in _jieba().lcut(text) if len(w) >= 2 and CJK.search(w)]
    return [w for w in TOKEN.findall(text.lower()) if w not in EN_STOPWORDS]


def themes(comments, top: int = 10) -> list[tuple[str, int]]:
    """The most frequent terms across comments, each counted once per comment."""
    from collections import Counter

    counts = Counter()
    for comment in comments:
        counts.update(set(terms(comment or "")))
    return counts.most_common(top)
