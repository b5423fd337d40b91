"""Split a labelled comment set once into a development half and a test half.

    python scripts/split_sentiment.py NEW.tsv en [NAME]

Comments already in the training data are dropped first (a test comment the model
has learned is no test). Stratified by label with a fixed seed; writes
feedback/sentiment_data/<lang>_<NAME>.tsv (default NAME "dev"; the model trains on
every file there) and
tests/data/sentiment_<lang>_test.tsv (only the tests read it). Run once per new set:
re-splitting after looking at test results would tune on the test half.
"""

import csv
import random
import sys
from pathlib import Path

from feedback.sentiment import training_comments

ROOT = Path(__file__).resolve().parent.parent


def main(source: str, language: str, name: str = "dev") -> None:
    with open(source, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    known = set(training_comments(language)[0])
    rows = [row for row in rows if row["text"] not in known]
    rng = random.Random(20261202)
    dev, test = [], []
    for label in sorted({r["label"] for r in rows}):
        group = [r for r in rows if r["label"] == label]
        rng.shuffle(group)
        dev += group[: len(group) // 2]
        test += group[len(group) // 2 :]
    for rows_out, path in (
        (dev, ROOT / "feedback" / "sentiment_data" / f"{language}_{name}.tsv"),
        (test, ROOT / "tests" / "data" / f"sentiment_{language}_test.tsv"),
    ):
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, ["label", "kind", "text"], delimiter="\t")
            writer.writeheader()
            writer.writerows(sorted(rows_out, key=lambda r: (r["label"], r["kind"], r["text"])))
        print(f"{path.relative_to(ROOT)}: {len(rows_out)} comments")


if __name__ == "__main__":
    main(*sys.argv[1:4])
