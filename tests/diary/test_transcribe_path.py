"""The AWS speech path through the local stack: Amazon Transcribe (moto) and its completion event.

With ``speech_engine="transcribe"`` (what the CDK app sets) the analysis
consumer starts the diary's job and records everything else; the diary shows
``processing`` with its timeline. The job's output JSON is written where
Transcribe writes it, and its ``Transcribe Job State Change`` event is put on
the account's default bus as AWS sends it: the stack's rule forwards it to
the ``diary-transcribed`` queue, whose consumer finishes the diary.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cheese_local.events import eventbridge_event, received_message, sqs_event
from cheese_local.lambda_context import LocalLambdaContext
from cheese_ml.fixtures import fixture_path
from cheese_runtime import aws
from cheese_runtime.settings import get_settings
from functions.diary.analysis import transcribed
from functions.diary.config import get_diary_settings
from tests.conftest import TestUser, signup, wait_until
from tests.photos.helpers import consent

TEXT = (
    "Today my sister and I went hiking on the mountain near our town. "
    "The mountain trail was steep but the view from the top was beautiful. "
    "After hiking we ate noodles at a small restaurant. "
    "My sister wants to climb the mountain again next week."
)
QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:cheese-diary-transcribed"


@pytest.fixture
def transcribe_engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CHEESE_DIARY_SPEECH_ENGINE", "transcribe")
    get_diary_settings.cache_clear()
    yield
    monkeypatch.delenv("CHEESE_DIARY_SPEECH_ENGINE")
    get_diary_settings.cache_clear()


def _output(diary_id: str, text: str) -> dict[str, Any]:
    """Transcribe's output JSON for ``text``, one pronunciation item per word."""
    items = []
    for index, word in enumerate(text.replace(".", "").split()):
        items.append(
            {
                "type": "pronunciation",
                "alternatives": [{"confidence": "0.99", "content": word}],
                "start_time": f"{index * 0.4:.2f}",
                "end_time": f"{index * 0.4 + 0.35:.2f}",
            }
        )
    return {
        "jobName": f"cheese-diary-{diary_id}",
        "accountId": "000000000000",
        "status": "COMPLETED",
        "results": {
            "language_code": "en-US",
            "transcripts": [{"transcript": text}],
            "items": items,
        },
    }


def _upload_diary(user: TestUser) -> tuple[str, dict[str, Any]]:
    data = Path(fixture_path("single_face.mp4")).read_bytes()
    created = user.call(
        "POST",
        "/v1/diaries",
        json_body={
            "recorded_on": "2026-11-20",
            "content_type": "video/mp4",
            "size_bytes": len(data),
        },
    )
    assert created.status == 201, created.body
    diary_id = created.json()["diary_id"]
    fields = created.json()["upload"]["fields"]
    aws.client("s3").put_object(
        Bucket=get_settings().photos_bucket, Key=fields["key"], Body=data, ContentType="video/mp4"
    )
    return diary_id, fields


def _shown(user: TestUser, diary_id: str) -> dict[str, Any]:
    return dict(user.call("GET", f"/v1/diaries/{diary_id}").json())


def _waiting_for_transcribe(user: TestUser, diary_id: str) -> dict[str, Any]:
    """The analysis is recorded and the job started: the diary shows processing."""
    transcribe = aws.client("transcribe")

    def job_started() -> bool:
        try:
            transcribe.get_transcription_job(TranscriptionJobName=f"cheese-diary-{diary_id}")
        except transcribe.exceptions.BadRequestException:
            return False
        return _shown(user, diary_id)["timeline_status"] == "ready"

    assert wait_until(job_started, timeout=240)
    return _shown(user, diary_id)


def _job_finished(diary_id: str, status: str, **extra: str) -> None:
    """AWS sends the job's state change to the default bus (source aws.transcribe)."""
    detail = {"TranscriptionJobName": f"cheese-diary-{diary_id}", "TranscriptionJobStatus": status}
    response = aws.client("events").put_events(
        Entries=[
            {
                "Source": "aws.transcribe",
                "DetailType": "Transcribe Job State Change",
                "Detail": json.dumps({**detail, **extra}),
                "EventBusName": "default",
            }
        ]
    )
    assert response["FailedEntryCount"] == 0


def _deliver(detail: dict[str, Any], source: str = "aws.transcribe") -> dict[str, Any]:
    """One event straight to the consumer, as its queue's event source mapping delivers it."""
    body = json.dumps(eventbridge_event("Transcribe Job State Change", detail, source=source))
    return dict(
        transcribed.handler(
            sqs_event([received_message(body)], QUEUE_ARN), LocalLambdaContext("diary-transcribed")
        )
    )


def test_a_diary_transcribed_by_amazon_transcribe_is_finished_by_its_completion_event(
    db: Any, transcribe_engine: None
) -> None:
    user = signup("diarist-transcribe")
    consent(user, face_grouping=False, expression_analysis=True)
    diary_id, fields = _upload_diary(user)

    waiting = _waiting_for_transcribe(user, diary_id)
    assert waiting["status"] == "processing" and waiting["transcript"] is None
    assert waiting["emotion_summary"]["dominant"] == "happy"
    job = aws.client("transcribe").get_transcription_job(
        TranscriptionJobName=f"cheese-diary-{diary_id}"
    )["TranscriptionJob"]
    assert job["Media"]["MediaFileUri"] == f"s3://{get_settings().photos_bucket}/{fields['key']}"
    assert job["LanguageOptions"] == ["ko-KR", "en-US"]

    # Transcribe writes its output, then announces the job.
    output_key = f"derived/{user.id}/diary/{diary_id}/transcribe.json"
    aws.client("s3").put_object(
        Bucket=get_settings().photos_bucket,
        Key=output_key,
        Body=json.dumps(_output(diary_id, TEXT)).encode(),
    )
    _job_finished(diary_id, "COMPLETED")

    assert wait_until(lambda: _shown(user, diary_id)["status"] == "ready", timeout=60)
    ready = _shown(user, diary_id)
    assert ready["transcript"]["language"] == "en-US"
    assert ready["transcript"]["text"] == TEXT
    assert ready["transcript"]["words"][0] == {"word": "Today", "start": 0.0, "end": 0.35}
    assert len(ready["key_sentences"]) == 3 and "mountain" in ready["tags"]
    assert ready["timeline_status"] == "ready"
    found = user.call("GET", "/v1/diaries", query="q=noodles").json()["items"]
    assert [d["diary_id"] for d in found] == [diary_id]

    # EventBridge and SQS deliver at least once: the same event again changes nothing.
    aws.client("s3").put_object(
        Bucket=get_settings().photos_bucket,
        Key=output_key,
        Body=json.dumps(_output(diary_id, "Something else entirely.")).encode(),
    )
    detail = {
        "TranscriptionJobName": f"cheese-diary-{diary_id}",
        "TranscriptionJobStatus": "COMPLETED",
    }
    assert _deliver(detail) == {"batchItemFailures": []}
    assert _shown(user, diary_id)["transcript"]["text"] == TEXT


def test_failed_jobs_and_unreadable_outputs_fail_the_diary_with_a_reason(
    db: Any, transcribe_engine: None
) -> None:
    user = signup("diarist-transcribe-fails")
    consent(user, face_grouping=False, expression_analysis=True)
    reasons = {}
    for case in ("failed", "unreadable", "missing"):
        diary_id, _ = _upload_diary(user)
        _waiting_for_transcribe(user, diary_id)
        if case == "unreadable":
            aws.client("s3").put_object(
                Bucket=get_settings().photos_bucket,
                Key=f"derived/{user.id}/diary/{diary_id}/transcribe.json",
                Body=b'{"results": {"transcripts": "not a list"',
            )
        if case == "failed":
            _job_finished(diary_id, "FAILED", FailureReason="The media file has no audio.")
        else:
            _job_finished(diary_id, "COMPLETED")
        assert wait_until(lambda d=diary_id: _shown(user, d)["status"] == "failed", timeout=60)
        shown = _shown(user, diary_id)
        reasons[case] = shown["failure_reason"]
        # What the analysis found before stays: only the transcript is missing.
        assert shown["timeline_status"] == "ready" and shown["transcript"] is None
    assert reasons == {
        "failed": "transcribe-failed",
        "unreadable": "transcript-unreadable",
        "missing": "transcript-missing",
    }


def test_foreign_jobs_are_ignored_and_forged_sources_refused(db: Any) -> None:
    user = signup("diarist-transcribe-foreign")
    other = {"TranscriptionJobName": "payroll-call-17", "TranscriptionJobStatus": "COMPLETED"}
    assert _deliver(other) == {"batchItemFailures": []}
    gone = {
        "TranscriptionJobName": "cheese-diary-00000000-0000-4000-8000-000000000000",
        "TranscriptionJobStatus": "COMPLETED",
    }
    assert _deliver(gone) == {"batchItemFailures": []}
    # A Cheese-sourced event claiming to be Transcribe's is not AWS's: it fails to the DLQ.
    forged = _deliver(gone, source="cheese")
    assert len(forged["batchItemFailures"]) == 1
    malformed = _deliver({"TranscriptionJobName": 7})
    assert len(malformed["batchItemFailures"]) == 1
    assert user.call("GET", "/v1/diaries").json()["items"] == []
