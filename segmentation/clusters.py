"""k-means clusters on standardised log features, k chosen by silhouette, described in words."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.utils.translation import gettext_noop
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

FEATURES = ["days_since_last", "frequency", "monetary", "tenure_days"]
WORDS = {  # feature -> (word when high, word when low) relative to all customers
    "days_since_last": (gettext_noop("long silent"), gettext_noop("recently active")),
    "frequency": (gettext_noop("frequent"), gettext_noop("rare")),
    "monetary": (gettext_noop("high-spending"), gettext_noop("low-spending")),
    "tenure_days": (gettext_noop("long-standing"), gettext_noop("new")),
}


@dataclass
class Clustering:
    labels: pd.Series  # customer -> cluster number
    k: int
    silhouette: float
    descriptions: dict  # cluster number -> {"size", "traits", "medians"}


def cluster_customers(
    features: pd.DataFrame, k_range=range(2, 7), sample: int = 10_000, random_state: int = 0
) -> Clustering | None:
    """None when there are too few customers to cluster meaningfully (< 20)."""
    data = features[FEATURES].astype(float).fillna(0).clip(lower=0)
    if len(data) < 20:
        return None
    scaled = StandardScaler().fit_transform(np.log1p(data.to_numpy()))
    rng = np.random.default_rng(random_state)
    pick = rng.choice(len(scaled), size=min(sample, len(scaled)), replace=False)
    best = None
    for k in k_range:
        if k >= len(pick):
            break
        model = KMeans(n_clusters=k, n_init=4, random_state=random_state).fit(scaled[pick])
        if len(set(model.labels_)) < 2:
            continue
        score = silhouette_score(
            scaled[pick], model.labels_, sample_size=min(3000, len(pick)), random_state=random_state
        )
        if best is None or score > best[0]:
            best = (score, k, model)
    if best is None:
        return None
    score, k, model = best
    labels = pd.Series(model.predict(scaled), index=data.index)
    overall = data.median()
    descriptions = {}
    for cluster in range(k):
        members = data[labels == cluster]
        medians = members.median()
        descriptions[cluster] = {
            "size": int(len(members)),
            "traits": traits(medians, overall, data),
            "medians": {name: round(float(value), 1) for name, value in medians.items()},
        }
    return Clustering(labels, k, float(score), descriptions)


def traits(medians: pd.Series, overall: pd.Series, data: pd.DataFrame) -> list[str]:
    """What sets a cluster apart, in words (English; shown translated): features whose
    median is outside the middle 40% of all customers."""
    words = []
    for name in FEATURES:
        low, high = data[name].quantile([0.3, 0.7])
        if medians[name] > high and medians[name] > overall[name]:
            words.append(WORDS[name][0])
        elif medians[name] < low and medians[name] < overall[name]:
            words.append(WORDS[name][1])
    return words
