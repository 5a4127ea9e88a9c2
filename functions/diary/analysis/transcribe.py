"""The AWS speech engine: Amazon Transcribe on the diary's S3 object, finished by an event.

:func:`start_job` asks Transcribe to transcribe the video in place, identifying
the language among Korean and English, and to write its output JSON to the
diary bucket. Nothing waits: Transcribe's completion arrives as the
EventBridge ``Transcribe Job State Change`` event (source ``aws.transcribe``)
through SQS, and :func:`read_output` turns the output JSON into the same
:class:`SpeechResult` the local engine gives. The job name is derived from
the diary id, so a duplicate upload event starts no second job.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

from functions.diary.analysis.speech import SpeechResult, Word

LANGUAGE_OPTIONS = ("ko-KR", "en-US")
JOB_PREFIX = "cheese-diary-"
EVENT_SOURCE = "aws.transcribe"
EVENT_DETAIL_TYPE = "Transcribe Job State Change"


def job_name(diary_id: str) -> str:
    return f"{JOB_PREFIX}{diary_id}"


def diary_id_of(job: str) -> str | None:
    """The diary a job belongs to; None for jobs that are not ours."""
    return job[len(JOB_PREFIX) :] if job.startswith(JOB_PREFIX) else None


def output_key(derived_prefix: str) -> str:
    """Transcribe's output JSON beside the diary's other derived objects (never a trigger)."""
    return f"{derived_prefix}transcribe.json"


MEDIA_FORMATS = {"video/mp4": "mp4", "video/webm": "webm", "video/quicktime": "mp4"}


def start_job(
    client: Any,
    *,
    diary_id: str,
    bucket: str,
    object_key: str,
    content_type: str,
    derived_prefix: str,
) -> str:
    """Start (or find already started) the diary's transcription job; return its name."""
    name = job_name(diary_id)
    # A redelivered upload event finds the job already there: its completion event will come.
    with contextlib.suppress(client.exceptions.ConflictException):
        client.start_transcription_job(
            TranscriptionJobName=name,
            Media={"MediaFileUri": f"s3://{bucket}/{object_key}"},
            MediaFormat=MEDIA_FORMATS.get(content_type, "mp4"),
            IdentifyLanguage=True,
            LanguageOptions=list(LANGUAGE_OPTIONS),
            OutputBucketName=bucket,
            OutputKey=output_key(derived_prefix),
        )
    return name


@dataclass(frozen=True)
class JobStateChange:
    job_name: str
    status: str  # COMPLETED | FAILED
    failure_reason: str | None


def parse_state_change(event: dict[str, Any]) -> JobStateChange | None:
    """The job and status of an EventBridge Transcribe event; None for any other event."""
    if event.get("source") != EVENT_SOURCE or event.get("detail-type") != EVENT_DETAIL_TYPE:
        return None
    detail = event.get("detail") or {}
    name, status = detail.get("TranscriptionJobName"), detail.get("TranscriptionJobStatus")
    if not isinstance(name, str) or not isinstance(status, str):
        return None
    return JobStateChange(name, status, detail.get("FailureReason"))


def parse_output(document: dict[str, Any]) -> SpeechResult:
    """Transcribe's output JSON → language, text and timed words (punctuation joins words)."""
    results = document["results"]
    text = " ".join(t["transcript"] for t in results.get("transcripts", [])).strip()
    words: list[Word] = []
    for item in results.get("items", []):
        if item.get("type") != "pronunciation":
            continue
        words.append(
            Word(
                item["alternatives"][0]["content"],
                float(item["start_time"]),
                float(item["end_time"]),
            )
        )
    language = results.get("language_code") or document.get("language_code") or "und"
    return SpeechResult(language=language, text=text, words=words)


def read_output(s3: Any, *, bucket: str, derived_prefix: str) -> SpeechResult:
    body = s3.get_object(Bucket=bucket, Key=output_key(derived_prefix))["Body"].read()
    return parse_output(json.loads(body))
