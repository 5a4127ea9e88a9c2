"""The analysis consumer: S3 ObjectCreated (originals/) → SQS → this handler.

Runs ``cheese_ml.analyze`` once per photo and stores faces (box, landmarks,
quality, embedding and expression only with the owner's consent), the
thumbnail, face crops and the photo's dimensions, each cut's pose and mood
(with pose_analysis consent, ``pose_analysis``), groups the new faces into
people and publishes ``PhotoAnalyzed``.

At least once: a photo already analysed is not analysed again (its event is
re-published, which consumers handle idempotently); re-analysis after a crash
replaces the photo's faces instead of adding more. A photo that cannot be
analysed ends ``failed`` with a reason the app shows, and its message is
reported failed on every delivery until SQS moves it to the DLQ.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
from aws_lambda_powertools.metrics import MetricUnit
from sqlalchemy.exc import IntegrityError

from cheese_ml.analysis import analyze
from cheese_ml.images import ImageError, decode_image, encode_jpeg, thumbnail
from cheese_ml.render import crop_face
from cheese_runtime import aws, consent, events, resources
from cheese_runtime import storage as files
from cheese_runtime.consent import Consents
from cheese_runtime.consumers import StoredObject, s3_object_consumer
from cheese_runtime.db.session import session_scope
from cheese_runtime.db.types import new_id, utcnow
from cheese_runtime.observability import logger, metrics, tracer
from functions.photos import storage
from functions.photos.cuts import cut_of_faces
from functions.photos.dal import (
    FaceRepository,
    PersonRepository,
    PhotoRepository,
    embedding_to_bytes,
)
from functions.photos.face_index import PixelBox, external_index
from functions.photos.grouping import group_new_faces
from functions.photos.models import Face, Photo
from functions.photos.pose_analysis import FaceInput, analyse_cuts
from functions.photos.poses_dal import replace_cut_poses

THUMBNAIL_SIDE = 512
FACE_CROP_SIDE = 160
MAX_RECEIVES = next(
    n.max_receive_count for n in resources.BUCKET_NOTIFICATIONS if n.consumer == "photos-analysis"
)


def arrival_failure(rejected: files.UploadRejected, spec: files.UploadSpec) -> str:
    """The ``failure_reason`` of an original that is not what its upload request declared."""
    if rejected.reason in ("too-small", "too-large"):
        # Every upload and import declares its exact size; without one only the limit applies.
        if spec.exact_size is not None:
            return "upload-size-mismatch"
        return "too-large" if rejected.reason == "too-large" else "image-empty"
    if rejected.reason == "sniffed-type" and rejected.sniffed is None:
        return "image-unsupported_format"  # not an image of any type we know
    return "upload-type-mismatch"  # stored under another type, or bytes of another image type


class PhotoFailed(Exception):
    """The photo cannot be analysed; its status says why."""


class PhotoIsDuplicate(Exception):
    """The photo's bytes are those of another photo of its owner; it now says so."""


def difference_hash(rgb: np.ndarray) -> str:
    """64-bit dHash: near-duplicate photos (re-encoded, resized) differ in only a few bits."""
    grey = cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), (9, 8), interpolation=cv2.INTER_AREA)
    bits = (grey[:, 1:] > grey[:, :-1]).flatten()
    return f"{int(''.join('1' if b else '0' for b in bits), 2):016x}"


def _mark_failed(photo_id: str, reason: str) -> None:
    with session_scope() as session:
        photo = session.get(Photo, photo_id)
        if photo is not None and photo.status not in ("analyzed", "duplicate"):
            photo.move_to("failed", reason)
    metrics.add_metric(name="PhotosFailed", unit=MetricUnit.Count, value=1)
    logger.warning("photo failed", extra={"photo_id": photo_id, "reason": reason})


def _publish_analyzed(photo_id: str) -> None:
    with session_scope() as session:
        photo = session.get(Photo, photo_id)
        if photo is None:
            return
        people_me = {p.id for p in PersonRepository(session).for_user(photo.user_id) if p.is_me}
        faces = FaceRepository(session).for_photo(photo_id)
        event = events.PhotoAnalyzed(
            photo_id=photo.id,
            user_id=photo.user_id,
            sha256=photo.sha256 or "",
            perceptual_hash=photo.perceptual_hash or "",
            analyzed_at=(photo.analyzed_at or utcnow()).isoformat(),
            faces=[
                events.AnalyzedFace(
                    face_id=f.id,
                    smile=f.smile,
                    person_id=f.person_id,
                    is_me=f.person_id in people_me,
                    usable=f.usable,
                )
                for f in faces
            ],
        )
    events.publish(event)


def _claim_content(user_id: str, photo_id: str, sha256: str) -> None:
    """Record the photo's hash, or make it a duplicate of the user's photo that has it already.

    The hash is claimed before the analysis, so of two photos with the same bytes only one
    is ever analysed: UNIQUE (user_id, sha256) decides a race, and the loser's row says
    ``duplicate`` with ``duplicate_of``; its original (the same bytes) is removed.
    """
    for _ in range(2):  # a second look after losing a race to a concurrent claim
        try:
            with session_scope() as session:
                photos = PhotoRepository(session)
                existing = photos.by_sha256(user_id, sha256)
                photo = photos.get_for_update(photo_id)
                if photo is None or photo.sha256 == sha256:
                    return
                if existing is None:
                    photo.sha256 = sha256
                    return
                photo.duplicate_of = existing.id
                photo.move_to("duplicate")
            break
        except IntegrityError:
            continue
    else:
        raise RuntimeError(f"photo {photo_id}: no claim and no duplicate found for its hash")
    storage.delete_keys([storage.original_key(user_id, photo_id)])
    metrics.add_metric(name="PhotosDuplicate", unit=MetricUnit.Count, value=1)
    logger.info("photo is a duplicate", extra={"photo_id": photo_id, "of": existing.id})
    raise PhotoIsDuplicate(photo_id)


@tracer.capture_method(capture_response=False)
def analyse_photo(user_id: str, photo_id: str, data: bytes | None = None) -> None:
    """Analyse the uploaded original, or ``data``: the bytes of a photo whose original is
    stored only after its analysis (``registration``: its S3 event then finds it done)."""
    with session_scope() as session:
        photo = PhotoRepository(session).get_for_update(photo_id)
        if photo is None or photo.user_id != user_id:
            # Deleted before its upload arrived (or a key nobody issued): drop the orphan object.
            storage.delete_keys([storage.original_key(user_id, photo_id)])
            logger.info("object without photo removed", extra={"photo_id": photo_id})
            return
        if photo.status == "duplicate":
            return
        if photo.status == "analyzed":
            already_done = True
        elif photo.status == "failed":
            raise PhotoFailed(photo.failure_reason or "failed")
        else:
            already_done = False
            photo.move_to("processing")
        decisions = Consents(session).decisions(user_id)
        with_embeddings = decisions[consent.FACE_GROUPING.name].granted
        with_expressions = decisions[consent.EXPRESSION_ANALYSIS.name].granted
        with_poses = decisions[consent.POSE_ANALYSIS.name].granted
        # Checked against what the upload request declared (its exact size and type).
        spec = storage.upload_spec(
            storage.original_key(user_id, photo_id), photo.content_type, photo.size_bytes
        )
        declared_sha256 = photo.sha256
    if already_done:
        _publish_analyzed(photo_id)
        return

    if data is None:
        try:
            files.verify_arrival(storage.bucket(), spec)
        except files.UploadRejected as rejected:
            if rejected.reason == "missing":
                raise  # transient until the last delivery (the object may still be on its way)
            reason = arrival_failure(rejected, spec)
            _mark_failed(photo_id, reason)
            raise PhotoFailed(reason) from rejected
        data = aws.client("s3").get_object(Bucket=storage.bucket(), Key=spec.key)["Body"].read()
    sha256 = hashlib.sha256(data).hexdigest()
    if declared_sha256 is not None and declared_sha256 != sha256:
        _mark_failed(photo_id, "upload-hash-mismatch")
        raise PhotoFailed("upload-hash-mismatch")
    if declared_sha256 is None:
        try:
            _claim_content(user_id, photo_id, sha256)
        except PhotoIsDuplicate:
            return
    try:
        rgb = decode_image(data)
    except ImageError as exc:
        _mark_failed(photo_id, f"image-{exc.code}")
        raise PhotoFailed(exc.code) from exc
    faces = analyze(rgb, embeddings=with_embeddings, expressions=with_expressions)
    height, width = rgb.shape[:2]
    face_ids = [new_id() for _ in faces]
    # Derived objects go up together: they are independent, and S3 round trips dominate otherwise.
    derived = {
        storage.thumbnail_key(user_id, photo_id): encode_jpeg(thumbnail(rgb, THUMBNAIL_SIDE), 80)
    }
    for face_id, face in zip(face_ids, faces, strict=True):
        derived[storage.face_crop_key(user_id, photo_id, face_id)] = encode_jpeg(
            crop_face(rgb, face.box, size=FACE_CROP_SIDE), 85
        )
    with ThreadPoolExecutor(max_workers=8) as uploads:
        list(uploads.map(lambda item: storage.put_jpeg(*item), derived.items()))
    cuts = cut_of_faces(rgb, [(f.box.x + f.box.w / 2, f.box.y + f.box.h / 2) for f in faces])
    # MoveNet runs outside the transaction, like the face models (no lock held meanwhile).
    cut_poses = (
        analyse_cuts(
            rgb,
            [
                FaceInput(face_id, face.box, cut, face.expression, face.smile)
                for face_id, face, cut in zip(face_ids, faces, cuts, strict=True)
            ],
        )
        if with_poses and faces
        else []
    )

    with session_scope() as session:
        photos, face_rows = PhotoRepository(session), FaceRepository(session)
        photo = photos.get_for_update(photo_id)
        if photo is None or photo.status == "analyzed":
            return
        face_rows.delete_for_photo(photo_id)
        stored: list[Face] = []
        for face_id, face, cut in zip(face_ids, faces, cuts, strict=True):
            row = Face(
                id=face_id,
                photo_id=photo_id,
                user_id=user_id,
                box_x=face.box.x,
                box_y=face.box.y,
                box_w=face.box.w,
                box_h=face.box.h,
                cut=cut,
                landmarks=[list(p) for p in face.landmarks],
                detection_score=float(face.detection_score),
                quality={
                    "face_size": face.quality.face_size,
                    "sharpness": round(face.quality.sharpness, 2),
                    "yaw": round(face.quality.yaw, 1),
                    "pitch": round(face.quality.pitch, 1),
                    "roll": round(face.quality.roll, 1),
                },
                usable=face.quality.usable_for_clustering,
                embedding=embedding_to_bytes(face.embedding)
                if face.embedding is not None
                else None,
                expression=face.expression,
                smile=face.smile,
                assigned_manually=False,
            )
            session.add(row)
            stored.append(row)
        session.flush()
        replace_cut_poses(session, user_id, photo_id, cut_poses)
        index = external_index()
        if index is not None and with_embeddings:
            matched = index.index_photo(
                user_id,
                data,
                width,
                height,
                [(r.id, PixelBox(r.box_x, r.box_y, r.box_w, r.box_h)) for r in stored],
            )
            for row in stored:
                row.index_face_id = matched.get(row.id)
        photo.width, photo.height = width, height
        photo.size_bytes = len(data)
        photo.perceptual_hash = difference_hash(rgb)
        photo.move_to("analyzed")
        photo.analyzed_at = photo.status_changed_at
        if with_embeddings:
            group_new_faces(session, user_id, stored)
    metrics.add_metric(name="PhotosAnalyzed", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="FacesFound", unit=MetricUnit.Count, value=len(faces))
    _publish_analyzed(photo_id)


def object_arrived(stored: StoredObject) -> None:
    parsed = storage.parse_original_key(stored.key)
    if parsed is None:
        logger.warning("ignoring object outside originals/", extra={"key": stored.key})
        return
    user_id, photo_id = parsed
    logger.thread_safe_append_keys(photo_id=photo_id)
    try:
        analyse_photo(user_id, photo_id)
    except PhotoFailed:
        raise
    except Exception:
        # Transient (S3, database...) unless it keeps failing: on the last delivery
        # the photo shows as failed before the message moves to the DLQ.
        if stored.receive_count >= MAX_RECEIVES:
            _mark_failed(photo_id, "analysis-error")
        raise


handler = s3_object_consumer(object_arrived)
