"""Offline comment sentiment, -1 (negative) .. 1 (positive), English and Chinese.

A small model per language (docs: README "Comment sentiment"): logistic regression on
character 1-4-grams, word 1-2-grams (English words after "not" marked as negated;
Chinese words from jieba) and lexicon features, trained at first use on the development
half of our labelled comments and the training comments beside it
(feedback/sentiment_data). The test half (tests/data) is never read here: its
accuracy, measured in tests/feedback/test_sentiment.py, is what the README reports.

The lexicon features: English, VADER's lexicon (shipped inside the vaderSentiment
package) plus a customer-support vocabulary it lacks ("slow", "crashing", "refund"
... score 0 in plain VADER); Chinese, jieba word segmentation and our own lexicon with
negators ("不推荐") and degree words ("太慢"); for both, the score of the clause after
"but" (mixed comments are judged by it), whether the comment asks something, and
how many of its words the lexicon knows.
"""

from __future__ import annotations

import csv
import logging
import math
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

NEUTRAL_BAND = 0.05

SUPPORT_VOCABULARY = {  # valence on VADER's -4..4 scale
    "freezes": -2.0,
    "frozen": -1.6,
    "snapped": -2.0,
    "wiped": -2.0,
    "pilling": -1.6,
    "joke": -1.6,
    "downhill": -2.0,
    "pity": -1.5,
    "shame": -1.5,
    "flimsy": -1.8,
    "leaks": -1.8,
    "faded": -1.4,
    "stale": -1.6,
    "blurry": -1.4,
    "scratches": -1.6,
    "crushed": -2.0,
    "locked": -1.2,
    "ignored": -2.0,
    "overcharged": -2.2,
    "charged": -0.8,
    "twice": -0.6,
    "never": -0.8,
    "again": -0.2,
    "regret": -2.2,
    "hassle": -1.8,
    "nightmare": -2.6,
    "unusable": -2.5,
    "unreliable": -2.2,
    "disappointing": -2.2,
    "dissapointed": -2.2,
    "terible": -2.5,
    "horible": -2.5,
    "anoying": -1.8,
    "smh": -1.5,
    "paywall": -1.5,
    "timing": -0.4,
    "rude": -2.2,
    "stuck": -1.6,
    "dead": -1.6,
    "pending": -0.8,
    "drains": -1.6,
    "hurt": -1.8,
    "swelled": -2.0,
    "copy-paste": -1.4,
    "blamed": -1.8,
    "excelent": 2.5,
    "awsome": 2.5,
    "awesom": 2.5,
    "amazng": 2.5,
    "amazin": 2.5,
    "realy": 0.3,
    "verry": 0.3,
    "gud": 1.5,
    "luv": 2.5,
    "thx": 1.6,
    "gr8": 2.5,
    "perfct": 2.5,
    "recomend": 1.5,
    "rock": 1.2,
    "changer": 1.2,
    "beyond": 1.2,
    "updated": 0.6,
    "painless": 1.6,
    "comfy": 1.6,
    "flawless": 2.4,
    "delighted": 2.6,
    "thoughtful": 1.6,
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
    "convenient": 1.6,
    "transformed": 1.8,
    "rip-off": -2.4,
    "ripoff": -2.4,
    "maze": -1.4,
    "lasted": 0.8,
    "handy": 1.5,
    "seamless": 1.9,
    "effortless": 1.9,
    "sturdy": 1.5,
    "durable": 1.5,
    "spotless": 1.6,
    "prompt": 1.3,
    "knowledgeable": 1.7,
    "attentive": 1.7,
    "tasty": 1.8,
    "crisp": 0.8,
    "cosy": 1.5,
    "cozy": 1.5,
    "snug": 1.2,
    "accurate": 1.3,
    "consistent": 1.0,
    "clunky": -1.6,
    "laggy": -1.8,
    "glitchy": -1.9,
    "flaky": -1.6,
    "fiddly": -1.3,
    "tedious": -1.6,
    "clumsy": -1.4,
    "sloppy": -1.8,
    "shoddy": -2.2,
    "leaking": -1.8,
    "ripped": -1.8,
    "cracked": -1.8,
    "dented": -1.6,
    "scratched": -1.6,
    "mouldy": -2.2,
    "moldy": -2.2,
    "soggy": -1.5,
    "smelly": -1.6,
    "loud": -0.8,
    "spammy": -1.6,
    "overdue": -1.2,
    "unanswered": -1.8,
    "unresolved": -1.6,
    "ghosted": -2.0,
    "chase": -1.2,
    "chasing": -1.2,
    "outage": -1.8,
    "downtime": -1.6,
    "timeout": -1.2,
    "glitch": -1.6,
    "glitches": -1.6,
    "lifesaver": 2.8,
    "gem": 2.0,
    "spot-on": 2.0,
    "sorted": 1.2,
    "legend": 2.0,
    "legends": 2.0,
    "superb": 2.8,
    "top-notch": 2.5,
    "hiccup": -0.6,
    "quirks": -0.4,
    "worthless": -2.4,
    "misleading": -2.0,
    "overpromised": -1.8,
    "sluggishly": -1.6,
    "incorrect": -1.4,
    "wrong": -1.6,
    "duplicate": -1.0,
    "duplicates": -1.0,
    "spammed": -1.8,
    "unhelpful": -2.0,
    "disorganised": -1.8,
    "disorganized": -1.8,
}


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update(SUPPORT_VOCABULARY)
    return analyzer


ZH_POSITIVE = {
    "给力": 2.0,
    "yyds": 2.5,
    "绝绝子": 2.5,
    "真香": 2.0,
    "回购": 1.8,
    "宝藏": 2.0,
    "闭眼入": 2.0,
    "666": 2.0,
    "良心": 1.8,
    "种草": 1.5,
    "强推": 2.0,
    "点赞": 2.0,
    "顺利": 1.5,
    "顺": 1.2,
    "透明": 1.2,
    "帮助": 1.2,
    "有帮助": 1.6,
    "印象深刻": 1.8,
    "超出预期": 2.2,
    "漂亮": 1.5,
    "好看": 1.2,
    "惊喜": 1.8,
    "完美": 2.2,
    "舒服": 1.5,
    "靠谱": 1.8,
    "专业": 1.5,
    "周到": 1.5,
    "耐心": 1.5,
    "用心": 1.5,
    "物超所值": 2.2,
    "爱不释手": 2.2,
    "牛": 1.8,
    "厉害": 1.5,
    "👍": 2.0,
    "❤️": 2.0,
    "😍": 2.0,
    "😊": 1.5,
    "🔥": 1.2,
    "🙏": 1.2,
    "👌": 1.2,
    "🎉": 1.5,
    "🤩": 2.0,
    "😁": 1.5,
    "👏": 1.5,
    "🥳": 1.5,
    "💯": 2.0,
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
    "到位": 1.8,
    "精致": 1.6,
    "省心": 1.8,
    "佩服": 1.8,
    "爽快": 1.6,
    "没话说": 2.0,
    "离不开": 1.8,
    "贴心": 1.8,
    "暖心": 1.8,
    "放心": 1.5,
    "安心": 1.5,
    "划算": 1.6,
    "清楚": 1.0,
    "清晰": 1.0,
    "明白": 0.8,
    "明明白白": 1.2,
    "耐用": 1.5,
    "结实": 1.5,
    "新鲜": 1.2,
    "好吃": 1.8,
    "美味": 1.8,
    "香": 1.0,
    "准时": 1.2,
    "迅速": 1.4,
    "高效": 1.6,
    "省时": 1.4,
    "省事": 1.5,
    "实在": 1.2,
    "诚信": 1.5,
    "愉快": 1.6,
    "惊艳": 2.0,
    "超值": 2.0,
    "值了": 1.8,
    "爱了": 2.2,
    "优质": 1.8,
    "细心": 1.5,
    "负责": 1.2,
    "懂行": 1.4,
    "进步": 1.2,
    "改善": 1.0,
    "提升": 1.0,
    "救了": 1.5,
    "完好": 1.4,
    "完好无损": 1.8,
    "合脚": 1.4,
    "暖和": 1.2,
    "软": 0.6,
    "顺畅": 1.5,
    "流利": 1.2,
    "舒适": 1.6,
    "好用太多": 2.0,
    "神器": 2.0,
    "省钱": 1.4,
    "无可挑剔": 2.2,
    "挑不出": 1.8,
    "放心买": 1.8,
    "值这个价": 1.5,
    "推荐给": 1.5,
    "很棒": 2.2,
    "真好": 1.5,
    "好评如潮": 2.2,
    "安利": 1.5,
}
ZH_NEGATIVE = {
    "挑剔": -1.2,
    "毛病": -1.2,
    "不满": -1.8,
    "起球": -1.8,
    "碎": -2.0,
    "断": -1.8,
    "疼": -1.8,
    "坑": -2.2,
    "雷": -1.8,
    "避雷": -2.2,
    "踩雷": -2.2,
    "智商税": -2.2,
    "破": -1.5,
    "辣鸡": -2.5,
    "栓Q": -1.8,
    "答非所问": -2.0,
    "复制粘贴": -1.5,
    "涨价": -1.5,
    "不理": -2.0,
    "下头": -2.0,
    "血亏": -2.2,
    "无语": -2.0,
    "翻车": -2.0,
    "心累": -1.8,
    "气死": -2.5,
    "受够": -2.5,
    "后悔": -2.2,
    "闹心": -2.0,
    "噩梦": -2.5,
    "粗糙": -1.8,
    "褪色": -1.6,
    "漏水": -1.8,
    "过期": -1.8,
    "模糊": -1.4,
    "划痕": -1.6,
    "鼓包": -2.2,
    "危险": -2.0,
    "恶劣": -2.5,
    "生气": -2.2,
    "石沉大海": -2.2,
    "丢了": -2.0,
    "弄丢": -2.0,
    "发错": -2.0,
    "少发": -1.8,
    "压扁": -1.8,
    "超时": -1.6,
    "淋雨": -1.5,
    "折腾": -1.6,
    "稀烂": -2.5,
    "烂": -2.2,
    "可惜": -1.2,
    "呵呵": -1.5,
    "👎": -2.0,
    "😡": -2.5,
    "😠": -2.2,
    "😤": -2.0,
    "🙄": -1.5,
    "😩": -1.8,
    "🤬": -2.5,
    "😭": -1.8,
    "😒": -1.5,
    "😞": -1.8,
    "🤮": -2.5,
    "🐌": -1.2,
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
    "迟到": -1.5,
    "不清楚": -1.4,
    "挂了": -2.0,
    "宕机": -2.0,
    "散": -1.4,
    "散架": -2.0,
    "裂": -1.8,
    "裂了": -1.8,
    "凉": -1.2,
    "杂音": -1.6,
    "对不上": -1.6,
    "抢钱": -2.4,
    "垃圾箱": -1.0,
    "霉": -2.0,
    "发霉": -2.2,
    "漏单": -2.0,
    "混乱": -1.8,
    "浪费": -1.8,
    "浪费时间": -2.2,
    "敷衍": -2.2,
    "推脱": -2.0,
    "推诿": -2.0,
    "踢皮球": -2.2,
    "骗": -2.4,
    "骗人": -2.4,
    "忽悠": -2.2,
    "虚假": -2.2,
    "缩水": -1.8,
    "变质": -2.2,
    "异味": -1.8,
    "味道大": -1.6,
    "起疹子": -2.0,
    "过敏": -1.6,
    "卡顿": -2.0,
    "掉线": -1.8,
    "死机": -2.2,
    "不准": -1.6,
    "乱扣": -2.2,
    "扣了": -1.0,
    "多扣": -2.0,
    "乱收费": -2.2,
    "等了": -1.2,
    "催": -1.4,
    "拖": -1.6,
    "拖拉": -1.8,
    "慢吞吞": -1.8,
    "不耐烦": -2.0,
    "冷漠": -2.0,
    "傲慢": -2.2,
    "脏": -1.8,
    "旧": -0.8,
    "二手": -1.2,
    "掉色": -1.8,
    "开线": -1.8,
    "起毛": -1.6,
    "塌": -1.6,
    "弯": -1.2,
    "花了": -0.4,
    "廉价": -1.8,
    "一问三不知": -2.2,
    "破防": -2.0,
    "寂寞": -1.5,
    "白花钱": -2.2,
    "吐槽": -1.5,
    "坑人": -2.5,
    "不靠谱": -2.2,
    "误导": -2.0,
    "没效果": -2.0,
    "不行": -1.8,
    "别买": -2.2,
    "挂电话": -2.2,
    "不回": -2.0,
    "没回": -1.8,
    "回复慢": -2.0,
    "重复": -1.0,
    "费劲": -1.6,
    "头疼": -1.8,
    "郁闷": -1.8,
    "遗憾": -1.4,
    "退订": -1.4,
    "找不到": -1.4,
    "用不了": -2.2,
    "打不开": -2.0,
    "晚了": -1.2,
    "不了了之": -2.0,
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
WORD = re.compile(r"[a-z][a-z'-]*")


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


def _token_value(token: str) -> tuple[float, str]:
    """A jieba token's lexicon value, and what precedes the sentiment word inside it
    ("" when the token is itself a lexicon word)."""
    value = ZH_POSITIVE.get(token) or ZH_NEGATIVE.get(token)
    if value or len(token) < 2:
        return value or 0.0, ""
    return _inner_word(token)


def chinese_score(text: str) -> float:
    total, weight, negate = 0.0, 1.0, False
    for token in _jieba().lcut(text):
        if token in ZH_NEGATORS:
            negate = True
            continue
        if token in ZH_DEGREE and token not in ZH_POSITIVE:
            weight *= ZH_DEGREE[token]
            continue
        value, prefix = _token_value(token)
        if any(n in prefix for n in ZH_NEGATORS):
            value = -value
        weight *= max((ZH_DEGREE.get(c, 1.0) for c in prefix), default=1.0)
        if value:
            total += (-value if negate else value) * weight
        if value or not token.strip() or re.fullmatch(r"[，。！？,.!?；;、]", token):
            weight, negate = 1.0, False
    return math.tanh(total / 2)


def lexicon_score(text: str) -> float:
    """The lexicons' score alone, -1..1 (a feature of the model)."""
    if CJK.search(text):
        return chinese_score(text)
    return _vader().polarity_scores(text)["compound"]


DATA = Path(__file__).resolve().parent / "sentiment_data"
BUT = re.compile(r"\b(?:but|though|however|shame|pity)\b|但|可惜|就是|不过", re.IGNORECASE)
ASKS = re.compile(
    r"^(?:please|can|could|do|does|is|are|how|where|when|what|which|would|any)\b"
    r"|[?？]|吗|请|能否|希望|怎么|哪里|什么时候",
    re.IGNORECASE,
)


def sentiment_word_count(text: str) -> int:
    """How many words of the comment the lexicons know: none at all is a hint of a
    neutral comment ("Used it for about three months")."""
    if CJK.search(text):
        return sum(1 for token in _jieba().lcut(text) if _token_value(token)[0])
    lexicon = _vader().lexicon
    return sum(1 for word in WORD.findall(text.lower()) if lexicon.get(word))


def lexicon_features(texts) -> np.ndarray:
    rows = []
    for text in texts:
        score = lexicon_score(text)
        parts = BUT.split(text)
        after_but = lexicon_score(parts[-1]) if len(parts) > 1 and parts[-1].strip() else score
        asks = bool(ASKS.search(text.strip()))
        known = sentiment_word_count(text)
        rows.append(
            [score, max(score, 0.0), max(-score, 0.0), after_but, asks, len(text) < 8]
            + [known == 0, min(known, 4) / 4]
        )
    return np.array(rows, float)


EN_NEGATORS = re.compile(r"not|no|never|nobody|nothing|none|without|cannot|\w+n't", re.IGNORECASE)
WORD_OR_STOP = re.compile(r"[\w']+|[.,!?;:]")


def words(text: str) -> str:
    """The comment as words for the word n-grams. Chinese: jieba's words. English:
    lower case, each word after a negator marked until the clause ends, so that
    "not worth it" and "worth it" share no word ("not NOT_worth NOT_it")."""
    if CJK.search(text):
        return " ".join(_jieba().lcut(text))
    marked, negated = [], False
    for token in WORD_OR_STOP.findall(text.lower()):
        if token in ".,!?;:":
            negated = False
        elif EN_NEGATORS.fullmatch(token):
            negated = True
        elif negated:
            token = "NOT_" + token
        marked.append(token)
    return " ".join(marked)


def training_comments(language: str) -> tuple[list[str], list[str]]:
    """Every labelled comment the model may learn from (feedback/sentiment_data): the
    development halves of the labelled sets, a test half already scored and since
    trained on, the earlier tuning set and the training comments."""
    texts, labels = [], []
    for path in sorted(DATA.glob(f"{language}_*.tsv")):
        with open(path, encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                texts.append(row["text"])
                labels.append(row["label"])
    return texts, labels


@lru_cache(maxsize=2)
def _model(language: str):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.preprocessing import FunctionTransformer

    model = make_pipeline(
        make_union(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True),
            TfidfVectorizer(
                preprocessor=words, token_pattern=r"\S+", ngram_range=(1, 2), sublinear_tf=True
            ),
            FunctionTransformer(lexicon_features),
        ),
        LogisticRegression(C=30, max_iter=3000),
    )
    model.fit(*training_comments(language))
    return model


def load_lexicons() -> None:
    """Load the lexicons and train both models now rather than on the first comment a
    customer sends. Web servers call this at start-up."""
    _vader()
    _jieba()
    _model("en")
    _model("zh")


def sentiment(text: str) -> float | None:
    """P(positive) - P(negative) from the model, kept on the side of its verdict: a
    comment the model calls neutral scores 0, so `label(score)` is the model's label."""
    text = (text or "").strip()
    if not text:
        return None
    model = _model("zh" if CJK.search(text) else "en")
    chances = dict(zip(model.classes_, model.predict_proba([text])[0], strict=True))
    verdict = max(chances, key=lambda name: chances[name])
    score = float(chances["positive"] - chances["negative"])  # a Python float for the driver
    if verdict == "neutral":
        return 0.0
    if verdict == "positive":
        return round(max(score, NEUTRAL_BAND), 4)
    return round(min(score, -NEUTRAL_BAND), 4)


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


ZH_STOPWORDS = {
    "的",
    "了",
    "很",
    "也",
    "都",
    "就",
    "还",
    "又",
    "太",
    "是",
    "在",
    "和",
    "我",
    "你们",
    "我们",
    "这个",
    "一个",
    "有点",
    "非常",
}


def terms(text: str) -> list[str]:
    """Theme candidates of one comment: phrases of two or three words that neither start
    nor end with a stop word ("took weeks", "refund took weeks") for English; for
    Chinese, jieba words of two or more characters and pairs of neighbouring words
    ("客服 回复"), without stop words."""
    if CJK.search(text):
        words = [w for w in _jieba().lcut(text) if CJK.search(w) and w not in ZH_STOPWORDS]
        return [w for w in words if len(w) >= 2] + [
            f"{a}{b}" for a, b in zip(words, words[1:], strict=False)
        ]
    phrases = []
    for clause in re.split(r"[.,;:!?()\n]+", text.lower()):
        words = WORD.findall(clause)
        for size in (2, 3):
            for start in range(len(words) - size + 1):
                gram = words[start : start + size]
                if gram[0] not in EN_STOPWORDS and gram[-1] not in EN_STOPWORDS:
                    phrases.append(" ".join(gram))
    return phrases


def themes(comments, top: int = 10, minimum: int = 2) -> list[tuple[str, int]]:
    """The phrases most comments share (each counted once per comment, at least
    `minimum` comments), longest first among equals: a shorter phrase is dropped when a
    longer one containing it is in as many comments."""
    from collections import Counter

    counts: Counter[str] = Counter()
    for comment in comments:
        counts.update(set(terms(comment or "")))
    frequent = {phrase: n for phrase, n in counts.items() if n >= minimum}
    kept = {
        phrase: n
        for phrase, n in frequent.items()
        if not any(
            phrase in longer and n <= m
            for longer, m in frequent.items()
            if longer != phrase and len(longer) > len(phrase)
        )
    }
    return sorted(kept.items(), key=lambda item: (-item[1], -len(item[0]), item[0]))[:top]
