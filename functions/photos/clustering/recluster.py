"""Full re-clustering of one user's faces: constrained single linkage over the core graph."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from functions.photos.clustering.faces import ClusterParams, FaceRecord, similarity_threshold

# Row/column tile of the chunked neighbourhood search: a 512 x 8192 float32 tile
# of similarities is 16 MB, so nothing near n x n is ever held in memory.
_ROW_BLOCK = 512
_COL_BLOCK = 8192


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
    threshold = similarity_threshold(max_distance)
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
        # Only a root's sets are read; a merged group's are emptied.
        self.photos: list[set[int]] = [{p} for p in photos]
        self.manual: list[str | None] = [None] * n
        # person ids the non-manual members had before this re-cluster
        self.previous: list[set[str]] = [{p} if p is not None else set() for p in previous]
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
        self.photos[b] = set()
        self.previous[a] |= self.previous[b]
        self.previous[b] = set()
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
    # A border face is a lone face (one neighbour at most): it joins only when the whole
    # group agrees (mean distance to all its faces), not on the word of one close face.
    lone_min_mean = 1.0 - params.lone_max_mean_distance
    while border_links:
        _, i, j = heapq.heappop(border_links)
        if placed[i]:
            continue
        root = find(j)
        if not groups.can_merge(root, i, lone_min_mean):
            continue
        placed[i] = True
        groups.union(root, i)

    pairs_kept = _pair_people(groups, rows, cols, sims, placed | core | fixed, params)

    # Collect groups; suppress small ones without a manual face (pairs of close faces aside).
    members: dict[int, list[int]] = {}
    for i in range(n):
        members.setdefault(find(i), []).append(i)
    clusters = [
        idx
        for root, idx in members.items()
        if len(idx) >= params.min_faces or groups.manual[root] is not None or root in pairs_kept
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


def _pair_people(
    groups: _Groups,
    rows: np.ndarray,
    cols: np.ndarray,
    sims: np.ndarray,
    taken: np.ndarray,
    params: ClusterParams,
) -> set[int]:
    """Roots of the two-face people: two faces left out of every group (`taken` false), of
    two photos, each the other's nearest face, at most pair_max_distance apart (a person seen
    in only two photos; Immich's minFaces leaves them out for ever)."""
    n = len(taken)
    best = np.full(n, -1, dtype=np.int64)
    best_sim = np.full(n, -2.0, dtype=np.float32)
    # Each face's nearest neighbour over the kept edges (every face's nearest is among them).
    for src, dst in ((rows, cols), (cols, rows)):
        order = np.lexsort((dst, -sims, src))  # per source: most similar first, ties by index
        first = np.ones(len(order), dtype=bool)
        first[1:] = src[order][1:] != src[order][:-1]
        heads = order[first]
        better = sims[heads] > best_sim[src[heads]]
        best[src[heads][better]] = dst[heads][better]
        best_sim[src[heads][better]] = sims[heads][better]
    threshold = similarity_threshold(params.pair_max_distance)
    kept: set[int] = set()
    for i in np.flatnonzero((best >= 0) & ~taken & (best_sim >= threshold)).tolist():
        j = int(best[i])
        if j <= i or best[j] != i or taken[j]:
            continue  # each pair once, from its smaller index; mutual nearest only
        if groups.can_merge(i, j, 1.0 - params.pair_max_distance):
            kept.add(groups.union(i, j))
    return kept


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
        tally = Counter(person for i in idx if (person := ordered[i].person_id) is not None)
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
