"""Face grouping for one user: incremental assignment of new faces, full re-clustering,
and the manual fixes users make. The algorithms are in ``clustering``; this
module loads and saves their inputs and outputs.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from cheese_runtime.consent import FACE_GROUPING, Consents
from cheese_runtime.db.types import new_id
from cheese_runtime.observability import logger
from functions.photos.clustering import ClusterParams, FaceRecord, Gallery, assign, recluster
from functions.photos.dal import (
    FaceRepository,
    PersonRepository,
    embedding_from_bytes,
)
from functions.photos.face_index import RekognitionFaceIndex, external_index
from functions.photos.models import Face

PARAMS = ClusterParams()


def _record(face: Face) -> FaceRecord:
    assert face.embedding is not None
    # The cut, not the photo, is where two faces must be two people: a four-cut
    # print shows the same friends in every cut.
    return FaceRecord(
        face_id=face.id,
        photo_id=f"{face.photo_id}:{face.cut}",
        embedding=embedding_from_bytes(face.embedding),
        person_id=face.person_id,
        manual=face.assigned_manually,
    )


def group_new_faces(session: Session, user_id: str, new_faces: Sequence[Face]) -> None:
    """Assign the usable new faces of a photo to people (DBSCAN-derived, incremental)."""
    candidates = [f for f in new_faces if f.usable and f.embedding is not None]
    if not candidates:
        return
    # One grouping per user at a time, and none while the consent is being withdrawn.
    Consents(session).lock(user_id, FACE_GROUPING)
    index = external_index()
    if index is not None:
        _group_with_rekognition(session, user_id, candidates, index)
        return
    faces = {f.id: f for f in FaceRepository(session).clusterable(user_id)}
    records = {face_id: _record(face) for face_id, face in faces.items()}
    gallery = Gallery(records.values())
    people = PersonRepository(session)
    for face in candidates:
        record = records[face.id]
        decision = assign(record, gallery, PARAMS)
        if decision.person_id is not None:
            _set_person(faces[face.id], records[face.id], decision.person_id)
        elif decision.new_person_faces:
            person = people.add(user_id, new_id())
            for member in decision.new_person_faces:
                if records[member].person_id is None:
                    _set_person(faces[member], records[member], person.id)
    refresh_covers(session, user_id)


def _group_with_rekognition(
    session: Session, user_id: str, candidates: Sequence[Face], index: RekognitionFaceIndex
) -> None:
    """Rekognition's search decides: join the best match's person (never one already in this photo)."""
    faces, people = FaceRepository(session), PersonRepository(session)
    for face in candidates:
        if face.index_face_id is None:
            continue
        matches = index.search(user_id, face.index_face_id)
        known = faces.by_index_ids(user_id, [face_id for face_id, _ in matches])
        in_photo = {f.person_id for f in candidates if f.person_id and f.cut == face.cut}
        person_id = next(
            (
                known[m].person_id
                for m, _ in matches
                if m in known and known[m].person_id and known[m].person_id not in in_photo
            ),
            None,
        )
        if person_id is None:
            person_id = people.add(user_id, new_id()).id
        face.person_id = person_id
        index.associate_person(user_id, person_id, [face.index_face_id])
    refresh_covers(session, user_id)


def _set_person(face: Face, record: FaceRecord, person_id: str | None) -> None:
    face.person_id = person_id
    record.person_id = person_id


def recluster_user(session: Session, user_id: str) -> dict[str, int]:
    """Re-cluster all of a user's faces; manual assignments stay as they are."""
    Consents(session).lock(user_id, FACE_GROUPING)
    faces = FaceRepository(session).clusterable(user_id)
    people = PersonRepository(session)
    existing = {p.id for p in people.for_user(user_id)}
    assignment = recluster([_record(f) for f in faces], PARAMS, new_id)
    moved = 0
    for face in faces:
        target = assignment.get(face.id)
        if face.assigned_manually or target == face.person_id:
            continue
        if target is not None and target not in existing:
            people.add(user_id, target)
            existing.add(target)
        face.person_id = target
        moved += 1
    session.flush()
    people.delete_empty(user_id)
    refresh_covers(session, user_id)
    logger.info("reclustered", extra={"faces": len(faces), "moved": moved})
    return {"faces": len(faces), "moved": moved}


def refresh_covers(session: Session, user_id: str) -> None:
    """Every person's cover is one of its faces: the sharpest large one."""
    session.flush()
    people = PersonRepository(session)
    faces_by_person: dict[str, list[Face]] = {}
    for face in FaceRepository(session).clusterable(user_id):
        if face.person_id:
            faces_by_person.setdefault(face.person_id, []).append(face)
    for person in people.for_user(user_id):
        members = faces_by_person.get(person.id, [])
        if members and person.cover_face_id not in {f.id for f in members}:
            best = max(
                members,
                key=lambda f: (
                    f.quality.get("face_size", 0) * min(f.quality.get("sharpness", 0), 500)
                ),
            )
            person.cover_face_id = best.id
