"""Incremental assignment: place one new face among a user's gallery (DBSCAN-derived)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from functions.photos.clustering.faces import (
    ClusterParams,
    FaceRecord,
    as_unit,
    similarity_threshold,
)
from functions.photos.clustering.gallery import Gallery

# How many of the new face's nearest neighbours bound a candidate's neighbour count,
# and how many candidates one exact-count pass resolves at once.
_LOCAL_NEIGHBOURS = 64
_EXACT_BATCH = 16


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


def assign(face: FaceRecord, gallery: Gallery, params: ClusterParams) -> Assignment:
    """Place one new face incrementally (DBSCAN-derived, over the gallery plus this face).

    1. Join the person of the nearest *core* neighbour within max_distance whose person has
       no face in the same photo yet. A lone face (not core itself) joins only when that
       neighbour is within pair_max_distance; otherwise it is deferred.
    2. Otherwise, if some neighbour belongs to an admissible person (but none of them is
       core), defer: the re-cluster decides, instead of starting a duplicate person.
    3. Otherwise, if the face is core, propose a new person: the face plus its unassigned,
       non-manual neighbours, nearest first, at most one face per photo; if that leaves
       fewer than min_faces faces, defer.
    4. Otherwise, a lone face whose one neighbour is unassigned, of another photo, within
       pair_max_distance and has no face closer than this one: propose a person of two.
    5. Otherwise defer.
    A manual face keeps its person. The face may already be in the gallery (it is not
    counted twice) or not (it is counted as everyone's neighbour-to-be).
    """
    if face.manual:
        return Assignment(face.person_id, ())
    vector = as_unit(face.embedding)
    threshold = similarity_threshold(params.max_distance)
    self_index = gallery.position(face.face_id)
    extra = 0 if self_index is not None else 1  # this face, for its neighbours' counts
    near, similarities = gallery.near(vector, threshold)
    if self_index is not None:
        keep = near != self_index
        near, similarities = near[keep], similarities[keep]
    nearest_first = np.argsort(-similarities, kind="stable")
    near, similarities = near[nearest_first], similarities[nearest_first]
    records, photos, rows = gallery.records, gallery.photos, gallery.rows

    forbidden = gallery.persons_in_photo(face.photo_id, excluding=face.face_id)

    counts, exact = gallery.core_cache(params.max_distance)  # gallery-only neighbour counts
    needed = params.min_faces - extra  # a candidate is core when its gallery count >= needed
    local = near[:_LOCAL_NEIGHBOURS]
    local_vectors = rows[local] if len(local) else None
    local_set = set(local.tolist())
    order = near.tolist()
    # A lone face (not core itself) joins on a very close neighbour only; otherwise the
    # re-cluster decides, where the whole person must agree (lone_max_mean_distance).
    lone = 1 + len(order) < params.min_faces
    pair_threshold = similarity_threshold(params.pair_max_distance)
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
            values = gallery.exact_counts(np.asarray(batch, dtype=np.int64), params.max_distance)
            for other, value in zip(batch, values.tolist(), strict=True):
                counts[other] = value
                exact[other] = True
        if counts[index] >= needed:
            if lone and similarities[position] < pair_threshold:
                return Assignment(None, ())
            return Assignment(person, ())
    if person_near:
        return Assignment(None, ())  # a person is near, but not through a core face: wait

    if lone:
        return _pair_person(face, order, similarities, gallery, pair_threshold)
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


def _pair_person(
    face: FaceRecord,
    order: list[int],
    similarities: np.ndarray,  # of `order`, nearest first
    gallery: Gallery,
    pair_threshold: np.float32,
) -> Assignment:
    """A face with one unassigned neighbour, very close, each the other's nearest face: a
    person of two (recluster's pair rule, incrementally); anything else waits."""
    if len(order) != 1:
        return Assignment(None, ())
    (index,) = order
    record = gallery.records[index]
    similarity = float(similarities[0])
    if (
        similarity < pair_threshold
        or record.person_id is not None
        or record.manual
        or gallery.photos[index] == face.photo_id
    ):
        return Assignment(None, ())
    # Mutual: nobody in the gallery is closer to the neighbour than this face.
    rivals, _ = gallery.near(gallery.rows[index], np.float32(similarity))
    if any(
        other != index and gallery.records[other].face_id != face.face_id
        for other in rivals.tolist()
    ):
        return Assignment(None, ())
    return Assignment(None, (face.face_id, record.face_id))
