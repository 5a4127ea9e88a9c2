"""Live streams through the Lambda handlers, the local stack's S3 and SQS workers and the
database: a real two-person clip cut into 2-second segments, uploaded by presigned POST,
announced (out of order, twice), anonymised in order into an HLS playlist."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.conftest import TestUser, signup, wait_until
from tests.idor import Attempt, assert_others_get_404
from tests.video.test_video_api import a_person_of, objects_under

SEGMENT_FRAMES = 48  # 2 s at 24 fps


@pytest.fixture(scope="module")
def segments(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three 2-second MP4 segments of one 6-second take: franck (left) beside a stranger."""
    from cheese_ml.fixtures import fixture_path
    from cheese_ml.video_clips import side_by_side, write_clip
    from cheese_ml.video_io import read_frames

    folder = tmp_path_factory.mktemp("live")
    take = folder / "take.mp4"
    side_by_side(
        fixture_path("franck.mp4"), fixture_path("single_face.mp4"), take, frames=3 * SEGMENT_FRAMES
    )
    frames = [f.rgb for f in read_frames(take)]
    paths = []
    for number in range(3):
        path = folder / f"{number}.mp4"
        write_clip(path, frames[number * SEGMENT_FRAMES : (number + 1) * SEGMENT_FRAMES], 24)
        paths.append(path)
    return paths


def start_stream(user: TestUser, **body: object) -> str:
    created = user.call("POST", "/v1/live", json_body=body)
    assert created.status == 201, created.body
    assert created.json()["segment_seconds"] == 2.0
    return str(created.json()["stream_id"])


def upload_segment(user: TestUser, stream_id: str, sequence: int, data: bytes) -> None:
    asked = user.call(
        "POST",
        f"/v1/live/{stream_id}/segments",
        json_body={"sequence": sequence, "content_type": "video/mp4", "size_bytes": len(data)},
    )
    assert asked.status == 201, asked.body
    upload = asked.json()["upload"]
    response = httpx.post(
        upload["url"], data=dict(upload["fields"]), files={"file": ("s", data, "video/mp4")}
    )
    assert response.status_code in (200, 201, 204), response.text


def announce(user: TestUser, stream_id: str, sequence: int) -> dict:
    announced = user.call("POST", f"/v1/live/{stream_id}/segments/{sequence}/announce")
    assert announced.status == 202, announced.body
    return dict(announced.json())


def wait_segments(user: TestUser, stream_id: str, count: int, timeout: float = 240) -> dict:
    latest: dict = {}

    def finished() -> bool:
        latest.update(user.call("GET", f"/v1/live/{stream_id}").json())
        return latest["next_sequence"] >= count

    assert wait_until(finished, timeout=timeout, interval=0.3), latest
    return latest


def playlist_of(user: TestUser, stream_id: str) -> list[str]:
    response = user.call("GET", f"/v1/live/{stream_id}/playlist.m3u8")
    assert response.status == 200, response.body
    assert response.headers["content-type"].startswith("application/vnd.apple.mpegurl")
    return response.body.decode().splitlines()


def first_frame(data: bytes, tmp: Path) -> np.ndarray:
    from cheese_ml.video_io import read_frames

    tmp.write_bytes(data)
    return next(iter(read_frames(tmp))).rgb


def stored_states(user_id: str) -> list[str]:
    """The sort keys of the user's live engine states in DynamoDB."""
    from cheese_runtime import aws
    from cheese_runtime.settings import get_settings

    items = aws.client("dynamodb").query(
        TableName=get_settings().live_state_table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": user_id}},
    )["Items"]
    return [item["sk"]["S"] for item in items]


def test_segments_play_in_order_with_the_tracks_carried_over(
    db, segments: list[Path], tmp_path: Path
) -> None:  # noqa: ANN001
    from cheese_ml.video_anonymise import EngineState
    from functions.video.live_state import LiveStateStore

    broadcaster, friend, other = signup("broadcaster"), signup("friend"), signup("other")
    person_id = a_person_of(broadcaster)
    stream_id = start_stream(
        broadcaster, keep=[person_id], style="mosaic", viewers={"user_ids": [friend.id]}
    )
    for sequence in (1, 0):
        upload_segment(broadcaster, stream_id, sequence, segments[sequence].read_bytes())
    # Segment 1 announced first: it waits for segment 0, which is then announced twice.
    assert announce(broadcaster, stream_id, 1)["status"] == "queued"
    assert announce(broadcaster, stream_id, 0)["status"] == "queued"
    announce(broadcaster, stream_id, 0)
    stream = wait_segments(broadcaster, stream_id, 2)
    assert [(s["sequence"], s["status"]) for s in stream["segments"]] == [(0, "done"), (1, "done")]
    assert announce(broadcaster, stream_id, 1)["status"] == "done"  # late duplicate: no change

    lines = playlist_of(friend, stream_id)
    urls = [line for line in lines if line.startswith("http")]
    assert [u.split("?")[0].rsplit("/", 1)[1] for u in urls] == ["0.ts", "1.ts"]
    assert "#EXT-X-ENDLIST" not in lines and "#EXT-X-DISCONTINUITY" not in lines
    assert lines.count("#EXTINF:2.000,") == 2
    assert other.call("GET", f"/v1/live/{stream_id}/playlist.m3u8").status == 404

    # The first frame of segment 2: the stranger (right) hidden, the kept franck (left) not.
    original = first_frame(segments[1].read_bytes(), tmp_path / "in.mp4")
    anonymised = first_frame(httpx.get(urls[1]).content, tmp_path / "out.ts")
    assert anonymised.shape == original.shape
    difference = np.abs(anonymised.astype(int) - original.astype(int)).mean(axis=2)
    half = original.shape[1] // 2
    assert difference[:, half:].max() > 60  # the mosaic over the stranger's face
    assert difference[:, :half].mean() < 3  # franck untouched, but for the re-encoding
    # The same two tracks all along: segment 2 continued segment 1's, it did not start anew.
    # The state is in DynamoDB: one item, the one segment 1 left (segment 0's is superseded).
    stored = LiveStateStore().latest_before(broadcaster.id, stream_id, 2)
    assert stored is not None
    tracks = list(EngineState.from_dict(stored).tracks.values())
    assert len(tracks) == 2 and all(t.first_frame < SEGMENT_FRAMES for t in tracks)
    assert all(t.last_frame >= 2 * SEGMENT_FRAMES - 2 for t in tracks)
    assert {t.person_id() for t in tracks} == {person_id, None}
    assert stored_states(broadcaster.id) == [f"{stream_id}#{1:010d}"]

    ended = broadcaster.call("POST", f"/v1/live/{stream_id}/end")
    assert ended.status == 200 and ended.json()["status"] == "ended"
    assert playlist_of(broadcaster, stream_id)[-1] == "#EXT-X-ENDLIST"
    refused = broadcaster.call(
        "POST",
        f"/v1/live/{stream_id}/segments",
        json_body={"sequence": 2, "content_type": "video/mp4", "size_bytes": 10},
    )
    assert refused.status == 409 and refused.json()["type"].endswith("/live-stream-ended")


def test_a_failed_segment_is_skipped_with_a_discontinuity_and_erasure_removes_the_stream(
    db, segments: list[Path]
) -> None:  # noqa: ANN001
    from cheese_local.events import eventbridge_event, received_message, sqs_event
    from cheese_local.lambda_context import LocalLambdaContext
    from functions.video import erasure

    user, viewer = signup("streamer"), signup("viewer")
    stream_id = start_stream(user, style="blur", viewers={"public": True})
    whole = segments[1].read_bytes()
    upload_segment(user, stream_id, 0, segments[0].read_bytes())
    upload_segment(user, stream_id, 1, whole[: len(whole) // 3])  # cut off, still 'ftyp'
    upload_segment(user, stream_id, 2, segments[2].read_bytes())
    for sequence in (0, 1, 2):
        announce(user, stream_id, sequence)
    stream = wait_segments(user, stream_id, 3)
    statuses = {s["sequence"]: s for s in stream["segments"]}
    assert [statuses[n]["status"] for n in (0, 1, 2)] == ["done", "failed", "done"]
    assert statuses[1]["failure_reason"].startswith("video-")
    # The failed segment left no state: segment 2 continued segment 0's, which it superseded.
    assert stored_states(user.id) == [f"{stream_id}#{2:010d}"]
    lines = playlist_of(viewer, stream_id)  # public: any signed-in user
    names = [line.split("?")[0].rsplit("/", 1)[-1] for line in lines if not line.startswith("#E")]
    assert names == ["0.ts", "2.ts"]
    assert (
        lines.index("#EXT-X-DISCONTINUITY")
        == lines.index(next(u for u in lines if "/2.ts" in u)) - 2
    )

    intruder = signup("intruder")
    assert_others_get_404(
        intruder,
        [
            Attempt("GET", f"/v1/live/{stream_id}"),
            Attempt("POST", f"/v1/live/{stream_id}/end"),
            Attempt("POST", f"/v1/live/{stream_id}/segments/0/announce"),
            Attempt(
                "POST",
                f"/v1/live/{stream_id}/segments",
                {"sequence": 3, "content_type": "video/mp4", "size_bytes": 10},
            ),
        ],
    )
    assert user.call("GET", f"/v1/live/{stream_id}").json()["status"] == "live"

    assert objects_under(f"live/{user.id}/") and objects_under(f"derived/{user.id}/live/")
    deletion = received_message(
        json.dumps(
            eventbridge_event(
                "UserDeletionRequested",
                {"user_id": user.id, "requested_at": "2026-12-02T04:00:00Z"},
            )
        ),
        1,
    ) | {"MessageId": "m-erase-live"}
    queue = "arn:aws:sqs:us-east-1:000000000000:cheese-video-erasure"
    erased = erasure.handler(sqs_event([deletion], queue), LocalLambdaContext("video-erasure"))
    assert erased == {"batchItemFailures": []}
    assert not objects_under(f"live/{user.id}/") and not objects_under(f"derived/{user.id}/live/")
    assert stored_states(user.id) == []


def test_withdrawing_face_grouping_forgets_the_tracks_and_fails_the_next_segment(
    db, segments: list[Path]
) -> None:  # noqa: ANN001
    from tests.photos.helpers import consent

    user = signup("withdrawer")
    stream_id = start_stream(user, keep=[a_person_of(user)], style="blur")
    upload_segment(user, stream_id, 0, segments[0].read_bytes())
    announce(user, stream_id, 0)
    wait_segments(user, stream_id, 1)
    assert stored_states(user.id) == [f"{stream_id}#{0:010d}"]  # who the tracks were
    consent(user, face_grouping=False, expression_analysis=False)
    assert stored_states(user.id) == []  # at once, whether or not another segment comes
    upload_segment(user, stream_id, 1, segments[1].read_bytes())
    announce(user, stream_id, 1)
    stream = wait_segments(user, stream_id, 2)
    assert [(s["status"], s["failure_reason"]) for s in stream["segments"]] == [
        ("done", None),
        ("failed", "consent-withdrawn"),
    ]
    assert stored_states(user.id) == []


def test_a_segment_that_never_comes_is_given_up_and_bad_requests_get_problems(
    db, segments: list[Path]
) -> None:  # noqa: ANN001
    user = signup("gappy")
    stream_id = start_stream(user)
    for sequence in (1, 2):
        upload_segment(user, stream_id, sequence, segments[sequence].read_bytes())
        announce(user, stream_id, sequence)
    # Segment 0 never comes: once two later segments wait, it is given up.
    stream = wait_segments(user, stream_id, 3)
    assert [(s["sequence"], s["status"], s["failure_reason"]) for s in stream["segments"]] == [
        (0, "failed", "segment-not-announced"),
        (1, "done", None),
        (2, "done", None),
    ]
    assert playlist_of(user, stream_id)[4] == "#EXT-X-PLAYLIST-TYPE:EVENT"

    bad = [
        ("POST", "/v1/live", {"style": "paint"}),
        ("POST", "/v1/live", {"keep": ["00000000-0000-4000-8000-000000000000"]}),
        ("POST", "/v1/live", {"viewers": {"user_ids": ["x\u0000"]}}),
        (
            "POST",
            f"/v1/live/{stream_id}/segments",
            {"sequence": -1, "content_type": "video/mp4", "size_bytes": 10},
        ),
        (
            "POST",
            f"/v1/live/{stream_id}/segments",
            {"sequence": 3, "content_type": "video/mp4", "size_bytes": 1 << 40},
        ),
        ("POST", f"/v1/live/{stream_id}/segments/99999999999/announce", None),
        ("POST", f"/v1/live/{stream_id}/segments/7/announce", None),
        ("GET", "/v1/live/not-a-stream%00/playlist.m3u8", None),
    ]
    for method, path, body in bad:
        response = user.call(method, path, json_body=body) if body else user.call(method, path)
        assert 400 <= response.status < 500, (path, body, response.status, response.body)
    upload_segment(user, stream_id, 3, b"\x00" * 4000)
    refused = user.call("POST", f"/v1/live/{stream_id}/segments/3/announce")
    assert refused.status == 409 and refused.json()["type"].endswith("/live-segment-not-uploaded")
