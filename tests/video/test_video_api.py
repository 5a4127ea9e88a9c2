"""The video API through the Lambda handlers, the local stack's S3/SQS workers and the
database: a real two-person clip uploaded, anonymised keeping a person of the user's photos."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from cheese_runtime import aws
from cheese_runtime.settings import get_settings
from tests.conftest import TestUser, signup, wait_until
from tests.idor import Attempt, assert_others_get_404, assert_owner_still_sees
from tests.photos.helpers import consent, register_person

FRANCK_PHOTOS = ("franck_01829.jpg", "franck_02888.jpg", "franck_04117.jpg")


@pytest.fixture(scope="module")
def two_people_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cheese_ml.fixtures import fixture_path
    from cheese_ml.video_clips import side_by_side

    path = tmp_path_factory.mktemp("clips") / "two_people.mp4"
    side_by_side(fixture_path("franck.mp4"), fixture_path("single_face.mp4"), path, frames=48)
    return path


def objects_under(prefix: str) -> list[str]:
    listed = aws.client("s3").list_objects_v2(Bucket=get_settings().photos_bucket, Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", [])]


def post_video(user: TestUser, data: bytes, content_type: str = "video/mp4") -> str:
    created = user.call(
        "POST", "/v1/videos", json_body={"content_type": content_type, "size_bytes": len(data)}
    )
    assert created.status == 201, created.body
    body = created.json()
    fields = dict(body["upload"]["fields"])
    response = httpx.post(
        body["upload"]["url"], data=fields, files={"file": ("video", data, content_type)}
    )
    assert response.status_code in (200, 201, 204), response.text
    return body["video_id"]


def wait_anonymisation(user: TestUser, video_id: str, timeout: float = 240) -> dict:
    latest: dict = {}

    def finished() -> bool:
        latest.update(user.call("GET", f"/v1/videos/{video_id}").json())
        return all(a["status"] in ("done", "failed") for a in latest["anonymisations"])

    assert wait_until(finished, timeout=timeout, interval=0.5), latest
    return latest


def a_person_of(user: TestUser) -> str:
    """A new user registers the person to keep from three photos (POST /v1/people)."""
    consent(user, face_grouping=True, expression_analysis=False)
    registered = register_person(user, list(FRANCK_PHOTOS), name="Franck")
    assert registered.status == 201, registered.body
    return str(registered.json()["id"])


def test_a_video_comes_back_with_the_stranger_hidden_and_the_person_kept(
    db, two_people_clip: Path
) -> None:  # noqa: ANN001
    user = signup("director")
    person_id = a_person_of(user)
    video_id = post_video(user, two_people_clip.read_bytes())
    accepted = user.call(
        "POST",
        f"/v1/videos/{video_id}/anonymisations",
        json_body={"keep": [person_id], "style": "mosaic"},
    )
    assert accepted.status == 202, accepted.body
    video = wait_anonymisation(user, video_id)
    (done,) = video["anonymisations"]
    assert done["status"] == "done", done
    assert done["id"] == accepted.json()["anonymisation_id"]
    assert done["progress"] == {"frames_done": 48, "frames_total": 48}
    assert video["status"] == "ready" and video["duration"] == pytest.approx(2.0, abs=0.1)
    assert (video["width"], video["height"]) == (960, 360)
    assert sorted(t["person_id"] or "" for t in done["tracks"]) == ["", person_id]
    result = httpx.get(done["result_url"]).content
    assert result[4:8] == b"ftyp" and len(result) > 10_000

    listed = user.call("GET", "/v1/videos", query="limit=1").json()
    assert [v["video_id"] for v in listed["items"]] == [video_id]


def test_ownership_and_deletion(db, two_people_clip: Path) -> None:  # noqa: ANN001
    owner, intruder = signup("owner"), signup("intruder")
    video_id = post_video(owner, two_people_clip.read_bytes())
    before = owner.call("GET", f"/v1/videos/{video_id}").json()
    assert_others_get_404(
        intruder,
        [
            Attempt("GET", f"/v1/videos/{video_id}"),
            Attempt("DELETE", f"/v1/videos/{video_id}"),
            Attempt("POST", f"/v1/videos/{video_id}/anonymisations", {"keep": [], "style": "blur"}),
        ],
    )
    assert_owner_still_sees(owner, f"/v1/videos/{video_id}", before)
    assert intruder.call("GET", "/v1/videos").json()["items"] == []
    assert objects_under(f"videos/{owner.id}/")
    assert owner.call("DELETE", f"/v1/videos/{video_id}").status == 204
    assert owner.call("GET", f"/v1/videos/{video_id}").status == 404
    assert not objects_under(f"videos/{owner.id}/")


def test_bad_requests_get_problems(db) -> None:  # noqa: ANN001
    user = signup("bad")
    too_big = user.call(
        "POST", "/v1/videos", json_body={"content_type": "video/mp4", "size_bytes": 600 << 20}
    )
    assert too_big.status == 422
    wrong_type = user.call(
        "POST", "/v1/videos", json_body={"content_type": "image/gif", "size_bytes": 10}
    )
    assert wrong_type.status == 422
    # declared MP4, uploaded noise: the arrival check refuses it before any work
    video_id = post_video(user, b"\x00" * 5000)
    refused = user.call(
        "POST", f"/v1/videos/{video_id}/anonymisations", json_body={"keep": [], "style": "mosaic"}
    )
    assert refused.status == 409 and refused.json()["type"].endswith("/video-not-uploaded")
    # keeping a person the user does not have
    consent(user, face_grouping=True, expression_analysis=False)
    unknown = user.call(
        "POST",
        f"/v1/videos/{video_id}/anonymisations",
        json_body={"keep": ["00000000-0000-4000-8000-000000000000"]},
    )
    assert unknown.status == 422 and unknown.json()["type"].endswith("/unknown-people")


def test_a_truncated_video_fails_with_a_reason(db, two_people_clip: Path) -> None:  # noqa: ANN001
    user = signup("cut")
    whole = two_people_clip.read_bytes()
    video_id = post_video(user, whole[: len(whole) // 2])  # still starts with 'ftyp'
    assert (
        user.call(
            "POST", f"/v1/videos/{video_id}/anonymisations", json_body={"style": "blur"}
        ).status
        == 202
    )
    video = wait_anonymisation(user, video_id, timeout=60)
    (failed,) = video["anonymisations"]
    assert failed["status"] == "failed" and failed["failure_reason"].startswith("video-truncated")
    assert video["status"] == "failed" and "cut off" in video["failure_reason"]


def test_a_duplicate_message_gives_one_result_and_erasure_removes_everything(
    db, two_people_clip: Path
) -> None:  # noqa: ANN001
    from cheese_local.events import eventbridge_event, received_message, sqs_event
    from cheese_local.lambda_context import LocalLambdaContext
    from functions.video import erasure, worker

    user = signup("twice")
    video_id = post_video(user, two_people_clip.read_bytes())
    accepted = user.call(
        "POST", f"/v1/videos/{video_id}/anonymisations", json_body={"style": "blur"}
    ).json()
    done = wait_anonymisation(user, video_id)["anonymisations"][0]
    assert done["status"] == "done"
    detail = {
        "anonymisation_id": accepted["anonymisation_id"],
        "video_id": video_id,
        "user_id": user.id,
    }
    body = json.dumps(eventbridge_event("VideoAnonymisationRequested", detail))
    message = received_message(body, 2) | {"MessageId": "m-dup"}
    queue = "arn:aws:sqs:us-east-1:000000000000:cheese-video-anonymise"
    outcome = worker.handler(sqs_event([message], queue), LocalLambdaContext("video-anonymise"))
    assert outcome == {"batchItemFailures": []}
    again = user.call("GET", f"/v1/videos/{video_id}").json()["anonymisations"]
    assert again == [done | {"result_url": again[0]["result_url"]}]
    assert len(objects_under(f"derived/{user.id}/videos/")) == 1

    deletion = received_message(
        json.dumps(
            eventbridge_event(
                "UserDeletionRequested",
                {"user_id": user.id, "requested_at": "2026-12-01T22:00:00Z"},
            )
        ),
        1,
    ) | {"MessageId": "m-erase"}
    erased = erasure.handler(sqs_event([deletion], queue), LocalLambdaContext("video-erasure"))
    assert erased == {"batchItemFailures": []}
    assert not objects_under(f"videos/{user.id}/")
    assert not objects_under(f"derived/{user.id}/videos/")
    assert user.call("GET", f"/v1/videos/{video_id}").status == 404
