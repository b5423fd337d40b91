"""k-means clusters on standardised log features, k chosen by silhouette, described in words."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

FEATURES = ["days_since_last", "frequency", "monetary", "tenure_days"]
WORDS = {  # feature -> (word when high, word when low) relative to all customers
    "days_since_last": ("long silent", "recently active"),
    "frequency": ("frequent", "rare"),
    "monetary": ("high-spending", "low-spending"),
    "tenure_days": ("long-standing", "new"),
}


@dataclass
class Clustering:
    labels: pd.Series  # customer -> cluster number
    k: int
    silhouette: float
    descriptions: dict  # cluster number -> {"size", "description", "medians"}


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
            "description": describe(medians, overall, data),
            "medians": {name: round(float(value), 1) for name, value in medians.items()},
        }
    return Clustering(labels, k, float(score), descriptions)


def describe(medians: pd.Series, overall: pd.Series, data: pd.DataFrame) -> str:
    """Plain words for what sets a cluster apart: features whose median is outside the
    middle 40% of all customers."""
    words = []
    for name in FEATURES:
        low, high = data[name].quantile([0.3, 0.7])
        if medians[name] > high and medians[name] > overall[name]:
            words.append(WORDS[name][0])
        elif medians[name] < low and medians[name] < overall[name]:
            words.append(WORDS[name][1])
    return (", ".join(words) if words else "typical") + " customers"
