"""How well a clustering matches the truth: pairwise precision and recall (bench and tests)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping


def pairwise_precision_recall(
    predicted: Mapping[str, str | None], truth: Mapping[str, str]
) -> tuple[float, float, int, int]:
    """Pairwise precision and recall over the faces of `truth`.

    A pair is positive when both faces have the same label; predicted None (unclustered)
    faces are singletons. Returns (precision, recall, true pairs, predicted pairs); a
    ratio with a zero denominator is 1.0.
    """

    def pairs(counter: Counter) -> int:
        return sum(c * (c - 1) // 2 for c in counter.values())

    faces = list(truth)
    true_pairs = pairs(Counter(truth[f] for f in faces))
    predicted_labels = {f: predicted.get(f) for f in faces}
    predicted_pairs = pairs(Counter(p for p in predicted_labels.values() if p is not None))
    both = pairs(
        Counter((predicted_labels[f], truth[f]) for f in faces if predicted_labels[f] is not None)
    )
    precision = both / predicted_pairs if predicted_pairs else 1.0
    recall = both / true_pairs if true_pairs else 1.0
    return precision, recall, true_pairs, predicted_pairs
