"""The Amazon Transcribe engine against botocore's Stubber, with real request and output shapes."""

from __future__ import annotations

import io
import json

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from pydantic import ValidationError

from cheese_runtime import events
from functions.diary.analysis import transcribe

DIARY_ID = "7f1d3a52-2c1e-4c9a-9a8e-5d0a1f6b2c11"

# The shape Transcribe writes for a job with IdentifyLanguage (trimmed to four items).
OUTPUT = {
    "jobName": f"cheese-diary-{DIARY_ID}",
    "accountId": "123456789012",
    "status": "COMPLETED",
    "results": {
        "language_code": "ko-KR",
        "language_identification": [
            {"score": "0.9921", "code": "ko-KR"},
            {"score": "0.0079", "code": "en-US"},
        ],
        "transcripts": [{"transcript": "오늘은 공원에 갔다."}],
        "items": [
            {
                "type": "pronunciation",
                "alternatives": [{"confidence": "0.998", "content": "오늘은"}],
                "start_time": "0.04",
                "end_time": "0.61",
            },
            {
                "type": "pronunciation",
                "alternatives": [{"confidence": "0.987", "content": "공원에"}],
                "start_time": "0.61",
                "end_time": "1.12",
            },
            {
                "type": "pronunciation",
                "alternatives": [{"confidence": "0.991", "content": "갔다"}],
                "start_time": "1.12",
                "end_time": "1.58",
            },
            {"type": "punctuation", "alternatives": [{"confidence": "0.0", "content": "."}]},
        ],
    },
}


@pytest.fixture
def client() -> object:
    return boto3.client(
        "transcribe",
        region_name="ap-northeast-2",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def test_job_transcribes_the_s3_object_identifying_korean_or_english(client: object) -> None:
    stubber = Stubber(client)
    stubber.add_response(
        "start_transcription_job",
        {"TranscriptionJob": {"TranscriptionJobName": f"cheese-diary-{DIARY_ID}"}},
        {
            "TranscriptionJobName": f"cheese-diary-{DIARY_ID}",
            "Media": {"MediaFileUri": f"s3://cheese-photos/diaries/u/{DIARY_ID}/video"},
            "MediaFormat": "mp4",
            "IdentifyLanguage": True,
            "LanguageOptions": ["ko-KR", "en-US"],
            "OutputBucketName": "cheese-photos",
            "OutputKey": f"derived/u/diary/{DIARY_ID}/transcribe.json",
        },
    )
    with stubber:
        name = transcribe.start_job(
            client,
            diary_id=DIARY_ID,
            bucket="cheese-photos",
            object_key=f"diaries/u/{DIARY_ID}/video",
            content_type="video/mp4",
            derived_prefix=f"derived/u/diary/{DIARY_ID}/",
        )
    stubber.assert_no_pending_responses()
    assert transcribe.diary_id_of(name) == DIARY_ID


def test_a_redelivered_upload_starts_no_second_job(client: object) -> None:
    stubber = Stubber(client)
    stubber.add_client_error(
        "start_transcription_job", service_error_code="ConflictException", http_status_code=400
    )
    stubber.add_response(
        "get_transcription_job",
        {"TranscriptionJob": {"TranscriptionJobStatus": "IN_PROGRESS"}},
        {"TranscriptionJobName": f"cheese-diary-{DIARY_ID}"},
    )
    with stubber:
        name = transcribe.start_job(
            client,
            diary_id=DIARY_ID,
            bucket="b",
            object_key="k.mp4",
            content_type="video/mp4",
            derived_prefix="derived/u/diary/x/",
        )
    stubber.assert_no_pending_responses()
    assert name == f"cheese-diary-{DIARY_ID}"


def test_a_reanalysis_replaces_the_finished_job_of_the_earlier_analysis(client: object) -> None:
    """A job name is unique: the diary's earlier, finished job is deleted and started again
    (its completion event has gone, and the video may be another upload)."""
    name = f"cheese-diary-{DIARY_ID}"
    stubber = Stubber(client)
    stubber.add_client_error(
        "start_transcription_job", service_error_code="ConflictException", http_status_code=400
    )
    stubber.add_response(
        "get_transcription_job",
        {"TranscriptionJob": {"TranscriptionJobStatus": "COMPLETED"}},
        {"TranscriptionJobName": name},
    )
    stubber.add_response("delete_transcription_job", {}, {"TranscriptionJobName": name})
    stubber.add_response(
        "start_transcription_job", {"TranscriptionJob": {"TranscriptionJobName": name}}
    )
    with stubber:
        transcribe.start_job(
            client,
            diary_id=DIARY_ID,
            bucket="b",
            object_key="k.mp4",
            content_type="video/webm",
            derived_prefix="derived/u/diary/x/",
        )
    stubber.assert_no_pending_responses()


def test_completion_event_validates_against_its_registered_model() -> None:
    model = events.model_of("Transcribe Job State Change")
    assert model is events.TranscribeJobStateChange and model.source == "aws.transcribe"
    change = model.model_validate(
        {
            "TranscriptionJobName": f"cheese-diary-{DIARY_ID}",
            "TranscriptionJobStatus": "FAILED",
            "FailureReason": "The media file has no audio.",
            "ExtraFieldAwsMayAdd": 1,
        }
    )
    assert transcribe.diary_id_of(change.TranscriptionJobName) == DIARY_ID
    assert transcribe.diary_id_of("someone-elses-job") is None
    assert transcribe.diary_id_of("cheese-diary-") is None
    with pytest.raises(ValidationError):  # only the two final states are events
        model.model_validate({"TranscriptionJobName": "x", "TranscriptionJobStatus": "QUEUED"})


def test_cheese_never_publishes_an_aws_event() -> None:
    with pytest.raises(TypeError, match=r"aws\.transcribe"):
        events.publish(
            events.TranscribeJobStateChange(
                TranscriptionJobName="cheese-diary-x", TranscriptionJobStatus="COMPLETED"
            )
        )


def test_output_json_gives_the_transcript() -> None:
    s3 = boto3.client(
        "s3", region_name="ap-northeast-2", aws_access_key_id="t", aws_secret_access_key="t"
    )
    body = json.dumps(OUTPUT).encode()
    stubber = Stubber(s3)
    stubber.add_response(
        "get_object",
        {"Body": StreamingBody(io.BytesIO(body), len(body))},
        {"Bucket": "cheese-photos", "Key": f"derived/u/diary/{DIARY_ID}/transcribe.json"},
    )
    with stubber:
        result = transcribe.read_output(
            s3, bucket="cheese-photos", derived_prefix=f"derived/u/diary/{DIARY_ID}/"
        )
    assert result.language == "ko-KR"
    assert result.text == "오늘은 공원에 갔다."
    assert [(w.word, w.start, w.end) for w in result.words] == [
        ("오늘은", 0.04, 0.61),
        ("공원에", 0.61, 1.12),
        ("갔다", 1.12, 1.58),
    ]
