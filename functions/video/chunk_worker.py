"""Long videos in chunks (``VideoChunkRequested`` → SQS ``cheese-video-chunks`` → here, ML image).

A video longer than ``video_chunk_after_seconds`` is cut by the anonymisation
worker (`fan_out`) into chunks of about ``video_chunk_seconds`` (one row each in
``video_chunks``) and one ``detect`` event per chunk goes out; every chunk is
then a separate invocation, so the chunks run in parallel:

1. **detect** (per chunk): seek to the chunk, CenterFace and the identity votes on
   each of its frames (`cheese_ml.video_chunks.detect_chunk`), boxes and votes to
   S3 as JSON; the invocation that records the last chunk detected **plans**: every
   chunk's boxes through one tracker in order (tracks carried across the chunk
   edges, identities voted over the whole video, boxes held and filled across the
   edges), each chunk's paint plan to S3, one ``encode`` event per chunk;
2. **encode** (per chunk): the chunk painted by its plan, H.264 to S3; the
   invocation that records the last chunk encoded **joins** the segments (packets
   copied) with the original's audio copied once, and the anonymisation is done.

Progress is frames done/total over all chunks (a frame counts half when detected,
whole when encoded). At least once and idempotent: a stage already recorded is not
redone, a repeated plan or join writes the same objects (and a done anonymisation
is left alone). The "last one" checks lock the anonymisation row first, so two
chunks finishing together cannot both miss it. A chunk that cannot be read, or that
fails on its last delivery, fails the anonymisation with the chunk and the reason;
the other chunks then stop at their next step.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from cheese_ml.video_anonymise import KeptPerson
from cheese_ml.video_chunks import (
    ChunkDetections,
    ChunkPlan,
    ChunkSpan,
    detect_chunk,
    encode_chunk,
    plan_chunks,
    split,
)
from cheese_ml.video_io import VideoInfo, VideoInputError, frame_pts, join_segments, probe
from cheese_runtime import events, resources
from cheese_runtime import storage as runtime_storage
from cheese_runtime.consent import FACE_GROUPING, has_consent
from cheese_runtime.consumers import EventBridgeSqsRecord, sqs_batch_handler
from cheese_runtime.db.session import session_scope
from cheese_runtime.db.types import utcnow
from cheese_runtime.observability import logger
from cheese_runtime.settings import get_settings
from functions.video import storage
from functions.video.dal import PeopleDirectory, VideoRepository
from functions.video.models import VideoAnonymisation, VideoChunk

MAX_RECEIVES = next(
    s.max_receive_count for s in resources.EVENT_SUBSCRIPTIONS if s.consumer == "video-chunks"
)
PROGRESS_EVERY_SECONDS = 2.0
DETECTED = ("detected", "encoding", "encoded")


class ChunkFailed(Exception):
    """The chunk cannot be done; the anonymisation shows why."""


def _span(chunk: VideoChunk) -> ChunkSpan:
    return ChunkSpan(chunk.number, chunk.first_frame, chunk.frames, chunk.start_pts, chunk.end_pts)


def _publish(anonymisation_id: str, user_id: str, numbers: Sequence[int], stage: str) -> None:
    for number in numbers:
        events.publish(
            events.VideoChunkRequested(
                anonymisation_id=anonymisation_id,
                user_id=user_id,
                chunk=number,
                stage=stage,  # type: ignore[arg-type]
            )
        )


def fan_out(anonymisation_id: str, user_id: str, source: Path, info: VideoInfo) -> bool:
    """Cut a long video into chunk rows and send their detect events; False: not long enough.

    A repeated delivery finds the rows and re-sends the events of chunks not yet
    detected (a duplicate event is harmless: each stage is recorded once).
    """
    settings = get_settings()
    if info.duration <= settings.video_chunk_after_seconds:
        return False
    pts = frame_pts(source)
    spans = split(pts, info.fps, settings.video_chunk_seconds)
    if len(spans) < 2:
        return False
    with session_scope() as session:
        videos = VideoRepository(session)
        row = videos.anonymisation(anonymisation_id, for_update=True)
        if row is None or row.status != "processing":
            return True
        existing = videos.chunks(anonymisation_id)
        if existing:
            pending = [c.number for c in existing if c.status == "detecting"]
        else:
            for span in spans:
                session.add(
                    VideoChunk(
                        anonymisation_id=anonymisation_id,
                        number=span.index,
                        user_id=user_id,
                        first_frame=span.first_frame,
                        frames=span.frames,
                        start_pts=span.start_pts,
                        end_pts=span.end_pts,
                        status="detecting",
                        frames_detected=0,
                        frames_encoded=0,
                    )
                )
            row.frames_done, row.frames_total = 0, len(pts)
            pending = [span.index for span in spans]
    _publish(anonymisation_id, user_id, pending, "detect")
    logger.info("video fanned out", extra={"chunks": len(spans), "frames": len(pts)})
    return True


def _load(
    anonymisation_id: str, user_id: str, number: int
) -> tuple[VideoAnonymisation, VideoChunk, int] | None:
    """The anonymisation (still processing), the chunk and the chunk count; None: nothing to do."""
    with session_scope() as session:
        videos = VideoRepository(session)
        row = videos.anonymisation(anonymisation_id)
        if row is None or row.user_id != user_id or row.status != "processing":
            return None  # erased, done, or failed by another chunk
        chunks = videos.chunks(anonymisation_id)
        chunk = next((c for c in chunks if c.number == number), None)
        if chunk is None or chunk.status == "failed":
            return None
        session.expunge_all()
        return row, chunk, len(chunks)


def _people(user_id: str, keep: list[str]) -> list[KeptPerson]:
    if not keep:
        return []
    if not has_consent(user_id, FACE_GROUPING):
        raise ChunkFailed("consent-withdrawn")
    people = []
    with session_scope() as session:
        directory = PeopleDirectory(session)
        for person_id in directory.resolve(user_id, keep).values():
            if person_id is not None:  # deleted since: simply not kept
                embeddings = directory.embeddings(user_id, person_id)
                if len(embeddings):
                    people.append(KeptPerson(person_id, embeddings))
    return people


class _Progress:
    """Saves a chunk's frame count every few seconds, and the anonymisation's sum over chunks."""

    def __init__(self, anonymisation_id: str, number: int, column: str) -> None:
        self.anonymisation_id, self.number, self.column = anonymisation_id, number, column
        self.last = time.monotonic()

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY_SECONDS:
            self.last = now
            self.save(done)

    def save(self, done: int) -> None:
        with session_scope() as session:
            videos = VideoRepository(session)
            row = videos.anonymisation(self.anonymisation_id, for_update=True)
            if row is None or row.status != "processing":
                return
            chunks = videos.chunks(self.anonymisation_id, for_update=True)
            for chunk in chunks:
                if chunk.number == self.number:
                    setattr(chunk, self.column, done)
            row.frames_done = _frames_done(chunks)


def _frames_done(chunks: Sequence[VideoChunk]) -> int:
    # A frame is half done once detected, done once encoded (as in the one-go worker).
    return sum(c.frames_detected + c.frames_encoded for c in chunks) // 2


def _record(
    anonymisation_id: str, number: int, status: str, frames: int, column: str
) -> list[VideoChunk] | None:
    """Mark the chunk `status` with its frames; the chunks if this made the stage complete."""
    with session_scope() as session:
        videos = VideoRepository(session)
        row = videos.anonymisation(anonymisation_id, for_update=True)
        if row is None or row.status != "processing":
            return None
        chunks = videos.chunks(anonymisation_id, for_update=True)
        for chunk in chunks:
            if chunk.number == number and chunk.status != "failed":
                if status == "detected" and chunk.status == "detecting":
                    chunk.status, chunk.frames = status, frames
                elif status == "encoded" and chunk.status in ("detected", "encoding"):
                    chunk.status = status
                setattr(chunk, column, frames)
        row.frames_done = _frames_done(chunks)
        wanted = DETECTED if status == "detected" else ("encoded",)
        complete = all(c.status in wanted for c in chunks)
        session.flush()  # before detaching: expunged objects' changes are not written
        session.expunge_all()
        return chunks if complete else None


def detect(anonymisation_id: str, user_id: str, number: int) -> None:
    loaded = _load(anonymisation_id, user_id, number)
    if loaded is None:
        return
    row, chunk, _count = loaded
    with tempfile.TemporaryDirectory(prefix="cheese-chunk-") as work:
        source = Path(work) / "source"
        storage.download(storage.original_key(user_id, row.video_id), source)
        info = probe(source)
        complete: list[VideoChunk] | None
        if chunk.status == "detecting":
            progress = _Progress(anonymisation_id, number, "frames_detected")
            found = detect_chunk(
                source, _span(chunk), _people(user_id, row.keep), info.fps, None, progress
            )
            storage.put_json(
                storage.chunk_key(user_id, anonymisation_id, number, "detections.json"),
                found.to_dict(),
            )
            complete = _record(
                anonymisation_id, number, "detected", len(found.frames), "frames_detected"
            )
        else:  # a repeated delivery: the plan may not have gone out
            complete = _record(
                anonymisation_id, number, "detected", chunk.frames_detected, "frames_detected"
            )
        if complete is not None and not any(c.status != "detected" for c in complete):
            _plan(row, complete, info)


def _plan(row: VideoAnonymisation, chunks: list[VideoChunk], info: VideoInfo) -> None:
    """Every chunk's detections through one tracker, in order; the plans out, then encode events."""
    found = [
        ChunkDetections.from_dict(
            storage.get_json(storage.chunk_key(row.user_id, row.id, c.number, "detections.json"))
        )
        for c in chunks
    ]
    plan = plan_chunks(found, info.fps, (info.width, info.height))
    for chunk, chunk_plan in zip(chunks, plan.chunks, strict=True):
        storage.put_json(
            storage.chunk_key(row.user_id, row.id, chunk.number, "plan.json"), chunk_plan.to_dict()
        )
    # Sent before the chunks are marked: a crash in between re-plans (the same plans) on
    # the redelivery and re-sends; an encode event that comes first finds its plan in S3.
    _publish(row.id, row.user_id, [c.number for c in chunks], "encode")
    with session_scope() as session:
        videos = VideoRepository(session)
        current = videos.anonymisation(row.id, for_update=True)
        if current is None or current.status != "processing":
            return
        current.frames_total = plan.frames
        current.tracks = [
            {
                "track_id": t.track_id,
                "first_second": t.first_second,
                "last_second": t.last_second,
                "person_id": t.person_id,
            }
            for t in plan.tracks
        ]
        for chunk in videos.chunks(row.id, for_update=True):
            if chunk.status == "detected":
                chunk.status = "encoding"
    logger.info("video chunks planned", extra={"chunks": len(chunks), "tracks": len(plan.tracks)})


def encode(anonymisation_id: str, user_id: str, number: int) -> None:
    loaded = _load(anonymisation_id, user_id, number)
    if loaded is None:
        return
    row, chunk, _count = loaded
    with tempfile.TemporaryDirectory(prefix="cheese-chunk-") as work:
        source, segment = Path(work) / "source", Path(work) / f"{number}.mp4"
        storage.download(storage.original_key(user_id, row.video_id), source)
        complete: list[VideoChunk] | None
        if chunk.status in ("detected", "encoding"):
            plan = ChunkPlan.from_dict(
                storage.get_json(storage.chunk_key(user_id, anonymisation_id, number, "plan.json"))
            )
            progress = _Progress(anonymisation_id, number, "frames_encoded")
            frames = encode_chunk(source, _span(chunk), plan, segment, row.style, progress)  # type: ignore[arg-type]
            if frames != len(plan.frames):
                raise RuntimeError(
                    f"chunk {number}: {frames} frames encoded, {len(plan.frames)} planned"
                )
            storage.upload_chunk(
                segment, storage.chunk_key(user_id, anonymisation_id, number, "mp4")
            )
            complete = _record(anonymisation_id, number, "encoded", frames, "frames_encoded")
        elif chunk.status == "encoded":  # a repeated delivery: the join may not have happened
            complete = _record(
                anonymisation_id, number, "encoded", chunk.frames_encoded, "frames_encoded"
            )
        else:
            return  # not planned yet: cannot happen (encode events follow the plan)
        if complete is not None:
            _join(row, complete, source, Path(work))


def _join(row: VideoAnonymisation, chunks: list[VideoChunk], source: Path, work: Path) -> None:
    segments = []
    for chunk in chunks:
        path = work / f"joined-{chunk.number}.mp4"
        storage.download(storage.chunk_key(row.user_id, row.id, chunk.number, "mp4"), path)
        segments.append(path)
    result = work / "result.mp4"
    frames = join_segments(source, segments, result)
    key = storage.result_key(row.user_id, row.id)
    storage.upload(result, key)
    with session_scope() as session:
        current = VideoRepository(session).anonymisation(row.id, for_update=True)
        if current is None or current.status != "processing":
            return
        current.status, current.failure_reason, current.result_key = "done", None, key
        current.frames_done = current.frames_total = frames
        current.finished_at = utcnow()
    runtime_storage.delete_prefix(storage.bucket(), storage.chunk_prefix(row.user_id, row.id))
    logger.info("video chunks joined", extra={"chunks": len(chunks), "frames": frames})


def fail(anonymisation_id: str, number: int, reason: str, video_failed: bool = False) -> None:
    """The chunk failed: so does the anonymisation (and the video, if it cannot be read)."""
    with session_scope() as session:
        videos = VideoRepository(session)
        row = videos.anonymisation(anonymisation_id, for_update=True)
        if row is None:
            return
        user_id = row.user_id
        chunks = videos.chunks(anonymisation_id, for_update=True)
        for chunk in chunks:
            if chunk.number == number:
                chunk.status, chunk.failure_reason = "failed", reason[:300]
        if row.status not in ("done", "failed"):
            row.status = "failed"
            row.failure_reason = f"chunk {number + 1} of {len(chunks)}: {reason}"[:300]
            row.finished_at = utcnow()
            if video_failed:
                video = videos.get(row.user_id, row.video_id, for_update=True)
                if video is not None:
                    video.status, video.failure_reason = "failed", reason[:300]
    runtime_storage.delete_prefix(storage.bucket(), storage.chunk_prefix(user_id, anonymisation_id))
    logger.warning("video chunk failed", extra={"chunk": number, "reason": reason})


def handle_record(record: EventBridgeSqsRecord) -> None:
    request = events.VideoChunkRequested.model_validate(record.body.detail)
    logger.thread_safe_append_keys(
        anonymisation_id=request.anonymisation_id, chunk=request.chunk, stage=request.stage
    )
    step = detect if request.stage == "detect" else encode
    try:
        step(request.anonymisation_id, request.user_id, request.chunk)
    except VideoInputError as error:
        # Retrying cannot help: fail now, and consume the message.
        fail(request.anonymisation_id, request.chunk, f"video-{error.code}: {error}", True)
    except ChunkFailed as error:
        fail(request.anonymisation_id, request.chunk, str(error))
    except Exception:
        if int(record.attributes.ApproximateReceiveCount) >= MAX_RECEIVES:
            fail(request.anonymisation_id, request.chunk, "processing-error")
        raise


handler = sqs_batch_handler(handle_record, EventBridgeSqsRecord)
