"""Live segments anonymised in order (``LiveSegmentAnnounced`` → the video-anonymise queue → here).

Every announcement wakes the stream: with its row locked (one worker per stream
at a time; a second delivery waits, then finds the work done), the segments
from ``next_sequence`` on are anonymised while they are there, each continuing
the engine state the one before left (tracks, identity votes, last boxes; in
DynamoDB, ``live_state``: written before the segment and the new
``next_sequence`` are committed, so a redo finds the state it started from).
A segment that cannot be read ends ``failed`` (no state is written: the
next segment continues from the last good one); a segment still missing while
``LATE_AFTER`` later ones wait, or when the stream has ended, ends ``failed``
(``segment-not-announced``) so the stream does not stall. At least once and
idempotent: done and failed segments are never redone.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from cheese_ml.video_anonymise import EngineState, KeptPerson, anonymise_segment
from cheese_ml.video_io import VideoInputError
from cheese_runtime.consent import FACE_GROUPING, has_consent
from cheese_runtime.db.session import session_scope
from cheese_runtime.db.types import utcnow
from cheese_runtime.observability import logger
from functions.video import storage
from functions.video.dal import LiveRepository, PeopleDirectory
from functions.video.live_state import LiveStateStore
from functions.video.models import LiveSegment, LiveStream

# A missing segment is given up once this many later ones are waiting (2 s each: the
# glass-to-glass goal is 3 segment lengths, and waiting longer would break it).
LATE_AFTER = 2


def _people(session: object, stream: LiveStream) -> list[KeptPerson]:
    directory = PeopleDirectory(session)  # type: ignore[arg-type]
    people = []
    for person_id in directory.resolve(stream.user_id, stream.keep).values():
        if person_id is not None:  # deleted since: simply not kept
            embeddings = directory.embeddings(stream.user_id, person_id)
            if len(embeddings):
                people.append(KeptPerson(person_id, embeddings))
    return people


def _fail(row: LiveSegment, reason: str) -> None:
    row.status, row.failure_reason, row.finished_at = "failed", reason[:300], utcnow()
    logger.warning("live segment failed", extra={"sequence": row.sequence, "reason": reason})


def _anonymise(
    stream: LiveStream, row: LiveSegment, people: list[KeptPerson], states: LiveStateStore
) -> bool:
    """Anonymise one queued segment into S3, store the engine state it leaves and advance
    the stream (in the caller's transaction); False when the segment failed."""
    stored = states.latest_before(stream.user_id, stream.id, row.sequence)
    state = EngineState.from_dict(stored) if stored is not None else EngineState()
    with tempfile.TemporaryDirectory(prefix="cheese-live-") as work:
        source, result = Path(work) / "segment", Path(work) / "segment.ts"
        storage.download(storage.segment_key(stream.user_id, stream.id, row.sequence), source)
        try:
            report = anonymise_segment(
                source,
                result,
                state,
                stream.seconds_done,
                people,
                stream.style,  # type: ignore[arg-type]
            )
        except VideoInputError as error:
            _fail(row, f"video-{error.code}: {error}")
            return False
        key = storage.live_result_key(stream.user_id, stream.id, row.sequence)
        storage.upload_segment(result, key)
    state_bytes = states.save(stream.user_id, stream.id, row.sequence, state.live_only().to_dict())
    stream.seconds_done += report.duration
    row.status, row.failure_reason, row.result_key = "done", None, key
    row.duration_seconds, row.finished_at = round(report.duration, 3), utcnow()
    logger.info("live segment done", extra={"sequence": row.sequence, "state_bytes": state_bytes})
    return True


def _next(live: LiveRepository, stream: LiveStream) -> LiveSegment | None:
    """The segment to work on now (queued), after closing a gap that will not fill; or None."""
    segments = {s.sequence: s for s in live.segments(stream.id)}
    row = segments.get(stream.next_sequence)
    if row is not None and row.status in ("queued", "done", "failed"):
        return row
    waiting = [s for s in segments.values() if s.sequence > stream.next_sequence]
    queued_later = [s for s in waiting if s.status == "queued"]
    if queued_later and (stream.status == "ended" or len(queued_later) >= LATE_AFTER):
        if row is None:
            row = LiveSegment(
                stream_id=stream.id,
                sequence=stream.next_sequence,
                user_id=stream.user_id,
                content_type="video/mp4",
                size_bytes=0,
            )
            live.session.add(row)
        _fail(row, "segment-not-announced")
        return row
    return None


def process_stream(stream_id: str, user_id: str) -> int:
    """Anonymise every segment that is next in order; returns how many were finished."""
    finished = 0
    states = LiveStateStore()
    while True:
        saved: int | None = None
        with session_scope() as session:
            live = LiveRepository(session)
            stream = live.stream(stream_id, for_update=True)
            if stream is None or stream.user_id != user_id:
                return finished  # erased meanwhile
            row = _next(live, stream)
            if row is None:
                return finished
            if row.status == "queued":
                if stream.keep and not has_consent(user_id, FACE_GROUPING):
                    _fail(row, "consent-withdrawn")
                else:
                    people = _people(session, stream) if stream.keep else []
                    if _anonymise(stream, row, people, states):
                        saved = row.sequence
            stream.next_sequence += 1
            finished += 1
        if saved is not None:  # committed: the states before it are superseded
            states.forget_before(user_id, stream_id, saved)
