"""The anonymisation consumer (``VideoAnonymisationRequested`` → SQS → this handler, ML image).

It also takes ``LiveSegmentAnnounced`` (live streams, `functions.video.live_worker`).

For one anonymisation: the original is downloaded to /tmp, checked
(`cheese_ml.video_io`: a corrupt, truncated, wrong-codec or oversized video
ends ``failed`` with the reason, and the video too), the kept people's
reference embeddings are read from the photos function's faces, and
`cheese_ml.video_anonymise` writes the result (H.264, the audio copied), which
goes to S3; progress (frames done/total) is saved as it goes. A video longer than
``video_chunk_after_seconds`` is instead cut into chunks done in parallel
(`functions.video.chunk_worker`). At least once: an
anonymisation already done or failed is left alone, so a duplicate message gives
one result. Other errors are retried; on the last delivery the anonymisation
shows ``failed`` ("processing-error") before the message moves to the DLQ.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from cheese_ml.video_anonymise import KeptPerson, anonymise_video
from cheese_ml.video_io import VideoInputError, probe
from cheese_runtime import events, resources
from cheese_runtime.consent import FACE_GROUPING, has_consent
from cheese_runtime.consumers import EventBridgeSqsRecord, sqs_batch_handler
from cheese_runtime.db.session import session_scope
from cheese_runtime.db.types import utcnow
from cheese_runtime.observability import logger
from functions.video import storage
from functions.video.chunk_worker import fan_out
from functions.video.dal import PeopleDirectory, VideoRepository
from functions.video.live_worker import process_stream

MAX_RECEIVES = next(
    s.max_receive_count for s in resources.EVENT_SUBSCRIPTIONS if s.consumer == "video-anonymise"
)
PROGRESS_EVERY_SECONDS = 2.0


class AnonymisationFailed(Exception):
    """The anonymisation cannot be done; its status says why."""


def _fail(anonymisation_id: str, reason: str, video_failed: bool = False) -> None:
    with session_scope() as session:
        videos = VideoRepository(session)
        row = videos.anonymisation(anonymisation_id, for_update=True)
        if row is not None and row.status not in ("done", "failed"):
            row.status, row.failure_reason, row.finished_at = "failed", reason, utcnow()
        if row is not None and video_failed:
            video = videos.get(row.user_id, row.video_id, for_update=True)
            if video is not None:
                video.status, video.failure_reason = "failed", reason
    logger.warning("video anonymisation failed", extra={"reason": reason})


def _start(anonymisation_id: str, user_id: str) -> tuple[str, list[KeptPerson], str] | None:
    """Claim it (queued → processing): (video id, kept people, style), or None if nothing to do."""
    with session_scope() as session:
        row = VideoRepository(session).anonymisation(anonymisation_id, for_update=True)
        if row is None or row.user_id != user_id or row.status in ("done", "failed"):
            return None
        people: list[KeptPerson] = []
        if row.keep:
            if not has_consent(user_id, FACE_GROUPING):
                row.status, row.failure_reason = "failed", "consent-withdrawn"
                row.finished_at = utcnow()
                raise AnonymisationFailed("consent-withdrawn")
            directory = PeopleDirectory(session)
            for person_id in directory.resolve(user_id, row.keep).values():
                if person_id is None:
                    continue  # deleted since: that person is simply not kept
                embeddings = directory.embeddings(user_id, person_id)
                if len(embeddings):
                    people.append(KeptPerson(person_id, embeddings))
        row.status = "processing"
        return row.video_id, people, row.style


def _save_progress(anonymisation_id: str, done: int, total: int) -> None:
    with session_scope() as session:
        row = VideoRepository(session).anonymisation(anonymisation_id, for_update=True)
        if row is not None and row.status == "processing":
            row.frames_done, row.frames_total = done, total


def run(anonymisation_id: str, user_id: str) -> None:
    started = _start(anonymisation_id, user_id)
    if started is None:
        return
    video_id, people, style = started
    with tempfile.TemporaryDirectory(prefix="cheese-video-") as work:
        source, result = Path(work) / "source", Path(work) / "result.mp4"
        storage.download(storage.original_key(user_id, video_id), source)
        try:
            info = probe(source)
        except VideoInputError as error:
            _fail(anonymisation_id, f"video-{error.code}: {error}"[:300], video_failed=True)
            raise AnonymisationFailed(error.code) from error
        with session_scope() as session:
            video = VideoRepository(session).get(user_id, video_id, for_update=True)
            if video is not None:
                video.duration_seconds, video.width, video.height = (
                    round(info.duration, 3),
                    info.width,
                    info.height,
                )
        if fan_out(anonymisation_id, user_id, source, info):
            return  # a long video: its chunks go on in functions.video.chunk_worker
        last_saved = [0.0]
        counts = {"analyse": 0, "render": 0}

        def progress(stage: str, done: int, total: int) -> None:
            # Both passes count: a frame is half done once analysed, done once written.
            counts[stage] = done
            now = time.monotonic()
            if now - last_saved[0] >= PROGRESS_EVERY_SECONDS:
                last_saved[0] = now
                _save_progress(anonymisation_id, (counts["analyse"] + counts["render"]) // 2, total)

        try:
            report = anonymise_video(source, result, people, style, progress=progress)  # type: ignore[arg-type]
        except VideoInputError as error:
            _fail(anonymisation_id, f"video-{error.code}: {error}"[:300], video_failed=True)
            raise AnonymisationFailed(error.code) from error
        key = storage.result_key(user_id, anonymisation_id)
        storage.upload(result, key)
    with session_scope() as session:
        row = VideoRepository(session).anonymisation(anonymisation_id, for_update=True)
        if row is None or row.status in ("done", "failed"):
            return  # erased meanwhile, or a duplicate delivery finished first
        row.status, row.failure_reason, row.result_key = "done", None, key
        row.frames_done = row.frames_total = report.frames
        row.tracks = [
            {
                "track_id": t.track_id,
                "first_second": t.first_second,
                "last_second": t.last_second,
                "person_id": t.person_id,
            }
            for t in report.tracks
        ]
        row.finished_at = utcnow()
    logger.info("video anonymised", extra={"frames": report.frames, "tracks": len(report.tracks)})


def handle_record(record: EventBridgeSqsRecord) -> None:
    if record.body.detail_type == events.LiveSegmentAnnounced.detail_type:
        announced = events.LiveSegmentAnnounced.model_validate(record.body.detail)
        logger.thread_safe_append_keys(stream_id=announced.stream_id)
        process_stream(announced.stream_id, announced.user_id)
        return
    # The lower-level factory, not event_consumer: the last delivery marks it failed.
    request = events.VideoAnonymisationRequested.model_validate(record.body.detail)
    logger.thread_safe_append_keys(anonymisation_id=request.anonymisation_id)
    try:
        run(request.anonymisation_id, request.user_id)
    except AnonymisationFailed:
        raise
    except Exception:
        if int(record.attributes.ApproximateReceiveCount) >= MAX_RECEIVES:
            _fail(request.anonymisation_id, "processing-error")
        raise


handler = sqs_batch_handler(handle_record, EventBridgeSqsRecord)
