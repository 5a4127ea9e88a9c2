"""People-level helpers: a person's centroid, and the "are these the same person?" list."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from functions.photos.clustering.faces import as_unit


def centroid(embeddings: np.ndarray) -> np.ndarray:
    """L2-normalised mean of L2-normalised embeddings (n, dim) -> float32 (dim,)."""
    matrix = np.asarray(embeddings, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    if len(matrix) == 0:
        raise ValueError("centroid of no embeddings")
    mean = matrix.astype(np.float64).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    if norm == 0.0:
        raise ValueError("embeddings cancel out")
    centroid: np.ndarray = (mean / norm).astype(np.float32)
    return centroid


def suggestions(
    person_centroids: Mapping[str, np.ndarray], person_id: str, limit: int = 10
) -> list[tuple[str, float]]:
    """Other people ordered by cosine similarity of their centroids to person_id's, highest
    first (ties by id): the "are these the same person?" list."""
    if person_id not in person_centroids or limit <= 0:
        return []
    target = as_unit(person_centroids[person_id])
    others = [other for other in person_centroids if other != person_id]
    if not others:
        return []
    matrix = np.stack([as_unit(person_centroids[other]) for other in others])
    scores = (matrix @ target).tolist()
    ranked = sorted(zip(others, scores, strict=True), key=lambda pair: (-pair[1], pair[0]))
    return [(other, float(score)) for other, score in ranked[:limit]]
