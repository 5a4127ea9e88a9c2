"""Photos and people: what the API does, independent of HTTP."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from aws_lambda_powertools.metrics import MetricUnit
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cheese_runtime import consent, events, resources
from cheese_runtime import storage as files
from cheese_runtime.accounts import lock_active_user
from cheese_runtime.consent import ConsentRequired, Consents
from cheese_runtime.db.session import session_scope
from cheese_runtime.db.types import new_id, utcnow
from cheese_runtime.errors import InvalidCursor
from cheese_runtime.observability import metrics
from cheese_runtime.pagination import decode_cursor, encode_cursor
from cheese_runtime.settings import get_settings
from functions.photos import (
    storage,
    withdrawal,  # noqa: F401  (registers the consent withdrawal hooks)
)
from functions.photos.dal import (
    DuplicatePhoto,
    FaceRepository,
    PersonRepository,
    PhotoRepository,
    embedding_from_bytes,
)
from functions.photos.errors import (
    AnonymisedViewFailed,
    FaceNotFound,
    MeNotSet,
    NothingToMerge,
    PeopleAppearTogether,
    PersonNotFound,
    PhotoNotAnalysed,
    PhotoNotFound,
    PhotoTooLarge,
)
from functions.photos.face_index import external_index
from functions.photos.models import AnonymisedView, Face, Person, Photo
from functions.photos.schemas import (
    AnonymisedOut,
    ConsentOut,
    FaceBox,
    FaceOut,
    ImportResponse,
    PersonOut,
    PersonPage,
    PersonPatch,
    PhotoOut,
    PhotoPage,
    PresignedPost,
    Suggestion,
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


def person_out(person: Person, counts: dict[str, tuple[int, int]], cover: Face | None) -> PersonOut:
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
        resources.PHOTO_DELETED,
        events.PhotoDeleted(photo_id=photo_id, user_id=user_id, deleted_at=utcnow().isoformat()),
    )
    metrics.add_metric(name="PhotosDeleted", unit=MetricUnit.Count, value=1)


# --- consent ------------------------------------------------------------------------


def consent_out(user_id: str) -> ConsentOut:
    with session_scope() as session:
        decisions = Consents(session).decisions(user_id)
    grouping = decisions[consent.FACE_GROUPING.name]
    expressions = decisions[consent.EXPRESSION_ANALYSIS.name]
    return ConsentOut(
        face_grouping=grouping.granted,
        face_grouping_changed_at=grouping.changed_at,
        expression_analysis=expressions.granted,
        expression_analysis_changed_at=expressions.changed_at,
    )


def set_consent(user_id: str, face_grouping: bool, expression_analysis: bool) -> ConsentOut:
    """Store consent; withdrawing it erases what it allowed, at once (functions/photos/withdrawal)."""
    with session_scope() as session:
        lock_active_user(session, user_id)
        Consents(session).decide(
            user_id,
            {
                consent.FACE_GROUPING: face_grouping,
                consent.EXPRESSION_ANALYSIS: expression_analysis,
            },
        )
    return consent_out(user_id)


# --- people ---------------------------------------------------------------------------


def _covers(session: Session, people: Sequence[Person]) -> dict[str, Face]:
    ids = [p.cover_face_id for p in people if p.cover_face_id]
    if not ids:
        return {}
    return {f.id: f for f in session.query(Face).filter(Face.id.in_(ids))}


def list_people(
    user_id: str, *, limit: int, cursor: str | None, include_hidden: bool
) -> PersonPage:
    position = decode_cursor(cursor) or {"offset": 0}
    offset = position.get("offset")
    if not isinstance(offset, int) or offset < 0:
        raise InvalidCursor()
    with session_scope() as session:
        repo = PersonRepository(session)
        counts = repo.counts(user_id)
        people = [p for p in repo.for_user(user_id) if include_hidden or not p.hidden]
        # Most photographed first; ties by id so pages are stable.
        people.sort(key=lambda p: (-counts.get(p.id, (0, 0))[0], p.id))
        page = people[offset : offset + limit]
        covers = _covers(session, page)
        items = [person_out(p, counts, covers.get(p.cover_face_id or "")) for p in page]
    more = offset + limit < len(people)
    return PersonPage(
        items=items, next_cursor=encode_cursor({"offset": offset + limit}) if more else None
    )


def _person_or_404(session: Session, user_id: str, person_id: str) -> Person:
    person = PersonRepository(session).owned(user_id, person_id)
    if person is None:
        raise PersonNotFound()
    return person


def _one_person(session: Session, user_id: str, person: Person) -> PersonOut:
    counts = PersonRepository(session).counts(user_id)
    return person_out(person, counts, _covers(session, [person]).get(person.cover_face_id or ""))


def publish_me_faces(user_id: str) -> None:
    """Tell other functions (smile_rank's ``is_me``) which faces are the owner's own now."""
    with session_scope() as session:
        me = [p.id for p in PersonRepository(session).for_user(user_id) if p.is_me]
        face_ids = [f.id for f in FaceRepository(session).for_person(me[0])] if me else []
    events.publish(
        resources.ME_FACES_CHANGED,
        events.MeFacesChanged(user_id=user_id, face_ids=face_ids, changed_at=utcnow().isoformat()),
    )


def get_person(user_id: str, person_id: str) -> PersonOut:
    with session_scope() as session:
        return _one_person(session, user_id, _person_or_404(session, user_id, person_id))


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
        session.flush()
        result = _one_person(session, user_id, person)
    if "is_me" in patch.model_fields_set and patch.is_me is not None:
        publish_me_faces(user_id)
    return result


def merge_people(user_id: str, person_id: str, source_ids: list[str]) -> PersonOut:
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
        for source in merged:
            for face in by_person[source.id]:
                # The user said these are one person: re-clustering must not split them again.
                face.person_id, face.assigned_manually = target.id, True
            target.is_me = target.is_me or source.is_me
            target.name = target.name or source.name
        session.flush()
        repo.delete_empty(user_id)
        refresh_covers(session, user_id)
        result = _one_person(session, user_id, target)
    if result.is_me:
        publish_me_faces(user_id)
    return result


def person_suggestions(user_id: str, person_id: str, limit: int) -> list[Suggestion]:
    import numpy as np

    from functions.photos.clustering import centroid, suggestions

    with session_scope() as session:
        person = _person_or_404(session, user_id, person_id)
        by_person: dict[str, list[np.ndarray]] = {}
        for face in FaceRepository(session).clusterable(user_id):
            if face.person_id:
                by_person.setdefault(face.person_id, []).append(
                    embedding_from_bytes(face.embedding)
                )
        if person.id not in by_person:
            return []
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


def assign_face(user_id: str, face_id: str, person_id: str | None) -> PersonOut:
    from functions.photos.grouping import refresh_covers  # numpy: only when faces move

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
        previous = repo.owned(user_id, face.person_id) if face.person_id else None
        me_changed = target.is_me or (previous is not None and previous.is_me)
        face.person_id, face.assigned_manually = target.id, True
        session.flush()
        repo.delete_empty(user_id)
        refresh_covers(session, user_id)
        result = _one_person(session, user_id, target)
    if me_changed:
        publish_me_faces(user_id)
    return result


def request_recluster(user_id: str) -> None:
    consent.require_consent(user_id, consent.FACE_GROUPING)
    events.publish(resources.RECLUSTER_REQUESTED, events.ReclusterRequested(user_id=user_id))


# --- anonymised views -------------------------------------------------------------------


def anonymised_view(user_id: str, photo_id: str, keep: str, style: str) -> AnonymisedOut:
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
        resources.ANONYMISED_VIEW_REQUESTED,
        events.AnonymisedViewRequested(
            user_id=user_id,
            photo_id=photo_id,
            keep_person_ids=keep_ids,
            style=style,
            object_key=key,
        ),
    )
    return AnonymisedOut(status="rendering")
