"""The video service: videos, their uploads and anonymisations (no HTTP here)."""

from __future__ import annotations

from datetime import datetime

from cheese_runtime import consent, events
from cheese_runtime import storage as runtime_storage
from cheese_runtime.db.session import session_scope
from cheese_runtime.errors import InvalidCursor
from cheese_runtime.pagination import decode_cursor, encode_cursor
from functions.video import storage
from functions.video.dal import PeopleDirectory, VideoRepository
from functions.video.errors import QueueUnavailable, UnknownPeople, VideoNotFound, VideoNotUploaded
from functions.video.models import Video, VideoAnonymisation
from functions.video.schemas import (
    AnonymisationAccepted,
    AnonymisationIn,
    AnonymisationOut,
    Progress,
    TrackOut,
    VideoCreated,
    VideoIn,
    VideoOut,
    VideoPage,
    VideoUpload,
)


def create_video(user_id: str, body: VideoIn) -> VideoCreated:
    with session_scope() as session:
        video = Video(user_id=user_id, content_type=body.content_type, size_bytes=body.size_bytes)
        session.add(video)
        session.flush()
        video_id = video.id
    spec = storage.upload_spec(user_id, video_id, body.content_type, body.size_bytes)
    post = runtime_storage.presigned_upload(storage.bucket(), spec)
    return VideoCreated(video_id=video_id, upload=VideoUpload(**post.model_dump()))


def _anonymisation_out(row: VideoAnonymisation) -> AnonymisationOut:
    return AnonymisationOut(
        id=row.id,
        status=row.status,  # type: ignore[arg-type]
        failure_reason=row.failure_reason,
        keep=list(row.keep),
        style=row.style,  # type: ignore[arg-type]
        progress=Progress(frames_done=row.frames_done, frames_total=row.frames_total),
        result_url=runtime_storage.presigned_get(storage.bucket(), row.result_key)
        if row.status == "done" and row.result_key
        else None,
        tracks=[
            TrackOut(
                id=t["track_id"],
                first_second=t["first_second"],
                last_second=t["last_second"],
                person_id=t["person_id"],
            )
            for t in row.tracks or []
        ],
        created_at=row.created_at,
    )


def _video_out(video: Video, anonymisations: list[VideoAnonymisation]) -> VideoOut:
    return VideoOut(
        video_id=video.id,
        status=video.status,  # type: ignore[arg-type]
        failure_reason=video.failure_reason,
        content_type=video.content_type,  # type: ignore[arg-type]
        size_bytes=video.size_bytes,
        duration=video.duration_seconds,
        width=video.width,
        height=video.height,
        created_at=video.created_at,
        anonymisations=[_anonymisation_out(a) for a in anonymisations],
    )


def get_video(user_id: str, video_id: str) -> VideoOut:
    with session_scope() as session:
        videos = VideoRepository(session)
        video = videos.get(user_id, video_id)
        if video is None:
            raise VideoNotFound()
        return _video_out(video, videos.anonymisations([video.id])[video.id])


def list_videos(user_id: str, cursor: str | None, limit: int) -> VideoPage:
    position = decode_cursor(cursor)
    try:
        after = (datetime.fromisoformat(position["c"]), str(position["i"])) if position else None
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidCursor() from exc
    with session_scope() as session:
        videos = VideoRepository(session)
        rows = videos.page(user_id, after, limit + 1)  # type: ignore[arg-type]
        more, rows = len(rows) > limit, rows[:limit]
        anonymisations = videos.anonymisations([v.id for v in rows])
        items = [_video_out(v, anonymisations[v.id]) for v in rows]
        last = rows[-1] if more else None
        next_cursor = (
            encode_cursor({"c": last.created_at.isoformat(), "i": last.id}) if last else None
        )
    return VideoPage(items=items, next_cursor=next_cursor)


def delete_video(user_id: str, video_id: str) -> None:
    """The video, its anonymisations and every object they made."""
    with session_scope() as session:
        videos = VideoRepository(session)
        video = videos.get(user_id, video_id, for_update=True)
        if video is None:
            raise VideoNotFound()
        anonymisations = videos.anonymisations([video_id])[video_id]
        keys = [storage.original_key(user_id, video_id)] + [
            storage.result_key(user_id, a.id) for a in anonymisations
        ]
        session.delete(video)
    runtime_storage.delete_keys(storage.bucket(), keys)
    for anonymisation in anonymisations:  # a long video's chunk work, if it was cut
        runtime_storage.delete_prefix(
            storage.bucket(), storage.chunk_prefix(user_id, anonymisation.id)
        )


def create_anonymisation(
    user_id: str, video_id: str, body: AnonymisationIn
) -> AnonymisationAccepted:
    keep = body.people()
    with session_scope() as session:
        video = VideoRepository(session).get(user_id, video_id, for_update=True)
        if video is None:
            raise VideoNotFound()
        if keep:
            # Recognising the kept people in the video compares face embeddings.
            consent.require_consent(user_id, consent.FACE_GROUPING)
            resolved = PeopleDirectory(session).resolve(user_id, keep)
            unknown = [ref for ref, person_id in resolved.items() if person_id is None]
            if unknown:
                raise UnknownPeople(unknown=unknown)
        if video.status == "uploading":
            spec = storage.upload_spec(user_id, video_id, video.content_type, video.size_bytes)
            try:
                runtime_storage.verify_arrival(storage.bucket(), spec)
            except runtime_storage.UploadRejected as rejected:
                raise VideoNotUploaded(reason=rejected.reason) from rejected
            video.status = "ready"
        elif video.status == "failed":
            raise VideoNotUploaded(detail=f"The video cannot be read: {video.failure_reason}.")
        row = VideoAnonymisation(video_id=video_id, user_id=user_id, keep=keep, style=body.style)
        session.add(row)
        session.flush()
        anonymisation_id = row.id
    try:
        events.publish(
            events.VideoAnonymisationRequested(
                anonymisation_id=anonymisation_id, video_id=video_id, user_id=user_id
            )
        )
    except Exception as exc:
        with session_scope() as session:
            failed = VideoRepository(session).anonymisation(anonymisation_id, for_update=True)
            if failed is not None and failed.status == "queued":
                failed.status, failed.failure_reason = "failed", "queue-unavailable"
        raise QueueUnavailable(retry_after=5) from exc
    return AnonymisationAccepted(anonymisation_id=anonymisation_id)
