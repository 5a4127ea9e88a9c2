"""The gallery index: one user's usable faces in memory, for fast exact neighbour search."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from functions.photos.clustering.faces import (
    EMBEDDING_DIM,
    FaceRecord,
    as_unit,
    similarity_threshold,
)

# Column chunk of the exact neighbour counts (a 8192-column tile of float32 similarities).
_COL_BLOCK = 8192
# Column chunk of the one-query similarity pass (a gemv per chunk is faster than
# one over the whole matrix on the measured machine, and keeps the output in cache).
_QUERY_BLOCK = 4096
# The exact two-stage scan (see Gallery): projection size, the gallery size from which
# it pays off, and the float32 rounding margin of the bound.
_PROJECTION_DIM = 64
_PROJECTION_MIN_FACES = 4096
_BOUND_SLACK = np.float32(1e-4)


class Gallery:
    """One user's usable faces in memory, for fast exact neighbour search.

    Embeddings live row-wise in a float32 (capacity, dim) buffer (amortised O(dim) add,
    O(dim) swap-remove). A query is answered exactly with a two-stage scan: once the gallery
    has `_PROJECTION_MIN_FACES` faces, it keeps every face's coordinates on the top
    `_PROJECTION_DIM` principal axes of the gallery (a third of the bytes) and the norm of
    what is left; by Cauchy-Schwarz, dot(q, x) <= dot(Pq, Px) + |q_rest| |x_rest|, so only
    faces whose bound reaches the threshold are checked with the full embedding. The scan is
    memory-bound, so reading a third of the bytes is most of the speed-up; any orthonormal
    basis keeps it exact (a stale basis after many adds only costs speed).

    The gallery also caches, per max_distance, a lower bound of each face's neighbour count
    (exact when computed, a lower bound after later adds, kept valid on remove), so that
    deciding whether a neighbour is core usually costs nothing beyond the query's own scan.
    Records are kept by reference: a caller that sets record.person_id after `assign` is
    seen by the next query.
    """

    def __init__(self, faces: Iterable[FaceRecord] = ()) -> None:
        faces = list(faces)
        self._dim = EMBEDDING_DIM if not faces else int(np.asarray(faces[0].embedding).size)
        capacity = max(1024, 2 * len(faces))
        self._rows = np.empty((capacity, self._dim), dtype=np.float32)
        self._n = 0
        self._ids: list[str] = []
        self._photos: list[str] = []
        self._records: list[FaceRecord] = []
        self._index: dict[str, int] = {}
        self._by_photo: dict[str, set[str]] = {}
        self._count_lb: dict[float, tuple[np.ndarray, np.ndarray]] = {}
        self._basis: np.ndarray | None = None  # (dim, k) orthonormal
        self._projected = np.empty((0, capacity), dtype=np.float32)  # (k, capacity)
        self._rest = np.empty(capacity, dtype=np.float32)  # |x - P P^T x|
        if faces:  # bulk load: one vectorised copy instead of n appends
            if len({face.face_id for face in faces}) != len(faces):
                raise ValueError("duplicate face ids")
            matrix = np.stack(
                [np.asarray(face.embedding, dtype=np.float32).reshape(-1) for face in faces]
            )
            if matrix.shape[1] != self._dim:
                raise ValueError(f"expected {self._dim}-d embeddings, got {matrix.shape[1]}")
            norms = np.linalg.norm(matrix, axis=1, keepdims=True)
            if not np.all(np.isfinite(norms)) or np.any(norms == 0):
                raise ValueError("embeddings must be finite non-zero vectors")
            self._rows[: len(faces)] = matrix / norms
            self._n = len(faces)
            self._ids = [face.face_id for face in faces]
            self._photos = [face.photo_id for face in faces]
            self._records = list(faces)
            self._index = {face_id: i for i, face_id in enumerate(self._ids)}
            for face in faces:
                self._by_photo.setdefault(face.photo_id, set()).add(face.face_id)
        self._maybe_project()

    # -- maintenance -------------------------------------------------------------

    def __len__(self) -> int:
        return self._n

    def __contains__(self, face_id: object) -> bool:
        return face_id in self._index

    def add(self, face: FaceRecord) -> None:
        """Add a face (or replace the one with the same id)."""
        if face.face_id in self._index:
            self.remove(face.face_id)
        vector = as_unit(face.embedding)
        if vector.size != self._dim:
            raise ValueError(f"expected a {self._dim}-d embedding, got {vector.size}")
        if self._n == self._rows.shape[0]:
            self._grow()
        index = self._n
        self._rows[index] = vector
        if self._basis is not None:
            coordinates = vector @ self._basis
            self._projected[:, index] = coordinates
            self._rest[index] = np.sqrt(max(0.0, 1.0 - float(coordinates @ coordinates)))
        self._ids.append(face.face_id)
        self._photos.append(face.photo_id)
        self._records.append(face)
        self._index[face.face_id] = index
        self._by_photo.setdefault(face.photo_id, set()).add(face.face_id)
        for counts, exact in self._count_lb.values():
            counts[index] = 0  # unknown; raised lazily
            exact[: self._n] = False  # the new face may be anyone's neighbour: now lower bounds
        self._n += 1
        if self._basis is None:
            self._maybe_project()

    def _grow(self) -> None:
        capacity = 2 * self._rows.shape[0]
        rows = np.empty((capacity, self._dim), dtype=np.float32)
        rows[: self._n] = self._rows[: self._n]
        self._rows = rows
        projected = np.empty((self._projected.shape[0], capacity), dtype=np.float32)
        projected[:, : self._n] = self._projected[:, : self._n]
        self._projected = projected
        rest = np.empty(capacity, dtype=np.float32)
        rest[: self._n] = self._rest[: self._n]
        self._rest = rest
        for key, (counts, exact) in self._count_lb.items():
            self._count_lb[key] = (
                np.concatenate([counts, np.zeros(capacity - len(counts), dtype=counts.dtype)]),
                np.concatenate([exact, np.zeros(capacity - len(exact), dtype=bool)]),
            )

    def _maybe_project(self) -> None:
        if self._n < _PROJECTION_MIN_FACES or self._dim <= _PROJECTION_DIM:
            return
        rows = self._rows[: self._n]
        second_moment = (rows.T @ rows).astype(np.float64)
        _, vectors = np.linalg.eigh(second_moment)
        self._basis = np.ascontiguousarray(vectors[:, ::-1][:, :_PROJECTION_DIM], dtype=np.float32)
        projected = np.empty((_PROJECTION_DIM, self._rows.shape[0]), dtype=np.float32)
        for start in range(0, self._n, _QUERY_BLOCK):
            stop = min(self._n, start + _QUERY_BLOCK)
            projected[:, start:stop] = (rows[start:stop] @ self._basis).T
        self._projected = projected
        captured = np.einsum("ij,ij->j", projected[:, : self._n], projected[:, : self._n])
        self._rest[: self._n] = np.sqrt(np.clip(1.0 - captured, 0.0, None))

    def remove(self, face_id: str) -> None:
        """Remove a face (KeyError if absent). One scan keeps the core cache valid."""
        index = self._index[face_id]
        if self._count_lb:
            for max_distance, (counts, _exact) in self._count_lb.items():
                near, _ = self.near(self._rows[index], similarity_threshold(max_distance))
                counts[near] = np.maximum(counts[near] - 1, 0)
        last = self._n - 1
        photo = self._photos[index]
        self._by_photo[photo].discard(face_id)
        if not self._by_photo[photo]:
            del self._by_photo[photo]
        if index != last:
            self._rows[index] = self._rows[last]
            if self._basis is not None:
                self._projected[:, index] = self._projected[:, last]
                self._rest[index] = self._rest[last]
            self._ids[index] = self._ids[last]
            self._photos[index] = self._photos[last]
            self._records[index] = self._records[last]
            for counts, exact in self._count_lb.values():
                counts[index] = counts[last]
                exact[index] = exact[last]
            self._index[self._ids[index]] = index
        for values in (self._ids, self._photos, self._records):
            values.pop()
        del self._index[face_id]
        self._n -= 1

    def persons_in_photo(self, photo_id: str, excluding: str) -> set[str]:
        """The people other faces of the photo (cannot-link key) already belong to."""
        persons = {
            self._records[self._index[other]].person_id
            for other in self._by_photo.get(photo_id, ())
            if other != excluding
        }
        return {p for p in persons if p is not None}

    # -- what `assign` reads (positions index `records`, `photos` and `rows`) ----------

    def position(self, face_id: str) -> int | None:
        return self._index.get(face_id)

    @property
    def records(self) -> list[FaceRecord]:
        return self._records

    @property
    def photos(self) -> list[str]:
        return self._photos

    @property
    def rows(self) -> np.ndarray:
        return self._rows

    # -- search ------------------------------------------------------------------

    def near(self, vector: np.ndarray, threshold: np.float32) -> tuple[np.ndarray, np.ndarray]:
        """Exact: indices of the faces with similarity >= threshold, and those similarities."""
        n = self._n
        if n == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        if self._basis is not None:
            coordinates = vector @ self._basis
            rest = np.float32(np.sqrt(max(0.0, 1.0 - float(coordinates @ coordinates))))
            bound = np.empty(n, dtype=np.float32)
            for start in range(0, n, _QUERY_BLOCK):
                stop = min(n, start + _QUERY_BLOCK)
                np.dot(coordinates, self._projected[:, start:stop], out=bound[start:stop])
            bound += rest * self._rest[:n]
            candidates = np.flatnonzero(bound >= threshold - _BOUND_SLACK)
            similarities = self._rows[candidates] @ vector
            keep = similarities >= threshold
            return candidates[keep], similarities[keep]
        similarities = np.empty(n, dtype=np.float32)
        for start in range(0, n, _QUERY_BLOCK):
            stop = min(n, start + _QUERY_BLOCK)
            np.dot(self._rows[start:stop], vector, out=similarities[start:stop])
        near = np.flatnonzero(similarities >= threshold)
        return near, similarities[near]

    def neighbours(self, embedding: np.ndarray, max_distance: float) -> list[tuple[str, float]]:
        """Faces within max_distance (cosine), as (face_id, distance), nearest first."""
        near, similarities = self.near(as_unit(embedding), similarity_threshold(max_distance))
        ids = self._ids
        pairs = [
            (ids[i], float(1.0 - s))
            for i, s in zip(near.tolist(), similarities.tolist(), strict=True)
        ]
        pairs.sort(key=lambda pair: (pair[1], pair[0]))
        return pairs

    def core_cache(self, max_distance: float) -> tuple[np.ndarray, np.ndarray]:
        """(lower bound of neighbour count, bound-is-exact flag) per face, for max_distance."""
        cache = self._count_lb.get(max_distance)
        if cache is None:
            cache = (
                np.zeros(self._rows.shape[0], dtype=np.int32),
                np.zeros(self._rows.shape[0], dtype=bool),
            )
            self._count_lb[max_distance] = cache
        return cache

    def exact_counts(self, indices: np.ndarray, max_distance: float) -> np.ndarray:
        """Exact neighbour counts (self included) of gallery faces, one pass for all of them."""
        threshold = similarity_threshold(max_distance)
        queries = self._rows[indices].T.copy()
        totals = np.zeros(len(indices), dtype=np.int32)
        for start in range(0, self._n, _COL_BLOCK):
            stop = min(self._n, start + _COL_BLOCK)
            hits = self._rows[start:stop] @ queries >= threshold
            totals += np.count_nonzero(hits, axis=0).astype(np.int32)
        return totals
