"""RFM segments, behaviour states and clusters, by hand."""

import numpy as np
import pandas as pd
from django.utils import translation

from customers.templatetags.score_text import cluster_words
from segmentation import clusters
from segmentation.rfm import behaviour_state, quintile_scores, rfm_segments


def test_equal_values_get_equal_scores_whatever_their_row_order():
    values = pd.Series([0] * 80 + [1, 2, 3, 4] * 5)
    scores = quintile_scores(values)
    assert scores[values == 0].nunique() == 1 and scores[values == 0].iloc[0] == 1
    shuffled = values.sample(frac=1, random_state=3)
    assert quintile_scores(shuffled).sort_index().equals(scores)
    assert quintile_scores(pd.Series([10.0, 20, 30, 40, 50])).tolist() == [1, 2, 3, 4, 5]
    # fewer days since the last purchase is better
    assert quintile_scores(pd.Series([1.0, 9, 9, 30]), higher_is_better=False).tolist() == [
        4,
        2,
        2,
        1,
    ]


def test_a_customer_gone_past_the_churn_window_or_worth_nothing_is_no_champion():
    n = 100
    days = pd.Series(np.arange(n, dtype=float))
    freq = pd.Series(np.arange(n, 0, -1, dtype=float))
    money = pd.Series(np.linspace(100, 1, n))
    money[1] = -410.0  # refunded more than bought
    gone = pd.Series(False, index=days.index)
    gone[0] = True
    seg = rfm_segments(days, freq, money, gone=gone)
    assert seg.loc[0, "segment"] == "Can't lose them"  # frequent, but gone
    assert seg.loc[1, "segment"] == "Need attention"
    assert seg.loc[2, "segment"] == "Champions"


def test_rfm_segments_name_champions_and_lost():
    n = 100
    days = pd.Series(np.arange(n, dtype=float))  # customer 0 bought most recently
    freq = pd.Series(np.arange(n, 0, -1, dtype=float))  # and most often
    money = pd.Series(np.linspace(100, 1, n))
    seg = rfm_segments(days, freq, money)
    assert seg.loc[0, "segment"] == "Champions" and (seg.loc[0, "r"], seg.loc[0, "f"]) == (5, 5)
    assert seg.loc[n - 1, "segment"] == "Lost" and (seg.loc[n - 1, "r"], seg.loc[n - 1, "f"]) == (
        1,
        1,
    )


def test_behaviour_states_follow_the_one_definition_of_active():
    days = pd.Series([3, 45, 200, 5, np.nan, 131, 45])
    churned = pd.Series([False, False, False, True, False, False, False])
    paying = pd.Series([False, False, False, False, False, True, True])
    assert behaviour_state(days, churned, paying).tolist() == [
        "active",
        "inactive",
        "churned",
        "churned",
        "churned",
        "active",  # a paid subscription is active, however quiet
        "active",
    ]


def test_clusters_find_planted_groups_and_describe_them():
    rng = np.random.default_rng(0)
    loyal = pd.DataFrame(
        {
            "days_since_last": rng.uniform(1, 10, 300),
            "frequency": rng.uniform(20, 30, 300),
            "monetary": rng.uniform(80, 120, 300),
            "tenure_days": rng.uniform(600, 700, 300),
        }
    )
    gone = pd.DataFrame(
        {
            "days_since_last": rng.uniform(300, 400, 300),
            "frequency": rng.uniform(0, 1, 300),
            "monetary": rng.uniform(5, 10, 300),
            "tenure_days": rng.uniform(300, 400, 300),
        }
    )
    result = clusters.cluster_customers(pd.concat([loyal, gone], ignore_index=True))
    assert result.k == 2 and result.silhouette > 0.5
    traits = {tuple(d["traits"]) for d in result.descriptions.values()}
    assert ("recently active", "frequent", "high-spending", "long-standing") in traits
    assert ("long silent", "rare", "low-spending", "new") in traits
    with translation.override("zh-hans"):
        words = [cluster_words(d) for d in result.descriptions.values()]
    assert all("customers" not in w and "客户" in w for w in words), words
    assert result.labels.iloc[:300].nunique() == 1


def test_too_few_customers_are_not_clustered():
    tiny = pd.DataFrame({c: [1.0] * 5 for c in clusters.FEATURES})
    assert clusters.cluster_customers(tiny) is None
