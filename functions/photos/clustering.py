"""Face grouping engine: incremental assignment and full re-clustering of one user's faces.

Pure Python + numpy (no AWS, no database); the photos function stores faces and
people and calls this module. The algorithm, its parameters and the measurements
behind the defaults are in CLUSTERING.md next to this file.

DBSCAN on cosine distance (1 - dot of L2-normalised embeddings):

- a face is *core* when at least `min_faces` faces (itself included) lie within
  `max_distance` of it;
- `assign` (a new face, incremental): join the person of the nearest core
  neighbour (never a person that already has a face in the same photo); a core
  face with no assigned neighbour proposes a new person; anything else is
  deferred to the next `recluster`;
- `recluster` (one user's faces, from scratch): constrained single linkage over
  the core graph. Core-core edges are merged in ascending distance order unless
  the merge would put two faces of one photo in one person (cannot-link), merge
  two different manual persons, or fails the average-linkage guard (the mean
  distance between the two groups must stay within `max_mean_distance`, which
  stops a chain of look-alikes from gluing two people together). Border faces
  (non-core, within `max_distance` of a core face) join the group of their
  nearest admissible core neighbour. Groups smaller than `min_faces` without a
  manual face stay unclustered (strangers, junk). Existing person ids are kept.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

EMBEDDING_DIM = 192

# Row/column tile of the chunked neighbourhood search in `recluster`: a 512 x 8192 float32 tile
# of similarities is 16 MB, so nothing near n x n is ever held in memory.
_ROW_BLOCK = 512
_COL_BLOCK = 8192
# Column chunk of the one-query similarity pass in `Gallery` (a gemv per chunk is faster than
# one over the whole matrix on the measured machine, and keeps the output in cache).
_QUERY_BLOCK = 4096
# assign: how many of the new face's nearest neighbours bound a candidate's neighbour count,
# and how many candidates one exact-count pass resolves at once.
_LOCAL_NEIGHBOURS = 64
_EXACT_BATCH = 16
# Gallery's exact two-stage scan (see Gallery): projection size, the gallery size from which
# it pays off, and the float32 rounding margin of the bound.
_PROJECTION_DIM = 64
_PROJECTION_MIN_FACES = 4096
_BOUND_SLACK = np.float32(1e-4)


@dataclass(frozen=True)
class ClusterParams:
    """Clustering parameters (see CLUSTERING.md for how the defaults were measured).

    max_distance: cosine distance (1 - dot) within which two faces are neighbours.
    min_faces: DBSCAN minPts; a face is core when >= min_faces faces (itself included)
        lie within max_distance; also the smallest person recluster creates.
    max_mean_distance: average-linkage guard of recluster: two groups merge only when
        the mean distance over all their cross pairs is at most this.
    """

    max_distance: float = 0.35
    min_faces: int = 3
    max_mean_distance: float = 0.55

    def __post_init__(self) -> None:
        if not 0.0 < self.max_distance < 2.0:
            raise ValueError("max_distance must be in (0, 2)")
        if self.min_faces < 1:
            raise ValueError("min_faces must be >= 1")
        if not 0.0 < self.max_mean_distance <= 2.0:
            raise ValueError("max_mean_distance must be in (0, 2]")


@dataclass
class FaceRecord:
    face_id: str
    photo_id: str
    embedding: np.ndarray  # float32 (192,), L2-normalised
    person_id: str | None
    manual: bool = False  # assigned by the user: never moved by clustering


@dataclass(frozen=True)
class Assignment:
    """Outcome of `assign`.

    person_id set: the face joins that existing person. new_person_faces non-empty: create
    one new person holding these faces (the new face first, then unassigned neighbours).
    Both empty: deferred (not core yet); the next recluster decides.
    """

    person_id: str | None
    new_person_faces: tuple[str, ...] = ()

    @property
    def deferred(self) -> bool:
        return self.person_id is None and not self.new_person_faces


def _as_unit(embedding: np.ndarray) -> np.ndarray:
    vector = np.asarray(embedding, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(vector))
    if not np.isfinite(norm) or norm == 0.0:
        raise ValueError("embedding must be a finite non-zero vector")
    return vector if abs(norm - 1.0) < 1e-4 else vector / np.float32(norm)


def _threshold(max_distance: float) -> np.float32:
    return np.float32(1.0 - max_distance)


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
    Records are kept by reference: a caller that sets record.person_id after `assign` (or
    calls set_person) is seen by the next query.
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
        vector = _as_unit(face.embedding)
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
                near, _ = self._near(self._rows[index], _threshold(max_distance))
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
            for values in (self._ids, self._photos, self._records):
                values[index] = values[last]
            for counts, exact in self._count_lb.values():
                counts[index] = counts[last]
                exact[index] = exact[last]
            self._index[self._ids[index]] = index
        for values in (self._ids, self._photos, self._records):
            values.pop()
        del self._index[face_id]
        self._n -= 1

    def set_person(self, face_id: str, person_id: str | None, manual: bool | None = None) -> None:
        """Record a face's (new) person, e.g. after `assign` or a user's fix."""
        record = self._records[self._index[face_id]]
        record.person_id = person_id
        if manual is not None:
            record.manual = manual

    def apply(self, persons: Mapping[str, str | None]) -> None:
        """Record a `recluster` result (face ids not in the gallery, manual faces: unchanged)."""
        for face_id, person_id in persons.items():
            index = self._index.get(face_id)
            if index is not None and not self._records[index].manual:
                self._records[index].person_id = person_id

    def person_of(self, face_id: str) -> str | None:
        return self._records[self._index[face_id]].person_id

    def faces_in_photo(self, photo_id: str) -> set[str]:
        return set(self._by_photo.get(photo_id, ()))

    # -- search ------------------------------------------------------------------

    def _near(self, vector: np.ndarray, threshold: np.float32) -> tuple[np.ndarray, np.ndarray]:
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
        near, similarities = self._near(_as_unit(embedding), _threshold(max_distance))
        ids = self._ids
        pairs = [(ids[i], float(1.0 - s)) for i, s in zip(near.tolist(), similarities.tolist())]
        pairs.sort(key=lambda pair: (pair[1], pair[0]))
        return pairs

    def _core_cache(self, max_distance: float) -> tuple[np.ndarray, np.ndarray]:
        """(lower bound of neighbour count, bound-is-exact flag) per face, for max_distance."""
        cache = self._count_lb.get(max_distance)
        if cache is None:
            cache = (
                np.zeros(self._rows.shape[0], dtype=np.int32),
                np.zeros(self._rows.shape[0], dtype=bool),
            )
            self._count_lb[max_distance] = cache
        return cache

    def _exact_counts(self, indices: np.ndarray, max_distance: float) -> np.ndarray:
        """Exact neighbour counts (self included) of gallery faces, one pass for all of them."""
        threshold = _threshold(max_distance)
        queries = self._rows[indices].T.copy()
        totals = np.zeros(len(indices), dtype=np.int32)
        for start in range(0, self._n, _COL_BLOCK):
            stop = min(self._n, start + _COL_BLOCK)
            hits = self._rows[start:stop] @ queries >= threshold
            totals += np.count_nonzero(hits, axis=0).astype(np.int32)
        return totals


def assign(face: FaceRecord, gallery: Gallery, params: ClusterParams) -> Assignment:
    """Place one new face incrementally (DBSCAN-derived, over the gallery plus this face).

    1. Join the person of the nearest *core* neighbour within max_distance whose person has
       no face in the same photo yet.
    2. Otherwise, if some neighbour belongs to an admissible person (but none of them is
       core), defer: the re-cluster decides, instead of starting a duplicate person.
    3. Otherwise, if the face is core, propose a new person: the face plus its unassigned,
       non-manual neighbours, nearest first, at most one face per photo; if that leaves
       fewer than min_faces faces, defer.
    4. Otherwise defer.
    A manual face keeps its person. The face may already be in the gallery (it is not
    counted twice) or not (it is counted as everyone's neighbour-to-be).
    """
    if face.manual:
        return Assignment(face.person_id, ())
    vector = _as_unit(face.embedding)
    threshold = _threshold(params.max_distance)
    self_index = gallery._index.get(face.face_id)
    extra = 0 if self_index is not None else 1  # this face, for its neighbours' counts
    near, similarities = gallery._near(vector, threshold)
    if self_index is not None:
        keep = near != self_index
        near, similarities = near[keep], similarities[keep]
    near = near[np.argsort(-similarities, kind="stable")]  # nearest first
    records, photos, rows = gallery._records, gallery._photos, gallery._rows

    forbidden = {
        records[gallery._index[other]].person_id
        for other in gallery._by_photo.get(face.photo_id, ())
        if other != face.face_id
    }
    forbidden.discard(None)

    counts, exact = gallery._core_cache(params.max_distance)  # gallery-only neighbour counts
    needed = params.min_faces - extra  # a candidate is core when its gallery count >= needed
    local = near[:_LOCAL_NEIGHBOURS]
    local_vectors = rows[local] if len(local) else None
    local_set = set(local.tolist())
    order = near.tolist()
    person_near = False
    for position, index in enumerate(order):
        person = records[index].person_id
        if person is None or person in forbidden:
            continue
        person_near = True
        if counts[index] < needed and not exact[index] and local_vectors is not None:
            # Lower bound from this face's own neighbourhood: the candidate's neighbours among
            # the nearest gallery faces found (itself included when there, else added).
            inside = int(np.count_nonzero(local_vectors @ rows[index] >= threshold))
            bound = inside + (0 if index in local_set else 1)
            counts[index] = max(int(counts[index]), bound)
        if counts[index] < needed and not exact[index]:
            # One pass for this candidate and the next unresolved ones.
            batch = [
                other
                for other in order[position:]
                if records[other].person_id is not None
                and records[other].person_id not in forbidden
                and counts[other] < needed
                and not exact[other]
            ][:_EXACT_BATCH]
            values = gallery._exact_counts(np.asarray(batch, dtype=np.int64), params.max_distance)
            for other, value in zip(batch, values.tolist(), strict=True):
                counts[other] = value
                exact[other] = True
        if counts[index] >= needed:
            return Assignment(person, ())
    if person_near:
        return Assignment(None, ())  # a person is near, but not through a core face: wait

    if 1 + len(order) < params.min_faces:
        return Assignment(None, ())
    members = [face.face_id]
    used_photos = {face.photo_id}
    for index in order:
        record = records[index]
        if record.person_id is not None or record.manual or photos[index] in used_photos:
            continue
        members.append(record.face_id)
        used_photos.add(photos[index])
    if len(members) < params.min_faces:
        return Assignment(None, ())
    return Assignment(None, tuple(members))


# -- full re-cluster ---------------------------------------------------------------


def neighbour_graph(
    embeddings: np.ndarray, max_distance: float, max_links: int = 16
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """The eps-neighbourhood graph, computed in tiles (never an n x n matrix).

    Returns (counts, i, j, similarity, pairs): counts[k] = number of faces within
    max_distance of face k, itself included (exact: it decides which faces are core);
    the edges i < j kept for linkage, which are, for every face, at least its `max_links`
    most similar neighbours (an edge is kept when it is among the max_links best of either
    end within a tile, a superset of each face's global top max_links); `pairs` = number of
    neighbour pairs in all. Single linkage over this k-nearest-neighbour subgraph joins the
    same faces as over the full graph in practice while keeping the edge list O(n x k) for a
    person with thousands of photos (whose faces are all each other's neighbours).
    """
    n = len(embeddings)
    threshold = _threshold(max_distance)
    columns = np.ascontiguousarray(embeddings.T)
    counts = np.ones(n, dtype=np.int64)
    rows_out: list[np.ndarray] = []
    cols_out: list[np.ndarray] = []
    sims_out: list[np.ndarray] = []
    pairs = 0
    below = np.float32(-2.0)
    for r0 in range(0, n, _ROW_BLOCK):
        r1 = min(n, r0 + _ROW_BLOCK)
        block = embeddings[r0:r1]
        height = r1 - r0
        for c0 in range(r0, n, _COL_BLOCK):
            c1 = min(n, c0 + _COL_BLOCK)
            width = c1 - c0
            tile = block @ columns[:, c0:c1]
            if c0 == r0:  # diagonal tile: keep the strict upper triangle only
                lower = np.tri(height, width, 0, dtype=bool)
                tile[lower] = below
            mask = tile >= threshold
            row_hits = np.count_nonzero(mask, axis=1)
            col_hits = np.count_nonzero(mask, axis=0)
            found = int(row_hits.sum())
            if not found:
                continue
            pairs += found
            counts[r0:r1] += row_hits
            counts[c0:c1] += col_hits
            r, c = np.nonzero(mask)
            dense_rows = np.flatnonzero(row_hits > max_links)
            dense_cols = np.flatnonzero(col_hits > max_links)
            if len(dense_rows) or len(dense_cols):
                keep = np.zeros((height, width), dtype=bool)
                sparse_rows = row_hits <= max_links
                sparse_cols = col_hits <= max_links
                keep[sparse_rows] = True
                keep[:, sparse_cols] = True
                if len(dense_rows):
                    sub = tile[dense_rows]
                    top = np.argpartition(sub, width - max_links, axis=1)[:, width - max_links :]
                    keep[dense_rows[:, None], top] = True
                if len(dense_cols):
                    sub = tile[:, dense_cols].T
                    top = np.argpartition(sub, height - max_links, axis=1)[:, height - max_links :]
                    keep[top, dense_cols[:, None]] = True
                selected = keep[r, c]
                r, c = r[selected], c[selected]
            sims_out.append(tile[r, c])
            rows_out.append((r + r0).astype(np.int32))
            cols_out.append((c + c0).astype(np.int32))
    if not rows_out:
        empty = np.empty(0, dtype=np.int32)
        return counts, empty, empty, np.empty(0, dtype=np.float32), 0
    return (
        counts,
        np.concatenate(rows_out),
        np.concatenate(cols_out),
        np.concatenate(sims_out),
        pairs,
    )


class _Groups:
    """Union-find with per-group constraint state: photos, manual person, embedding sum."""

    def __init__(
        self, n: int, photos: list[int], vectors: np.ndarray, previous: list[str | None]
    ) -> None:
        self.parent = list(range(n))
        self.size = [1] * n
        self.photos: list[set[int] | None] = [{p} for p in photos]
        self.manual: list[str | None] = [None] * n
        # person ids the non-manual members had before this re-cluster
        self.previous: list[set[str] | None] = [{p} if p is not None else set() for p in previous]
        self.sums = vectors.astype(np.float64)

    def find(self, i: int) -> int:
        parent = self.parent
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    def can_merge(self, a: int, b: int, min_mean_similarity: float) -> bool:
        if not self.manual_allows(a, b):
            return False
        photos_a, photos_b = self.photos[a], self.photos[b]
        if len(photos_a) <= len(photos_b):
            small, large = photos_a, photos_b
        else:
            small, large = photos_b, photos_a
        if any(p in large for p in small):
            return False
        mean = float(self.sums[a] @ self.sums[b]) / (self.size[a] * self.size[b])
        return mean >= min_mean_similarity

    def manual_allows(self, a: int, b: int) -> bool:
        """Two manual persons never merge; a manual person absorbs unassigned faces and faces
        that were its own, never a group that was wholly some other person's (a face the user
        moved out of a person does not drag that person's other faces along)."""
        manual_a, manual_b = self.manual[a], self.manual[b]
        if manual_a is not None and manual_b is not None:
            return manual_a == manual_b
        if manual_a is not None:
            return not self.previous[b] or manual_a in self.previous[b]
        if manual_b is not None:
            return not self.previous[a] or manual_b in self.previous[a]
        return True

    def union(self, a: int, b: int) -> int:
        if self.size[a] < self.size[b]:
            a, b = b, a
        self.parent[b] = a
        self.size[a] += self.size[b]
        self.photos[a] |= self.photos[b]
        self.photos[b] = None
        self.previous[a] |= self.previous[b]
        self.previous[b] = None
        if self.manual[a] is None:
            self.manual[a] = self.manual[b]
        self.sums[a] += self.sums[b]
        return a


def recluster(
    faces: Sequence[FaceRecord], params: ClusterParams, new_id: Callable[[], str]
) -> dict[str, str | None]:
    """Re-cluster one user's usable faces from scratch: face_id -> person_id (None = unclustered).

    Deterministic for a given set of faces (input order does not matter). Guarantees: two
    faces of one photo never share a person (manual choices aside); manual faces keep their
    person and two manual persons never merge; an output group keeps the existing person id
    most of its faces had (ties: the smaller id), each existing id going to one group at
    most; groups under min_faces faces without a manual face stay unclustered.
    """
    return recluster_detailed(faces, params, new_id).persons


@dataclass(frozen=True)
class ReclusterResult:
    persons: dict[str, str | None]
    core: frozenset[str]  # face ids that are core points
    pairs: int  # neighbour pairs within max_distance
    links: int  # of which kept for linkage (each face's nearest, see neighbour_graph)


def recluster_detailed(
    faces: Sequence[FaceRecord], params: ClusterParams, new_id: Callable[[], str]
) -> ReclusterResult:
    """`recluster`, also returning the core faces and the size of the neighbour graph."""
    ordered = sorted(faces, key=lambda face: face.face_id)
    n = len(ordered)
    if len({face.face_id for face in ordered}) != n:
        raise ValueError("duplicate face ids")
    if n == 0:
        return ReclusterResult({}, frozenset(), 0, 0)
    embeddings = np.stack([np.asarray(f.embedding, dtype=np.float32).reshape(-1) for f in ordered])
    norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
    if not np.all(np.isfinite(norms)) or np.any(norms == 0):
        raise ValueError("embeddings must be finite non-zero vectors")
    embeddings /= norms
    photo_codes: dict[str, int] = {}
    photos = [photo_codes.setdefault(face.photo_id, len(photo_codes)) for face in ordered]

    counts, rows, cols, sims, pairs = neighbour_graph(embeddings, params.max_distance)
    core = counts >= params.min_faces

    groups = _Groups(n, photos, embeddings, [None if f.manual else f.person_id for f in ordered])
    # Manual faces of one person are one group from the start (the user said so).
    first_manual: dict[str, int] = {}
    for i, face in enumerate(ordered):
        if face.manual and face.person_id is not None:
            root = groups.find(i)
            groups.manual[root] = face.person_id
            other = first_manual.setdefault(face.person_id, i)
            if other != i:
                a, b = groups.find(other), root
                if a != b:
                    groups.union(a, b)
    fixed = np.array([face.manual for face in ordered], dtype=bool)
    # A manual face without a person ("not a known person") stays alone: it still counts
    # towards its neighbours' density but never joins or links anything.
    linkable = core & ~np.array([f.manual and f.person_id is None for f in ordered], dtype=bool)

    # Constrained single linkage over core-core edges, most similar first (ties by index).
    min_mean = 1.0 - params.max_mean_distance
    both = linkable[rows] & linkable[cols]
    c_rows, c_cols, c_sims = rows[both], cols[both], sims[both]
    order = np.lexsort((c_cols, c_rows, -c_sims))
    parent, can_merge, union = groups.parent, groups.can_merge, groups.union
    for a, b in zip(c_rows[order].tolist(), c_cols[order].tolist(), strict=True):
        # find with path halving, inlined: this loop runs once per kept core-core link
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        if a != b and can_merge(a, b, min_mean):
            union(a, b)
    find = groups.find

    # Border faces: nearest admissible core neighbour's group, best links first.
    border_links: list[tuple[float, int, int]] = []
    border = ~core & ~fixed
    for src, dst in ((rows, cols), (cols, rows)):
        pick = border[src] & linkable[dst]
        border_links.extend(
            zip((-sims[pick]).tolist(), src[pick].tolist(), dst[pick].tolist(), strict=True)
        )
    heapq.heapify(border_links)
    placed = np.zeros(n, dtype=bool)
    while border_links:
        _, i, j = heapq.heappop(border_links)
        if placed[i]:
            continue
        root = find(j)
        if photos[i] in groups.photos[root] or not groups.manual_allows(root, i):
            continue
        placed[i] = True
        groups.union(root, i)

    # Collect groups; suppress small ones without a manual face.
    members: dict[int, list[int]] = {}
    for i in range(n):
        members.setdefault(find(i), []).append(i)
    clusters = [
        idx
        for root, idx in members.items()
        if len(idx) >= params.min_faces or groups.manual[root] is not None
    ]
    clusters.sort(key=lambda idx: idx[0])
    persons: dict[str, str | None] = {face.face_id: None for face in ordered}
    roots = [find(idx[0]) for idx in clusters]
    names = _name_clusters(
        ordered,
        clusters,
        [groups.manual[root] for root in roots],
        [groups.photos[root] for root in roots],
        new_id,
    )
    for idx, person_id in zip(clusters, names, strict=True):
        for i in idx:
            persons[ordered[i].face_id] = person_id
    core_ids = frozenset(ordered[i].face_id for i in np.flatnonzero(core).tolist())
    return ReclusterResult(persons, core_ids, pairs, len(rows))


def _name_clusters(
    ordered: Sequence[FaceRecord],
    clusters: list[list[int]],
    manual: list[str | None],
    photos: list[set[int]],
    new_id: Callable[[], str],
) -> list[str]:
    """Person id per cluster.

    A cluster with manual faces is their person. Any other cluster takes the previous person
    id most of its faces had (larger overlaps first, ties by id), each id going to one such
    cluster at most; it may share the id of a manual cluster (the user moved a face into a
    person whose other faces are elsewhere) unless that would put two faces of one photo in
    the person. The rest get new ids, in order of their smallest face id.
    """
    names: list[str | None] = list(manual)
    manual_photos: dict[str, set[int]] = {}
    for position, name in enumerate(manual):
        if name is not None:
            manual_photos.setdefault(name, set()).update(photos[position])
    taken: set[str] = set()
    proposals: list[tuple[int, str, int]] = []  # (-overlap, person id, cluster index)
    for position, idx in enumerate(clusters):
        if names[position] is not None:
            continue
        tally = Counter(ordered[i].person_id for i in idx if ordered[i].person_id is not None)
        proposals.extend((-count, person, position) for person, count in tally.items())
    proposals.sort()
    for _, person, position in proposals:
        if names[position] is not None or person in taken:
            continue
        if person in manual_photos and manual_photos[person] & photos[position]:
            continue
        names[position] = person
        taken.add(person)
    return [name if name is not None else new_id() for name in names]


# -- people-level helpers ------------------------------------------------------------


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
    return (mean / norm).astype(np.float32)


def suggestions(
    person_centroids: Mapping[str, np.ndarray], person_id: str, limit: int = 10
) -> list[tuple[str, float]]:
    """Other people ordered by cosine similarity of their centroids to person_id's, highest
    first (ties by id): the "are these the same person?" list."""
    if person_id not in person_centroids or limit <= 0:
        return []
    target = _as_unit(person_centroids[person_id])
    others = [other for other in person_centroids if other != person_id]
    if not others:
        return []
    matrix = np.stack([_as_unit(person_centroids[other]) for other in others])
    scores = (matrix @ target).tolist()
    ranked = sorted(zip(others, scores, strict=True), key=lambda pair: (-pair[1], pair[0]))
    return [(other, float(score)) for other, score in ranked[:limit]]


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
