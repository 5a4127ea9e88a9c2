"""What the clustering works on: a face's embedding and its person, and the parameters."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EMBEDDING_DIM = 192


@dataclass(frozen=True)
class ClusterParams:
    """Clustering parameters (see CLUSTERING.md for how the defaults were measured).

    max_distance: cosine distance (1 - dot) within which two faces are neighbours.
    min_faces: DBSCAN minPts; a face is core when >= min_faces faces (itself included)
        lie within max_distance; also the smallest person recluster creates.
    max_mean_distance: average-linkage guard of recluster: two groups merge only when
        the mean distance over all their cross pairs is at most this.
    lone_max_mean_distance: a lone face (not core: one neighbour at most) joins a person
        only when the person as a whole agrees, its mean distance to all the person's faces
        at most this; `assign` leaves such a face to the re-cluster unless it is within
        pair_max_distance of its neighbour.
    pair_max_distance: two faces seen in only two photos form a person of their own when
        they are each other's nearest face and at most this far apart (below every
        look-alike pair measured); min_faces does not apply to them.
    """

    max_distance: float = 0.35
    min_faces: int = 3
    max_mean_distance: float = 0.55
    lone_max_mean_distance: float = 0.48
    pair_max_distance: float = 0.25

    def __post_init__(self) -> None:
        if not 0.0 < self.max_distance < 2.0:
            raise ValueError("max_distance must be in (0, 2)")
        if self.min_faces < 1:
            raise ValueError("min_faces must be >= 1")
        if not 0.0 < self.max_mean_distance <= 2.0:
            raise ValueError("max_mean_distance must be in (0, 2]")
        if not 0.0 < self.lone_max_mean_distance <= 2.0:
            raise ValueError("lone_max_mean_distance must be in (0, 2]")
        if not 0.0 <= self.pair_max_distance <= self.max_distance:
            raise ValueError("pair_max_distance must be in [0, max_distance]")


@dataclass
class FaceRecord:
    face_id: str
    photo_id: str
    embedding: np.ndarray  # float32 (192,), L2-normalised
    person_id: str | None
    manual: bool = False  # assigned by the user: never moved by clustering


def as_unit(embedding: np.ndarray) -> np.ndarray:
    vector = np.asarray(embedding, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(vector))
    if not np.isfinite(norm) or norm == 0.0:
        raise ValueError("embedding must be a finite non-zero vector")
    return vector if abs(norm - 1.0) < 1e-4 else vector / np.float32(norm)


def similarity_threshold(max_distance: float) -> np.float32:
    return np.float32(1.0 - max_distance)
