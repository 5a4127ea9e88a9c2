"""A person registered from 1–5 photos of them (``POST /v1/people``), for a user with no gallery yet.

Grouping needs three faces of a person before it makes one (``ClusterParams.min_faces``; two
only when they are very close, ``pair_max_distance``), and
the video anonymisation keeps people by id: a new user would have nobody to keep. Here the
photos become ordinary photos of the user's library, analysed and indexed at once by the
upload's own analysis on the bytes at hand (a photo already there is that photo). Each
original is stored only once analysed, so its S3 event finds the photo done instead of
racing a second analysis. In each photo the face of the person is chosen:

- the only face large and sharp enough to group; else the face closest to the faces chosen
  in the other photos; else, in a photo alone, a face at least twice as large as any other;
- every chosen face must lie within :data:`MAX_MEAN_DISTANCE` of the others on average, so
  that a photo of somebody else is refused rather than merged into the person.

The chosen faces go to the person most of them were grouped into already, or to a new one,
as manual faces (no re-cluster moves them). A refusal leaves nothing behind: the photos this
request added are deleted again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from aws_lambda_powertools.metrics import MetricUnit

from cheese_runtime import consent
from cheese_runtime import storage as files
from cheese_runtime.db.session import session_scope
from cheese_runtime.db.types import new_id
from cheese_runtime.observability import logger, metrics
from functions.photos import storage
from functions.photos.dal import (
    DuplicatePhoto,
    FaceRepository,
    PersonRepository,
    PhotoRepository,
    embedding_from_bytes,
)
from functions.photos.errors import (
    FacesDisagree,
    NoFaceFound,
    PhotoTooLarge,
    RegistrationPhotoCount,
    RegistrationPhotoUnreadable,
    SeveralFaces,
)
from functions.photos.models import Face, Photo
from functions.photos.schemas import PersonOut

MAX_PHOTOS = 5
# API Gateway's HTTP API takes at most 10 MB per request, the multipart framing included.
MAX_TOTAL_BYTES = 9 * 1024 * 1024
# Cosine distance. Of the fixtures' identities, different people lie ≥ 0.70 apart and one
# person's photos ≤ 0.36; true pairs across lighting reach 0.6 (functions/photos/CLUSTERING.md).
MAX_MEAN_DISTANCE = 0.6
# In a photo alone, the person's face is the one at least this much larger than any other.
DOMINANT_AREA_RATIO = 2.0


@dataclass(frozen=True)
class RegistrationPhoto:
    data: bytes

    @property
    def content_type(self) -> str | None:
        """What the bytes are (a client's part header is not trusted), None for no image."""
        return files.sniff(self.data[:64])


@dataclass(frozen=True)
class Candidate:
    face_id: str
    area: int
    embedding: np.ndarray


def _checked(photos: list[RegistrationPhoto]) -> None:
    """Refused before anything is stored: the count, the sizes, bytes that are no image."""
    from cheese_ml.images import ImageError, decode_image

    if not 1 <= len(photos) <= MAX_PHOTOS:
        raise RegistrationPhotoCount()
    if sum(len(p.data) for p in photos) > MAX_TOTAL_BYTES:
        raise PhotoTooLarge(f"Send at most {MAX_TOTAL_BYTES} bytes of photos in all.")
    for number, photo in enumerate(photos, start=1):
        if photo.content_type not in storage.ALLOWED_CONTENT_TYPES:
            raise RegistrationPhotoUnreadable(
                f"Photo {number} is not a JPEG, PNG or WebP image.", photo=number
            )
        try:
            decode_image(photo.data)
        except ImageError as error:
            raise RegistrationPhotoUnreadable(
                f"Photo {number} cannot be read ({error.code}).", photo=number
            ) from error


def _add_row(user_id: str, photo: RegistrationPhoto) -> tuple[str, bool]:
    """The photo's row in the library (its id), and whether this request added it."""
    import hashlib

    from cheese_runtime.accounts import lock_active_user

    content_type = photo.content_type
    assert content_type is not None  # _checked refused the rest

    with session_scope() as session:
        lock_active_user(session, user_id)
        try:
            row = PhotoRepository(session).add(
                Photo(
                    user_id=user_id,
                    source="upload",
                    content_type=content_type,
                    size_bytes=len(photo.data),
                    sha256=hashlib.sha256(photo.data).hexdigest(),
                    status="pending",
                )
            )
        except DuplicatePhoto as duplicate:
            return duplicate.photo_id, False
        return row.id, True


def _candidates(user_id: str, photo_id: str) -> list[Candidate]:
    with session_scope() as session:
        faces = FaceRepository(session).for_photo(photo_id)
        return [
            Candidate(f.id, f.box_w * f.box_h, embedding_from_bytes(f.embedding))
            for f in faces
            if f.usable and f.embedding is not None and f.user_id == user_id
        ]


def choose_faces(candidates: list[list[Candidate]]) -> list[Candidate]:
    """The person's face in each photo (see the module's rules); refusals name the photo."""
    for number, faces in enumerate(candidates, start=1):
        if not faces:
            raise NoFaceFound(f"Photo {number} shows no face large and sharp enough.", photo=number)

    def dominant(faces: list[Candidate]) -> Candidate | None:
        ranked = sorted(faces, key=lambda c: c.area, reverse=True)
        if len(ranked) == 1 or ranked[0].area >= DOMINANT_AREA_RATIO * ranked[1].area:
            return ranked[0]
        return None

    anchors = [faces[0] for faces in candidates if len(faces) == 1]
    if not anchors:
        anchors = [d for faces in candidates if (d := dominant(faces)) is not None]
    if not anchors:
        raise SeveralFaces(
            "Photo 1 shows several faces of a size; add a photo of the person alone.", photo=1
        )
    centre = np.mean([a.embedding for a in anchors], axis=0)
    centre /= np.linalg.norm(centre) or 1.0
    chosen = [max(faces, key=lambda c: float(c.embedding @ centre)) for faces in candidates]
    if len({c.face_id for c in chosen}) > 1:
        embeddings = np.stack([c.embedding for c in chosen])
        distances = 1.0 - embeddings @ embeddings.T
        mean = distances.sum(axis=1) / (len(chosen) - 1)
        worst = int(np.argmax(mean))
        if mean[worst] > MAX_MEAN_DISTANCE:
            raise FacesDisagree(
                f"The face in photo {worst + 1} is not the person of the other photos.",
                photo=worst + 1,
            )
    return chosen


def _person_ids(user_id: str) -> set[str]:
    with session_scope() as session:
        return {p.id for p in PersonRepository(session).for_user(user_id)}


def _assign(user_id: str, face_ids: list[str], name: str | None) -> PersonOut:
    """The chosen faces as manual faces of one person."""
    from functions.photos.service import move_faces, one_person, publish_me_faces

    with session_scope() as session:
        faces = [
            face
            for face_id in dict.fromkeys(face_ids)
            if (face := session.get(Face, face_id)) is not None
        ]
        repo = PersonRepository(session)
        held = Counter(f.person_id for f in faces if f.person_id is not None)
        existing = repo.owned(user_id, held.most_common(1)[0][0]) if held else None
        person = existing or repo.add(user_id, new_id())
        if name is not None:
            person.name = name
        me_changed = move_faces(session, user_id, faces, person)
        result = one_person(session, user_id, person)
    if me_changed:
        publish_me_faces(user_id)
    return result


def register_person(
    user_id: str, photos: list[RegistrationPhoto], name: str | None
) -> tuple[PersonOut, bool]:
    """The person shown in ``photos``, and whether it is new (else: the one they were in)."""
    from functions.photos.analyzer import PhotoFailed, analyse_photo
    from functions.photos.service import delete_photo

    consent.require_consent(user_id, consent.FACE_GROUPING)
    _checked(photos)
    # New means new to the user: the analysis may group the photos into a person at once.
    known = _person_ids(user_id)
    stored = [_add_row(user_id, photo) for photo in photos]
    try:
        candidates = []
        for number, (photo_id, added) in enumerate(stored, start=1):
            try:
                # At once, by the upload's own analysis, on the bytes at hand.
                analyse_photo(user_id, photo_id, photos[number - 1].data)
            except PhotoFailed as failed:
                raise RegistrationPhotoUnreadable(
                    f"Photo {number} cannot be analysed ({failed}).", photo=number
                ) from failed
            # Stored once analysed, so that its S3 event finds it done and no second
            # analysis races this one (a photo already there whose upload never came too).
            key = storage.original_key(user_id, photo_id)
            if added or not storage.exists(key):
                storage.put_original(
                    key, photos[number - 1].data, photos[number - 1].content_type or ""
                )
            candidates.append(_candidates(user_id, photo_id))
        chosen = choose_faces(candidates)
    except Exception:
        for photo_id, added in stored:
            if added:
                delete_photo(user_id, photo_id)
        raise
    person = _assign(user_id, [c.face_id for c in chosen], name)
    created = person.id not in known
    metrics.add_metric(name="PeopleRegistered", unit=MetricUnit.Count, value=1)
    logger.info(
        "person registered",
        extra={"person_id": person.id, "photos": len(photos), "new": created},
    )
    return person, created
