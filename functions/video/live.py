"""Live streams: numbered 2-second segments in, an anonymised HLS playlist out (no HTTP here).

The app records 2-second segments (each a whole MP4 or WebM file), uploads each
with its own presigned POST and announces it through the API; the worker
(`functions.video.live_worker`) anonymises the segments strictly in order, the
tracks carried from one to the next, and the playlist lists each as it is done.
Announcing is idempotent (a repeated or late announcement changes nothing); a
segment that does not arrive in time or cannot be read ends ``failed`` and the
playlist marks the gap with a discontinuity.
"""

from __future__ import annotations

import math

from cheese_runtime import consent, events
from cheese_runtime import storage as runtime_storage
from cheese_runtime.db.session import session_scope
from cheese_runtime.db.types import utcnow
from functions.video import storage
from functions.video.dal import LiveRepository, PeopleDirectory
from functions.video.errors import (
    LiveSegmentNotFound,
    LiveStreamEnded,
    LiveStreamNotFound,
    QueueUnavailable,
    SegmentNotUploaded,
    UnknownPeople,
)
from functions.video.models import LiveSegment, LiveStream
from functions.video.schemas import (
    LiveSegmentIn,
    LiveSegmentOut,
    LiveSegmentUpload,
    LiveStreamCreated,
    LiveStreamIn,
    LiveStreamOut,
    LiveViewers,
    VideoUpload,
)

# Presigned segment URLs in the playlist: a player re-reads a live playlist every
# target duration, so a minute outlives every segment still in its window.
SEGMENT_URL_SECONDS = 60


def create_stream(user_id: str, body: LiveStreamIn) -> LiveStreamCreated:
    keep = body.people()
    with session_scope() as session:
        if keep:
            consent.require_consent(user_id, consent.FACE_GROUPING)
            resolved = PeopleDirectory(session).resolve(user_id, keep)
            unknown = [ref for ref, person_id in resolved.items() if person_id is None]
            if unknown:
                raise UnknownPeople(unknown=unknown)
        stream = LiveStream(
            user_id=user_id,
            keep=keep,
            style=body.style,
            public=body.viewers.public,
            viewers=list(dict.fromkeys(body.viewers.user_ids)),
        )
        session.add(stream)
        session.flush()
        stream_id = stream.id
    return LiveStreamCreated(
        stream_id=stream_id,
        segment_seconds=storage.SEGMENT_SECONDS,
        playlist=f"/v1/live/{stream_id}/playlist.m3u8",
    )


def _owned(repository: LiveRepository, user_id: str, stream_id: str) -> LiveStream:
    stream = repository.stream(stream_id, for_update=True)
    if stream is None or stream.user_id != user_id:
        raise LiveStreamNotFound()
    return stream


def _segment_out(row: LiveSegment) -> LiveSegmentOut:
    return LiveSegmentOut(
        sequence=row.sequence,
        status=row.status,  # type: ignore[arg-type]
        failure_reason=row.failure_reason,
        duration=row.duration_seconds,
    )


def get_stream(user_id: str, stream_id: str) -> LiveStreamOut:
    with session_scope() as session:
        live = LiveRepository(session)
        stream = live.stream(stream_id)
        if stream is None or stream.user_id != user_id:
            raise LiveStreamNotFound()
        return LiveStreamOut(
            stream_id=stream.id,
            status=stream.status,  # type: ignore[arg-type]
            keep=list(stream.keep),
            style=stream.style,  # type: ignore[arg-type]
            viewers=LiveViewers(public=stream.public, user_ids=list(stream.viewers)),
            next_sequence=stream.next_sequence,
            segments=[_segment_out(s) for s in live.segments(stream_id)],
            created_at=stream.created_at,
            ended_at=stream.ended_at,
        )


def create_segment(user_id: str, stream_id: str, body: LiveSegmentIn) -> LiveSegmentUpload:
    """The presigned POST of one numbered segment (asking again gives a fresh one)."""
    with session_scope() as session:
        live = LiveRepository(session)
        stream = _owned(live, user_id, stream_id)
        if stream.status == "ended":
            raise LiveStreamEnded()
        row = live.segment(stream_id, body.sequence, for_update=True)
        if row is None:
            row = LiveSegment(
                stream_id=stream_id,
                sequence=body.sequence,
                user_id=user_id,
                content_type=body.content_type,
                size_bytes=body.size_bytes,
            )
            session.add(row)
        elif row.status == "uploading":  # a retried upload may differ (re-encoded, say)
            row.content_type, row.size_bytes = body.content_type, body.size_bytes
        else:
            raise SegmentNotUploaded(
                detail=f"Segment {body.sequence} was already announced ({row.status})."
            )
    spec = storage.segment_spec(
        user_id, stream_id, body.sequence, body.content_type, body.size_bytes
    )
    post = runtime_storage.presigned_upload(storage.bucket(), spec)
    return LiveSegmentUpload(sequence=body.sequence, upload=VideoUpload(**post.model_dump()))


def announce_segment(user_id: str, stream_id: str, sequence: int) -> LiveSegmentOut:
    """The segment has been uploaded: check it, queue it. Repeats change nothing."""
    with session_scope() as session:
        live = LiveRepository(session)
        _owned(live, user_id, stream_id)
        row = live.segment(stream_id, sequence, for_update=True)
        if row is None:
            raise LiveSegmentNotFound()
        if row.status != "uploading":
            return _segment_out(row)  # a duplicate (or late) announcement
        spec = storage.segment_spec(user_id, stream_id, sequence, row.content_type, row.size_bytes)
        try:
            runtime_storage.verify_arrival(storage.bucket(), spec)
        except runtime_storage.UploadRejected as rejected:
            raise SegmentNotUploaded(reason=rejected.reason) from rejected
        row.status, row.announced_at = "queued", utcnow()
        out = _segment_out(row)
    _publish(user_id, stream_id, sequence)
    return out


def _publish(user_id: str, stream_id: str, sequence: int) -> None:
    try:
        events.publish(
            events.LiveSegmentAnnounced(stream_id=stream_id, user_id=user_id, sequence=sequence)
        )
    except Exception as exc:
        # The segment stays queued: the next announcement (or the end) picks it up.
        raise QueueUnavailable(retry_after=2) from exc


def end_stream(user_id: str, stream_id: str) -> LiveStreamOut:
    """No more segments: the playlist gets #EXT-X-ENDLIST once the queued ones are done."""
    with session_scope() as session:
        live = LiveRepository(session)
        stream = _owned(live, user_id, stream_id)
        if stream.status != "ended":
            stream.status, stream.ended_at = "ended", utcnow()
            # Segments asked for but never announced will not come now.
            for row in live.segments(stream_id):
                if row.status == "uploading":
                    row.status, row.failure_reason = "failed", "segment-not-announced"
                    row.finished_at = utcnow()
    # Wake the worker: what is queued is anonymised, the gaps are closed.
    _publish(user_id, stream_id, -1)
    return get_stream(user_id, stream_id)


def playlist(viewer_id: str, stream_id: str) -> str:
    """The HLS media playlist for a viewer: the broadcaster, any user if public, the invited."""
    with session_scope() as session:
        live = LiveRepository(session)
        stream = live.stream(stream_id)
        if stream is None or not (
            stream.user_id == viewer_id or stream.public or viewer_id in stream.viewers
        ):
            raise LiveStreamNotFound()
        finished = [s for s in live.segments(stream_id) if s.sequence < stream.next_sequence]
        ended = stream.status == "ended" and not any(
            s.status == "queued" for s in live.segments(stream_id)
        )
    durations = [s.duration_seconds or storage.SEGMENT_SECONDS for s in finished]
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{math.ceil(max(durations, default=storage.SEGMENT_SECONDS))}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:EVENT",  # append-only: a listed segment never changes
    ]
    gap = False
    for row, duration in zip(finished, durations, strict=True):
        if row.status != "done" or row.result_key is None:
            gap = True  # a failed segment: skipped, the player told the timeline jumps
            continue
        if gap:
            lines.append("#EXT-X-DISCONTINUITY")
            gap = False
        lines.append(f"#EXTINF:{duration:.3f},")
        lines.append(
            runtime_storage.presigned_get(storage.bucket(), row.result_key, SEGMENT_URL_SECONDS)
        )
    if ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"
