"""Long videos in chunks, through the handlers, the local stack's SQS workers (the
video-chunks queue) and the database: a real two-person clip cut into 0.75-second
chunks (the threshold lowered for the test), detected and encoded chunk by chunk,
planned once over all of them and joined."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import av
import httpx
import numpy as np
import pytest

from tests.conftest import signup
from tests.video.test_video_api import a_person_of, objects_under, post_video, wait_anonymisation

FRAMES = 72  # 3 s at 24 fps
CHUNK_SECONDS = 0.75  # 18 frames: 4 chunks


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    from cheese_ml.fixtures import fixture_path
    from cheese_ml.video_clips import side_by_side

    path = tmp_path_factory.mktemp("chunks") / "two_people.mp4"
    truth = side_by_side(
        fixture_path("franck.mp4"), fixture_path("single_face.mp4"), path, frames=FRAMES
    )
    return path, truth


@pytest.fixture
def short_chunks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from cheese_runtime.settings import get_settings

    monkeypatch.setenv("CHEESE_VIDEO_CHUNK_AFTER_SECONDS", "1")
    monkeypatch.setenv("CHEESE_VIDEO_CHUNK_SECONDS", str(CHUNK_SECONDS))
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def chunk_rows(anonymisation_id: str) -> list[tuple[int, int, int, str]]:
    from cheese_runtime.db.session import session_scope
    from functions.video.dal import VideoRepository

    with session_scope() as session:
        return [
            (c.number, c.first_frame, c.frames, c.status)
            for c in VideoRepository(session).chunks(anonymisation_id)
        ]


def audio_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(container.streams.audio[0]) if p.size]


def chunk_message(anonymisation_id: str, user_id: str, chunk: int, stage: str, receives: int):  # noqa: ANN201
    from cheese_local.events import eventbridge_event, received_message, sqs_event

    detail = {
        "anonymisation_id": anonymisation_id,
        "user_id": user_id,
        "chunk": chunk,
        "stage": stage,
    }
    body = json.dumps(eventbridge_event("VideoChunkRequested", detail))
    message = received_message(body, receives) | {"MessageId": f"m-{chunk}-{stage}-{receives}"}
    return sqs_event([message], "arn:aws:sqs:us-east-1:000000000000:cheese-video-chunks")


def test_a_long_video_is_cut_anonymised_in_chunks_and_joined(
    db, clip, short_chunks, tmp_path: Path
) -> None:  # noqa: ANN001
    from cheese_local.lambda_context import LocalLambdaContext
    from cheese_ml.video_io import probe, read_frames
    from cheese_ml.video_judge import HaarJudge, judge
    from functions.video import chunk_worker

    source, truth = clip
    user = signup("longform")
    person_id = a_person_of(user)
    video_id = post_video(user, source.read_bytes())
    accepted = user.call(
        "POST",
        f"/v1/videos/{video_id}/anonymisations",
        json_body={"keep": [person_id], "style": "mosaic"},
    )
    assert accepted.status == 202, accepted.body
    anonymisation_id = accepted.json()["anonymisation_id"]
    (done,) = wait_anonymisation(user, video_id, timeout=240)["anonymisations"]
    assert done["status"] == "done", done
    assert done["progress"] == {"frames_done": FRAMES, "frames_total": FRAMES}

    rows = chunk_rows(anonymisation_id)
    assert [(n, first, frames) for n, first, frames, _ in rows] == [
        (0, 0, 18),
        (1, 18, 18),
        (2, 36, 18),
        (3, 54, 18),
    ]
    assert {status for *_, status in rows} == {"encoded"}
    # One track per man across all four chunks: the tracks were carried over the edges.
    tracks = sorted(done["tracks"], key=lambda t: t["person_id"] or "")
    assert [t["person_id"] for t in tracks] == [None, person_id]
    for track in tracks:
        assert track["first_second"] == 0.0
        assert track["last_second"] == pytest.approx((FRAMES - 1) / 24, abs=1e-3)
    assert not objects_under(f"derived/{user.id}/videos/chunks/")  # the chunk work is gone

    result = tmp_path / "result.mp4"
    result.write_bytes(httpx.get(done["result_url"]).content)
    info = probe(result)
    assert (info.width, info.height, info.video_codec) == (960, 360, "h264")
    assert audio_packets(result) == audio_packets(source)  # copied once, whole
    original = [f.rgb for f in read_frames(source)]
    anonymised = [f.rgb for f in read_frames(result)]
    assert len(anonymised) == FRAMES  # every frame, none doubled at an edge
    half = original[0].shape[1] // 2
    for first in (0, 17, 18, 35, 36, 53, 54, 71):  # both sides of every chunk edge
        difference = np.abs(anonymised[first].astype(int) - original[first].astype(int)).mean(
            axis=2
        )
        assert difference[:, half:].max() > 60, first  # the stranger covered
        assert difference[:, :half].mean() < 3, first  # franck untouched
    verdict = judge(source, result, truth, hidden={"right"}, kept={"left"}, judge_model=HaarJudge())
    assert verdict.labels["right"].visible_frames >= 0.9 * FRAMES
    assert verdict.leak_frames == 0 and verdict.flicker_frames == 0
    assert verdict.kept_untouched is not None and verdict.kept_untouched >= 0.98

    # Redeliveries of both stages change nothing once done.
    before = user.call("GET", f"/v1/videos/{video_id}").json()["anonymisations"]
    for stage in ("detect", "encode"):
        outcome = chunk_worker.handler(
            chunk_message(anonymisation_id, user.id, 2, stage, 2),
            LocalLambdaContext("video-chunks"),
        )
        assert outcome == {"batchItemFailures": []}
    after = user.call("GET", f"/v1/videos/{video_id}").json()["anonymisations"]
    assert after == [before[0] | {"result_url": after[0]["result_url"]}]
    assert not objects_under(f"derived/{user.id}/videos/chunks/")


def _chunked_anonymisation(user_id: str, original: bytes | None) -> tuple[str, str]:
    """A video and an anonymisation already cut into two chunks (as fan_out leaves them)."""
    from cheese_runtime import aws
    from cheese_runtime.db.session import session_scope
    from cheese_runtime.settings import get_settings
    from functions.video import storage
    from functions.video.models import Video, VideoAnonymisation, VideoChunk

    with session_scope() as session:
        video = Video(user_id=user_id, content_type="video/mp4", size_bytes=100, status="ready")
        session.add(video)
        session.flush()
        row = VideoAnonymisation(
            video_id=video.id, user_id=user_id, keep=[], style="blur", status="processing"
        )
        session.add(row)
        session.flush()
        for number in (0, 1):
            session.add(
                VideoChunk(
                    anonymisation_id=row.id,
                    number=number,
                    user_id=user_id,
                    first_frame=18 * number,
                    frames=18,
                    start_pts=9216 * number,
                    end_pts=9216 if number == 0 else None,
                    status="detecting",
                    frames_detected=0,
                    frames_encoded=0,
                )
            )
        video_id, anonymisation_id = video.id, row.id
    if original is not None:
        aws.client("s3").put_object(
            Bucket=get_settings().photos_bucket,
            Key=storage.original_key(user_id, video_id),
            Body=original,
        )
    return video_id, anonymisation_id


def test_a_failed_chunk_fails_the_anonymisation_with_a_reason(db) -> None:  # noqa: ANN001
    from cheese_local.lambda_context import LocalLambdaContext
    from functions.video import chunk_worker

    user = signup("brokenchunk")
    # The original turned unreadable: the chunk fails at once (no retry can help).
    video_id, anonymisation_id = _chunked_anonymisation(user.id, b"\x00" * 4096)
    outcome = chunk_worker.handler(
        chunk_message(anonymisation_id, user.id, 1, "detect", 1), LocalLambdaContext("chunks")
    )
    assert outcome == {"batchItemFailures": []}
    (failed,) = user.call("GET", f"/v1/videos/{video_id}").json()["anonymisations"]
    assert failed["status"] == "failed"
    assert failed["failure_reason"].startswith("chunk 2 of 2: video-corrupt")
    assert [status for *_, status in chunk_rows(anonymisation_id)] == ["detecting", "failed"]
    # The other chunk then stops at once.
    chunk_worker.handler(
        chunk_message(anonymisation_id, user.id, 0, "detect", 1), LocalLambdaContext("chunks")
    )
    assert [status for *_, status in chunk_rows(anonymisation_id)] == ["detecting", "failed"]

    # An error that is not the video's: retried, and on the last delivery a failure.
    video_id, anonymisation_id = _chunked_anonymisation(user.id, None)  # original missing
    retried = chunk_worker.handler(
        chunk_message(anonymisation_id, user.id, 0, "detect", 1), LocalLambdaContext("chunks")
    )
    assert len(retried["batchItemFailures"]) == 1
    assert (
        user.call("GET", f"/v1/videos/{video_id}").json()["anonymisations"][0]["status"]
        == "processing"
    )
    last = chunk_worker.handler(
        chunk_message(anonymisation_id, user.id, 0, "detect", chunk_worker.MAX_RECEIVES),
        LocalLambdaContext("chunks"),
    )
    assert len(last["batchItemFailures"]) == 1  # to the DLQ
    (failed,) = user.call("GET", f"/v1/videos/{video_id}").json()["anonymisations"]
    assert (failed["status"], failed["failure_reason"]) == (
        "failed",
        "chunk 1 of 2: processing-error",
    )
