"""The diary analysis consumer behind S3 → SQS in the local stack: real video, real database.

The diary row is written as the API writes it; the video is put where the
presigned upload puts it, and the stack's S3 notification delivers it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import httpx

from cheese_local.events import (
    received_message,
    s3_notification,
    s3_notification_record,
    sqs_event,
)
from cheese_local.lambda_context import LocalLambdaContext
from cheese_ml.fixtures import fixture_path
from cheese_runtime import aws
from cheese_runtime.db.session import session_scope
from cheese_runtime.settings import get_settings
from functions.diary.analysis import consumer
from functions.diary.models import Diary
from tests.conftest import TestUser, signup, wait_until
from tests.photos.helpers import consent

MESSAGE_ID = "0f0e7c1a-1111-4c9a-9a8e-000000000001"
QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:cheese-diary-analysis"


def _diary(user: TestUser, data: bytes) -> str:
    with session_scope() as session:
        diary = Diary(
            user_id=user.id,
            recorded_on=date(2026, 12, 1),
            object_key="",
            content_type="video/mp4",
            size_bytes=len(data),
        )
        session.add(diary)
        session.flush()
        diary.object_key = f"diaries/{user.id}/{diary.id}/video"
        return diary.id


def _upload(user: TestUser, diary_id: str, data: bytes) -> str:
    key = f"diaries/{user.id}/{diary_id}/video"
    aws.client("s3").put_object(
        Bucket=get_settings().photos_bucket, Key=key, Body=data, ContentType="video/mp4"
    )
    return key


def _row(diary_id: str) -> Diary:
    with session_scope() as session:
        diary = session.get(Diary, diary_id)
        assert diary is not None
        session.expunge(diary)
        return diary


def _settled(diary_id: str, timeout: float = 240) -> Diary:
    assert wait_until(lambda: _row(diary_id).status in ("ready", "failed"), timeout=timeout)
    return _row(diary_id)


def _sqs_event(key: str, receive_count: int = 1) -> dict[str, Any]:
    record = s3_notification_record(get_settings().photos_bucket, key, 1)
    message = {**received_message(s3_notification(record), receive_count), "MessageId": MESSAGE_ID}
    return sqs_event([message], QUEUE_ARN)


def test_uploaded_diary_is_analysed_once_with_its_timeline(db: Any) -> None:
    user = signup("diarist")
    consent(user, face_grouping=False, expression_analysis=True)
    data = Path(fixture_path("single_face.mp4")).read_bytes()
    diary_id = _diary(user, data)
    key = _upload(user, diary_id, data)

    diary = _settled(diary_id)
    assert diary.status == "ready", diary.failure_reason
    assert diary.duration_s is not None and abs(diary.duration_s - 2.4) < 0.1
    assert diary.timeline and diary.timeline[-1]["expression"]["happy"] > 0.5
    assert diary.emotion_summary is not None and diary.dominant_emotion == "happy"
    assert diary.emotion_skipped is None
    assert diary.thumbnail_key == f"derived/{user.id}/diary/{diary_id}/thumbnail.jpg"
    shown = user.call("GET", f"/v1/diaries/{diary_id}").json()
    thumbnail = httpx.get(shown["thumbnail_url"])
    assert thumbnail.status_code == 200 and thumbnail.content[:3] == b"\xff\xd8\xff"
    assert shown["timeline_status"] == "ready"
    assert diary.transcript is not None and diary.key_sentences is not None
    analysed_at = diary.analysed_at

    # S3 delivers at least once: the same event again analyses nothing.
    response = consumer.handler(_sqs_event(key), LocalLambdaContext("diary-analysis"))
    assert response == {"batchItemFailures": []}
    assert _row(diary_id).analysed_at == analysed_at


def test_without_emotion_consent_there_is_no_timeline(db: Any) -> None:
    user = signup("diarist-no-consent")
    consent(user, face_grouping=False, expression_analysis=False)
    data = Path(fixture_path("single_face.mp4")).read_bytes()
    diary_id = _diary(user, data)
    _upload(user, diary_id, data)
    diary = _settled(diary_id)
    assert diary.status == "ready", diary.failure_reason
    assert diary.timeline is None and diary.emotion_summary is None
    assert diary.dominant_emotion is None and diary.emotion_skipped == "no-consent"
    shown = user.call("GET", f"/v1/diaries/{diary_id}").json()
    assert (shown["timeline_status"], shown["timeline_skipped_reason"]) == ("skipped", "no-consent")


def test_a_truncated_video_fails_with_its_reason_and_keeps_failing(db: Any) -> None:
    user = signup("diarist-truncated")
    # An MP4 cut off during upload: its 'moov' index (written last) is missing.
    data = Path(fixture_path("single_face.mp4")).read_bytes()[:4096]
    diary_id = _diary(user, data)
    key = _upload(user, diary_id, data)
    diary = _settled(diary_id)
    assert diary.status == "failed" and diary.failure_reason == "video-truncated"

    # Every delivery of the poison message fails, so SQS moves it to the DLQ. (The stack's
    # own worker may be redelivering it through the same handler at this moment, so its
    # failure can be reported alongside.)
    response = consumer.handler(
        _sqs_event(key, receive_count=3), LocalLambdaContext("diary-analysis")
    )
    assert {"itemIdentifier": MESSAGE_ID} in response["batchItemFailures"]
    assert _row(diary_id).failure_reason == "video-truncated"


def test_a_diary_uploaded_through_the_api_ends_ready_with_timeline_transcript_and_thumbnail(
    db: Any,
) -> None:
    """End to end through the local stack: POST /v1/diaries, the presigned POST to the
    stack's S3, its ObjectCreated notification → SQS → the analysis consumer, then GET."""
    user = signup("diarist-e2e")
    consent(user, face_grouping=False, expression_analysis=True)
    data = Path(fixture_path("single_face.mp4")).read_bytes()
    created = user.call(
        "POST",
        "/v1/diaries",
        json_body={
            "recorded_on": "2026-12-01",
            "content_type": "video/mp4",
            "size_bytes": len(data),
        },
    )
    assert created.status == 201, created.body
    diary_id, form = created.json()["diary_id"], created.json()["upload"]
    posted = httpx.post(
        form["url"], data=form["fields"], files={"file": ("diary.mp4", data, "video/mp4")}
    )
    assert posted.status_code in (200, 201, 204), posted.text

    def shown() -> dict[str, Any]:
        return dict(user.call("GET", f"/v1/diaries/{diary_id}").json())

    assert wait_until(lambda: shown()["status"] in ("ready", "failed"), timeout=240)
    diary = shown()
    assert diary["status"] == "ready", diary["failure_reason"]
    assert diary["timeline_status"] == "ready" and len(diary["timeline"]) == 5
    assert diary["emotion_summary"]["dominant"] == "happy"
    assert diary["transcript"] is not None and diary["transcript"]["language"] in ("en-US", "ko-KR")
    assert httpx.get(diary["thumbnail_url"]).content[:3] == b"\xff\xd8\xff"
    assert httpx.get(diary["video_url"]).content == data
    day = user.call("GET", "/v1/diaries/calendar", query="year=2026").json()["days"]
    assert day == [{"date": "2026-12-01", "count": 1, "dominant_emotion": "happy"}]
