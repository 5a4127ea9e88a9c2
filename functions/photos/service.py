"""Photos and people: what the API does, independent of HTTP."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cheese_runtime import aws, consent, events
from cheese_runtime import storage as files
from cheese_runtime.accounts import lock_active_user
from cheese_runtime.consent import ConsentRequired, Consents
from cheese_runtime.db.session import session_scope
from cheese_runtime.db.types import new_id, utcnow
from cheese_runtime.errors import InvalidCursor
from cheese_runtime.observability import metrics
from cheese_runtime.pagination import decode_cursor, encode_cursor
from cheese_runtime.settings import get_settings
from functions.photos import storage
from functions.photos.dal import (
    DuplicatePhoto,
    FaceRepository,
    PersonRepository,
    PhotoRepository,
    embedding_from_bytes,
    embedding_to_bytes,
)
from functions.photos.errors import (
    AnonymisedViewFailed,
    BoxOutsidePhoto,
    FaceNotFound,
    MeNotSet,
    MergeAlreadyUndone,
    MergeNotFound,
    MergeOutdated,
    NothingToMerge,
    NothingToSplit,
    PeopleAppearTogether,
    PersonNotFound,
    PhotoNotAnalysed,
    PhotoNotFound,
    PhotoTooLarge,
)
from functions.photos.face_index import external_index
from functions.photos.importance import PersonFaces, importance, is_background
from functions.photos.models import AnonymisedView, Face, Person, PersonMerge, Photo
from functions.photos.schemas import (
    AnonymisedOut,
    AnonymiseStyle,
    ConsentOut,
    DrawnBox,
    FaceBox,
    FaceOut,
    ImportResponse,
    MergedPersonOut,
    PersonOut,
    PersonPage,
    PersonPatch,
    PhotoOut,
    PhotoPage,
    PresignedPost,
    Suggestion,
    UndoneMerge,
    UploadRequest,
    UploadResponse,
)

# --- shaping ------------------------------------------------------------------


def face_out(face: Face) -> FaceOut:
    quality = face.quality or {}
    score = min(1.0, quality.get("face_size", 0) / 112) * min(
        1.0, quality.get("sharpness", 0) / 100
    )
    return FaceOut(
        id=face.id,
        box=FaceBox(x=face.box_x, y=face.box_y, w=face.box_w, h=face.box_h),
        quality=round(score, 3),
        usable=face.usable,
        person_id=face.person_id,
        smile=round(face.smile, 1) if face.smile is not None else None,
        expression=face.expression,
        drawn=face.drawn,
    )


def photo_out(photo: Photo, faces: list[Face]) -> PhotoOut:
    ready = photo.status == "analyzed"
    # A duplicate's original is removed: its bytes are the other photo's.
    uploaded = photo.status not in ("pending", "duplicate")
    return PhotoOut(
        id=photo.id,
        status=photo.status,
        failure_reason=photo.failure_reason,
        duplicate_of=photo.duplicate_of,
        source=photo.source,
        content_type=photo.content_type,
        width=photo.width,
        height=photo.height,
        created_at=photo.created_at,
        taken_at=photo.taken_at,
        analyzed_at=photo.analyzed_at,
        image_url=storage.presigned_get(storage.original_key(photo.user_id, photo.id))
        if uploaded
        else None,
        thumbnail_url=storage.presigned_get(storage.thumbnail_key(photo.user_id, photo.id))
        if ready
        else None,
        faces=[face_out(f) for f in faces],
    )


def person_out(
    person: Person,
    counts: dict[str, tuple[int, int]],
    cover: Face | None,
    importance: float = 0.0,
) -> PersonOut:
    photos, faces = counts.get(person.id, (0, 0))
    url = (
        storage.presigned_get(storage.face_crop_key(cover.user_id, cover.photo_id, cover.id))
        if cover
        else None
    )
    return PersonOut(
        id=person.id,
        name=person.name,
        hidden=person.hidden,
        is_me=person.is_me,
        photo_count=photos,
        face_count=faces,
        cover_face_url=url,
        groups=list(person.groups or []),
        importance=importance,
    )


# --- photos ---------------------------------------------------------------------


def create_upload(user_id: str, request: UploadRequest) -> UploadResponse:
    settings = get_settings()
    if request.size_bytes > settings.max_upload_bytes:
        raise PhotoTooLarge(f"Photos are limited to {settings.max_upload_bytes} bytes.")
    sha256 = request.sha256.lower() if request.sha256 else None
    with session_scope() as session:
        lock_active_user(session, user_id)
        photos = PhotoRepository(session)
        try:
            photo = photos.add(
                Photo(
                    user_id=user_id,
                    source="upload",
                    content_type=request.content_type,
                    size_bytes=request.size_bytes,
                    sha256=sha256,
                    status="pending",
                )
            )
        except DuplicatePhoto as duplicate:
            return UploadResponse(photo_id=duplicate.photo_id, upload=None, duplicate=True)
        spec = storage.upload_spec(
            storage.original_key(user_id, photo.id), request.content_type, request.size_bytes
        )
        post = files.presigned_upload(storage.bucket(), spec)
    metrics.add_metric(name="UploadsStarted", unit=MetricUnit.Count, value=1)
    return UploadResponse(photo_id=photo.id, upload=PresignedPost(url=post.url, fields=post.fields))


def store_imported(
    user_id: str, images: Sequence[tuple[bytes, str, str]], source: str
) -> ImportResponse:
    """Store fetched images (bytes, content type, source URL) as photos; their objects start the analysis."""
    photo_ids: list[str] = []
    for body, content_type, source_url in images:
        sha256 = hashlib.sha256(body).hexdigest()
        with session_scope() as session:
            lock_active_user(session, user_id)
            try:
                photo = PhotoRepository(session).add(
                    Photo(
                        user_id=user_id,
                        source=source,
                        source_url=source_url[:2000],
                        content_type=content_type,
                        size_bytes=len(body),
                        sha256=sha256,
                        status="pending",
                    )
                )
            except DuplicatePhoto as duplicate:
                photo_ids.append(duplicate.photo_id)
                continue
            photo_id = photo.id
        storage.put_original(storage.original_key(user_id, photo_id), body, content_type)
        photo_ids.append(photo_id)
    metrics.add_metric(name="PhotosImported", unit=MetricUnit.Count, value=len(photo_ids))
    return ImportResponse(photo_ids=photo_ids)


def list_photos(
    user_id: str,
    *,
    limit: int,
    cursor: str | None,
    person_ids: list[str],
    source: str | None,
    taken_from: datetime | None,
    taken_to: datetime | None,
) -> PhotoPage:
    position = decode_cursor(cursor)
    after = None
    if position is not None:
        try:
            after = (datetime.fromisoformat(position["t"]), str(position["id"]))
        except (KeyError, ValueError, TypeError) as exc:
            raise InvalidCursor() from exc
    with session_scope() as session:
        if person_ids and len(PersonRepository(session).owned_many(user_id, person_ids)) != len(
            set(person_ids)
        ):
            raise PersonNotFound()
        photos = PhotoRepository(session).page(
            user_id,
            limit=limit + 1,
            after=after,
            person_ids=person_ids,
            source=source,
            taken_from=taken_from,
            taken_to=taken_to,
        )
        page, more = photos[:limit], len(photos) > limit
        faces = FaceRepository(session).for_photos([p.id for p in page])
        items = [photo_out(p, faces[p.id]) for p in page]
    next_cursor = (
        encode_cursor({"t": page[-1].taken_at.isoformat(), "id": page[-1].id}) if more else None
    )
    return PhotoPage(items=items, next_cursor=next_cursor)


def get_photo(user_id: str, photo_id: str) -> PhotoOut:
    with session_scope() as session:
        photo = PhotoRepository(session).owned(user_id, photo_id)
        if photo is None:
            raise PhotoNotFound()
        return photo_out(photo, FaceRepository(session).for_photo(photo_id))


def delete_photo(user_id: str, photo_id: str) -> None:
    from functions.photos.grouping import refresh_covers  # numpy: only when faces move

    with session_scope() as session:
        photos = PhotoRepository(session)
        if photos.owned(user_id, photo_id) is None:
            raise PhotoNotFound()
        index_ids = FaceRepository(session).index_face_ids(user_id, photo_id)
        photos.delete(photo_id)
        duplicates = photos.delete_duplicates_of(photo_id)
        session.flush()
        PersonRepository(session).delete_empty(user_id)
        refresh_covers(session, user_id)
    index = external_index()
    if index is not None and index_ids:
        index.delete_faces(index_ids)
    storage.delete_keys([storage.original_key(user_id, pid) for pid in (photo_id, *duplicates)])
    storage.delete_prefix(storage.derived_prefix(user_id, photo_id))
    events.publish(
        events.PhotoDeleted(photo_id=photo_id, user_id=user_id, deleted_at=utcnow().isoformat()),
    )
    metrics.add_metric(name="PhotosDeleted", unit=MetricUnit.Count, value=1)


# --- consent ------------------------------------------------------------------------


def consent_out(user_id: str) -> ConsentOut:
    with session_scope() as session:
        decisions = Consents(session).decisions(user_id)
    grouping = decisions[consent.FACE_GROUPING.name]
    expressions = decisions[consent.EXPRESSION_ANALYSIS.name]
    poses = decisions[consent.POSE_ANALYSIS.name]
    examples = decisions[consent.POSE_EXAMPLES.name]
    return ConsentOut(
        face_grouping=grouping.granted,
        face_grouping_changed_at=grouping.changed_at,
        expression_analysis=expressions.granted,
        expression_analysis_changed_at=expressions.changed_at,
        pose_analysis=poses.granted,
        pose_analysis_changed_at=poses.changed_at,
        pose_examples=examples.granted,
        pose_examples_changed_at=examples.changed_at,
    )


def set_consent(
    user_id: str,
    face_grouping: bool,
    expression_analysis: bool,
    pose_analysis: bool | None = None,
    pose_examples: bool | None = None,
) -> ConsentOut:
    """Store consent; withdrawing it erases what it allowed, at once (functions/photos/withdrawal).

    The pose scopes are optional (None leaves them as they are).
    """
    answers = {
        consent.FACE_GROUPING: face_grouping,
        consent.EXPRESSION_ANALYSIS: expression_analysis,
    }
    if pose_analysis is not None:
        answers[consent.POSE_ANALYSIS] = pose_analysis
    if pose_examples is not None:
        answers[consent.POSE_EXAMPLES] = pose_examples
    # Registers every function's withdrawal hooks; imported here, where the only decision
    # is taken, and not by the cold start of every other route (about 35 ms).
    from functions.photos import withdrawal  # noqa: F401

    with session_scope() as session:
        lock_active_user(session, user_id)
        Consents(session).decide(user_id, answers)
    return consent_out(user_id)


# --- people ---------------------------------------------------------------------------


def _covers(session: Session, people: Sequence[Person]) -> dict[str, Face]:
    ids = [p.cover_face_id for p in people if p.cover_face_id]
    if not ids:
        return {}
    return {f.id: f for f in session.query(Face).filter(Face.id.in_(ids))}


def _people_faces(session: Session, user_id: str) -> dict[str, PersonFaces]:
    faces: dict[str, PersonFaces] = {}
    for person_id, photo_id, quality in FaceRepository(session).grouped_summary(user_id):
        entry = faces.setdefault(person_id, PersonFaces())
        entry.face_sizes.append(int((quality or {}).get("face_size", 0)))
        entry.photo_ids.add(photo_id)
    return faces


def _importances(people: Sequence[Person], faces: dict[str, PersonFaces]) -> dict[str, float]:
    me_photos = {
        photo for p in people if p.is_me for photo in faces.get(p.id, PersonFaces()).photo_ids
    }
    return {
        p.id: importance(faces.get(p.id, PersonFaces()), set() if p.is_me else me_photos)
        for p in people
    }


def list_people(
    user_id: str,
    *,
    limit: int,
    cursor: str | None,
    include_hidden: bool,
    group: str | None = None,
    include_background: bool = False,
) -> PersonPage:
    position = decode_cursor(cursor) or {"offset": 0}
    offset = position.get("offset")
    if not isinstance(offset, int) or offset < 0:
        raise InvalidCursor()
    with session_scope() as session:
        repo = PersonRepository(session)
        counts = repo.counts(user_id)
        everyone = repo.for_user(user_id)
        faces = _people_faces(session, user_id)
        scores = _importances(everyone, faces)
        people = [
            p
            for p in everyone
            if (include_hidden or not p.hidden)
            and (group is None or group in (p.groups or []))
            and (
                include_background
                or not is_background(
                    faces.get(p.id, PersonFaces()), named=bool(p.name), is_me=p.is_me
                )
            )
        ]
        # "Me" first, then the most important; ties by id so pages are stable.
        people.sort(key=lambda p: (not p.is_me, -scores[p.id], p.id))
        page = people[offset : offset + limit]
        covers = _covers(session, page)
        items = [
            person_out(p, counts, covers.get(p.cover_face_id or ""), scores[p.id]) for p in page
        ]
    more = offset + limit < len(people)
    return PersonPage(
        items=items, next_cursor=encode_cursor({"offset": offset + limit}) if more else None
    )


def _person_or_404(session: Session, user_id: str, person_id: str) -> Person:
    person = PersonRepository(session).owned(user_id, person_id)
    if person is None:
        raise PersonNotFound()
    return person


def one_person(session: Session, user_id: str, person: Person) -> PersonOut:
    repo = PersonRepository(session)
    counts = repo.counts(user_id)
    scores = _importances(repo.for_user(user_id), _people_faces(session, user_id))
    cover = _covers(session, [person]).get(person.cover_face_id or "")
    return person_out(person, counts, cover, scores.get(person.id, 0.0))


def publish_me_faces(user_id: str) -> None:
    """Tell other functions (smile_rank's ``is_me``) which faces are the owner's own now."""
    with session_scope() as session:
        me = [p.id for p in PersonRepository(session).for_user(user_id) if p.is_me]
        face_ids = [f.id for f in FaceRepository(session).for_person(me[0])] if me else []
    events.publish(
        events.MeFacesChanged(user_id=user_id, face_ids=face_ids, changed_at=utcnow().isoformat())
    )


def get_person(user_id: str, person_id: str) -> PersonOut:
    with session_scope() as session:
        return one_person(session, user_id, _person_or_404(session, user_id, person_id))


def _photos_together(faces_by_person: dict[str, list[Face]]) -> list[str]:
    """Photos in which two of these people are in the same cut (the cannot-link rule).

    In a four-cut print the same friend is in every cut, so people seen in
    different cuts of one print may still be one person (functions/photos/cuts.py).
    """
    seen: dict[tuple[str, int], str] = {}
    together: set[str] = set()
    for person_id, faces in faces_by_person.items():
        for face in faces:
            other = seen.setdefault((face.photo_id, face.cut), person_id)
            if other != person_id:
                together.add(face.photo_id)
    return sorted(together)


def _seen_with(session: Session, user_id: str, person_id: str) -> set[str]:
    """The people in the same cut of a photo as this person."""
    places = {(f.photo_id, f.cut) for f in FaceRepository(session).for_person(person_id)}
    if not places:
        return set()
    photos = FaceRepository(session).for_photos(sorted({photo for photo, _ in places}))
    return {
        face.person_id
        for faces in photos.values()
        for face in faces
        if face.person_id
        and face.person_id != person_id
        and face.user_id == user_id
        and (face.photo_id, face.cut) in places
    }


def patch_person(user_id: str, person_id: str, patch: PersonPatch) -> PersonOut:
    with session_scope() as session:
        person = _person_or_404(session, user_id, person_id)
        fields = patch.model_fields_set
        if "name" in fields:
            person.name = patch.name.strip() if patch.name and patch.name.strip() else None
        if "hidden" in fields and patch.hidden is not None:
            person.hidden = patch.hidden
        if "is_me" in fields and patch.is_me is not None:
            if patch.is_me:
                PersonRepository(session).clear_me(user_id)  # one "me" per user
            person.is_me = patch.is_me
        if "groups" in fields and patch.groups is not None:
            # Trimmed, without repeats, in the order given.
            person.groups = list(dict.fromkeys(g.strip() for g in patch.groups if g.strip()))
        session.flush()
        result = one_person(session, user_id, person)
    if "is_me" in patch.model_fields_set and patch.is_me is not None:
        publish_me_faces(user_id)
    return result


def _fields(person: Person) -> dict[str, Any]:
    return {
        "name": person.name,
        "hidden": person.hidden,
        "is_me": person.is_me,
        "groups": list(person.groups or []),
    }


def merge_people(user_id: str, person_id: str, source_ids: list[str]) -> MergedPersonOut:
    from functions.photos.grouping import refresh_covers  # numpy: only when faces move

    sources = set(source_ids) - {person_id}
    if not sources:
        raise NothingToMerge()
    with session_scope() as session:
        target = _person_or_404(session, user_id, person_id)
        repo = PersonRepository(session)
        merged = repo.owned_many(user_id, sorted(sources))
        if len(merged) != len(sources):
            raise PersonNotFound()
        faces = FaceRepository(session)
        by_person = {p.id: faces.for_person(p.id) for p in (target, *merged)}
        together = _photos_together(by_person)
        if together:
            raise PeopleAppearTogether(
                f"They are side by side in {len(together)} photo(s): one of them is someone else.",
                photo_ids=together,
            )
        record = PersonMerge(
            id=new_id(),
            user_id=user_id,
            target_person_id=target.id,
            target=_fields(target),
            sources=[
                {
                    "person_id": source.id,
                    **_fields(source),
                    "faces": [
                        {"id": f.id, "assigned_manually": f.assigned_manually}
                        for f in by_person[source.id]
                    ],
                }
                for source in merged
            ],
        )
        session.add(record)
        for source in merged:
            for face in by_person[source.id]:
                # The user said these are one person: re-clustering must not split them again.
                face.person_id, face.assigned_manually = target.id, True
            target.is_me = target.is_me or source.is_me
            target.name = target.name or source.name
            target.groups = list(dict.fromkeys([*(target.groups or []), *(source.groups or [])]))
        session.flush()
        repo.delete_empty(user_id)
        refresh_covers(session, user_id)
        result = one_person(session, user_id, target)
    if result.is_me:
        publish_me_faces(user_id)
    return MergedPersonOut(**result.model_dump(), merge_id=record.id)


def undo_merge(user_id: str, merge_id: str) -> UndoneMerge:
    """Give back every person a merge folded in, with the faces that are still in the kept one.

    Faces the user moved elsewhere since stay where they are; the kept person gets its own
    name, groups and "me" back.
    """
    from functions.photos.grouping import refresh_covers  # numpy: only when faces move

    with session_scope() as session:
        record = session.get(PersonMerge, merge_id)
        if record is None or record.user_id != user_id:
            raise MergeNotFound()
        if record.undone_at is not None:
            raise MergeAlreadyUndone()
        repo = PersonRepository(session)
        target = repo.owned(user_id, record.target_person_id)
        if target is None:
            raise MergeOutdated()
        faces = FaceRepository(session)
        restored: list[Person] = []
        for source in record.sources:
            person = repo.owned(user_id, source["person_id"]) or repo.add(
                user_id, source["person_id"]
            )
            person.name, person.hidden = source["name"], source["hidden"]
            person.is_me, person.groups = source["is_me"], list(source["groups"])
            for moved in source["faces"]:
                face = faces.owned(user_id, moved["id"])
                if face is not None and face.person_id == target.id:
                    face.person_id, face.assigned_manually = person.id, moved["assigned_manually"]
            restored.append(person)
        before = record.target
        me_involved = target.is_me or any(source["is_me"] for source in record.sources)
        target.name, target.hidden = before["name"], before["hidden"]
        target.is_me, target.groups = before["is_me"], list(before["groups"])
        record.undone_at = utcnow()
        session.flush()
        repo.delete_empty(user_id)
        refresh_covers(session, user_id)
        with_faces = repo.counts(user_id)
        # A person none of whose faces were left to give back is not restored.
        people = [
            one_person(session, user_id, p) for p in (target, *restored) if p.id in with_faces
        ]
    if me_involved:
        publish_me_faces(user_id)
    return UndoneMerge(people=people)


def split_person(user_id: str, person_id: str, face_ids: list[str]) -> PersonOut:
    """Some of a person's faces are someone else: they become a new person, kept together."""
    from functions.photos.grouping import refresh_covers  # numpy: only when faces move

    wanted = set(face_ids)
    with session_scope() as session:
        person = _person_or_404(session, user_id, person_id)
        faces = FaceRepository(session).for_person(person.id)
        moving = [f for f in faces if f.id in wanted]
        if len(moving) != len(wanted):
            raise FaceNotFound("Every face must be one of this person's.")
        if len(moving) == len(faces):
            raise NothingToSplit()
        repo = PersonRepository(session)
        new_person = repo.add(user_id, new_id())
        for face in faces:
            # Both sides are the user's word now: re-clustering keeps them apart.
            face.assigned_manually = True
            if face.id in wanted:
                face.person_id = new_person.id
        session.flush()
        refresh_covers(session, user_id)
        result = one_person(session, user_id, new_person)
        me_changed = person.is_me
    if me_changed:
        publish_me_faces(user_id)
    return result


def person_suggestions(user_id: str, person_id: str, limit: int) -> list[Suggestion]:
    import numpy as np

    from functions.photos.clustering import centroid, suggestions

    with session_scope() as session:
        person = _person_or_404(session, user_id, person_id)
        by_person: dict[str, list[np.ndarray]] = {}
        for face in FaceRepository(session).clusterable(user_id):
            # clusterable() keeps faces with an embedding; the test narrows the column's type.
            if face.person_id and face.embedding is not None:
                by_person.setdefault(face.person_id, []).append(
                    embedding_from_bytes(face.embedding)
                )
        if person.id not in by_person:
            return []
        # Someone side by side with this person in one cut is someone else: never proposed.
        for other in _seen_with(session, user_id, person.id):
            by_person.pop(other, None)
        centroids = {pid: centroid(np.stack(vectors)) for pid, vectors in by_person.items()}
        ranked = suggestions(centroids, person.id, limit=limit)
        people = {
            p.id: p
            for p in PersonRepository(session).owned_many(user_id, [pid for pid, _ in ranked])
        }
        counts = PersonRepository(session).counts(user_id)
        covers = _covers(session, list(people.values()))
        return [
            Suggestion(
                person=person_out(people[pid], counts, covers.get(people[pid].cover_face_id or "")),
                similarity=round(float(similarity), 4),
            )
            for pid, similarity in ranked
            if pid in people
        ]


def person_photos(user_id: str, person_id: str, *, limit: int, cursor: str | None) -> PhotoPage:
    with session_scope() as session:
        _person_or_404(session, user_id, person_id)
    return list_photos(
        user_id,
        limit=limit,
        cursor=cursor,
        person_ids=[person_id],
        source=None,
        taken_from=None,
        taken_to=None,
    )


def move_faces(session: Session, user_id: str, faces: Sequence[Face], target: Person) -> bool:
    """Make ``faces`` manual faces of ``target`` (no re-cluster moves them again); people
    left empty go, covers follow. True if the "me" person's faces changed: the caller
    publishes them once the transaction is committed (``publish_me_faces``)."""
    from functions.photos.grouping import refresh_covers  # numpy: only when faces move

    repo = PersonRepository(session)
    previous = {f.person_id for f in faces if f.person_id not in (None, target.id)}
    me_changed = target.is_me or any(
        (person := repo.owned(user_id, pid)) is not None and person.is_me for pid in previous
    )
    for face in faces:
        face.person_id, face.assigned_manually = target.id, True
    session.flush()
    repo.delete_empty(user_id)
    refresh_covers(session, user_id)
    return me_changed


def assign_face(user_id: str, face_id: str, person_id: str | None) -> PersonOut:
    with session_scope() as session:
        face = FaceRepository(session).owned(user_id, face_id)
        if face is None:
            raise FaceNotFound()
        if face.embedding is None:
            raise ConsentRequired(consent.FACE_GROUPING)
        repo = PersonRepository(session)
        target = (
            _person_or_404(session, user_id, person_id)
            if person_id
            else repo.add(user_id, new_id())
        )
        me_changed = move_faces(session, user_id, [face], target)
        result = one_person(session, user_id, target)
    if me_changed:
        publish_me_faces(user_id)
    return result


def draw_face(user_id: str, photo_id: str, box: DrawnBox) -> FaceOut:
    """A face the detector missed: embedded, grouped at once, kept by every re-cluster."""
    from cheese_ml.analysis import Box
    from cheese_ml.images import decode_image, encode_jpeg
    from cheese_ml.render import crop_face
    from functions.photos.analyzer import FACE_CROP_SIDE
    from functions.photos.cuts import cut_of_faces
    from functions.photos.drawn_faces import analyse_drawn_face
    from functions.photos.grouping import group_new_faces

    with session_scope() as session:
        photo = PhotoRepository(session).owned(user_id, photo_id)
        if photo is None:
            raise PhotoNotFound()
        if photo.status != "analyzed":
            raise PhotoNotAnalysed()
        if box.x + box.w > (photo.width or 0) or box.y + box.h > (photo.height or 0):
            raise BoxOutsidePhoto()
        decisions = Consents(session).decisions(user_id)
    original = aws.client("s3").get_object(
        Bucket=storage.bucket(), Key=storage.original_key(user_id, photo_id)
    )
    rgb = decode_image(original["Body"].read())
    landmarks, score, quality, embedding, expression = analyse_drawn_face(
        rgb,
        (box.x, box.y, box.w, box.h),
        embeddings=decisions[consent.FACE_GROUPING.name].granted,
        expressions=decisions[consent.EXPRESSION_ANALYSIS.name].granted,
    )
    face_id = new_id()
    storage.put_jpeg(
        storage.face_crop_key(user_id, photo_id, face_id),
        encode_jpeg(crop_face(rgb, Box(box.x, box.y, box.w, box.h), size=FACE_CROP_SIDE), 85),
    )
    [cut] = cut_of_faces(rgb, [(box.x + box.w / 2, box.y + box.h / 2)])
    with session_scope() as session:
        if PhotoRepository(session).owned(user_id, photo_id) is None:
            raise PhotoNotFound()  # deleted meanwhile
        face = Face(
            id=face_id,
            photo_id=photo_id,
            user_id=user_id,
            box_x=box.x,
            box_y=box.y,
            box_w=box.w,
            box_h=box.h,
            cut=cut,
            landmarks=landmarks,
            detection_score=score,
            quality={
                "face_size": quality.face_size,
                "sharpness": round(quality.sharpness, 2),
                "yaw": round(quality.yaw, 1),
                "pitch": round(quality.pitch, 1),
                "roll": round(quality.roll, 1),
            },
            usable=quality.usable_for_clustering,
            embedding=embedding_to_bytes(embedding) if embedding is not None else None,
            expression=expression,
            smile=round(100.0 * expression["happy"], 1) if expression is not None else None,
            assigned_manually=False,
            drawn=True,
        )
        session.add(face)
        session.flush()
        if embedding is not None:
            group_new_faces(session, user_id, [face])
            # In a person now: a manual face there, which no re-cluster takes out.
            face.assigned_manually = face.person_id is not None
        session.flush()
        drawn = face_out(face)
    if decisions[consent.POSE_ANALYSIS.name].granted:
        _reanalyse_poses(user_id, photo_id, rgb)
    return drawn


def _reanalyse_poses(user_id: str, photo_id: str, rgb: Any) -> None:
    """The photo's cut poses again, now with the drawn face's person in its cut."""
    from cheese_ml.analysis import Box
    from functions.photos.pose_analysis import FaceInput, analyse_cuts
    from functions.photos.poses_dal import replace_cut_poses

    with session_scope() as session:
        faces = [
            FaceInput(f.id, Box(f.box_x, f.box_y, f.box_w, f.box_h), f.cut, f.expression, f.smile)
            for f in FaceRepository(session).for_photo(photo_id)
        ]
    # MoveNet runs outside the transaction, as in the analysis.
    cuts = analyse_cuts(rgb, faces)
    with session_scope() as session:
        if PhotoRepository(session).owned(user_id, photo_id) is None:
            return  # deleted meanwhile
        # Locked as a withdrawal locks it: one withdrawn meanwhile has erased the poses.
        if not Consents(session).lock(user_id, consent.POSE_ANALYSIS):
            return
        replace_cut_poses(session, user_id, photo_id, cuts)


def request_recluster(user_id: str) -> None:
    consent.require_consent(user_id, consent.FACE_GROUPING)
    events.publish(events.ReclusterRequested(user_id=user_id))


# --- anonymised views -------------------------------------------------------------------


def anonymised_view(user_id: str, photo_id: str, keep: str, style: AnonymiseStyle) -> AnonymisedOut:
    with session_scope() as session:
        photo = PhotoRepository(session).owned(user_id, photo_id)
        if photo is None:
            raise PhotoNotFound()
        if photo.status != "analyzed":
            raise PhotoNotAnalysed()
        people = PersonRepository(session)
        if keep == "me":
            keep_ids = [p.id for p in people.for_user(user_id) if p.is_me]
            if not keep_ids:
                raise MeNotSet()
        else:
            keep_ids = sorted({k.strip() for k in keep.split(",") if k.strip()}) if keep else []
            if len(keep_ids) > 50 or len(people.owned_many(user_id, keep_ids)) != len(keep_ids):
                raise PersonNotFound()
    key = storage.anonymised_key(user_id, photo_id, keep_ids, style)
    if storage.exists(key):
        return AnonymisedOut(status="ready", url=storage.presigned_get(key))
    with session_scope() as session:
        view = session.get(AnonymisedView, key)
        if view is not None and view.status == "failed":
            raise AnonymisedViewFailed(
                f"This view cannot be rendered ({view.failure_reason}).",
                failure_reason=view.failure_reason,
            )
        if view is not None:
            return AnonymisedOut(status="rendering")  # asked for already; the reconciler watches
        try:
            with session.begin_nested():
                session.add(
                    AnonymisedView(
                        object_key=key,
                        user_id=user_id,
                        photo_id=photo_id,
                        keep_person_ids=keep_ids,
                        style=style,
                        status="rendering",
                    )
                )
        except IntegrityError:
            return AnonymisedOut(status="rendering")  # a concurrent request asked first
    events.publish(
        events.AnonymisedViewRequested(
            user_id=user_id,
            photo_id=photo_id,
            keep_person_ids=keep_ids,
            style=style,
            object_key=key,
        ),
    )
    return AnonymisedOut(status="rendering")
