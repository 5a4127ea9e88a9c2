"""The AWS speech engine: Amazon Transcribe on the diary's S3 object, finished by an event.

:func:`start_job` asks Transcribe to transcribe the video in place, identifying
the language among Korean and English, and to write its output JSON to the
diary's derived prefix. Nothing waits: Transcribe's completion arrives as the
EventBridge ``Transcribe Job State Change`` event
(``events.TranscribeJobStateChange``) through SQS to
:mod:`functions.diary.analysis.transcribed`, and :func:`read_output` turns the
output JSON into the same :class:`SpeechResult` the local engine gives. The
job name is derived from the diary id, so a duplicate upload event starts no
second job.
"""

from __future__ import annotations

import json
from typing import Any

from cheese_runtime import resources
from functions.diary.analysis.speech import SpeechResult, Word

LANGUAGE_OPTIONS = ("ko-KR", "en-US")
RUNNING = ("QUEUED", "IN_PROGRESS")
MEDIA_FORMATS = {"video/mp4": "mp4", "video/webm": "webm", "video/quicktime": "mp4"}


def job_name(diary_id: str) -> str:
    return f"{resources.TRANSCRIBE_JOB_PREFIX}{diary_id}"


def diary_id_of(job: str) -> str | None:
    """The diary a job belongs to; None for the account's other jobs."""
    prefix = resources.TRANSCRIBE_JOB_PREFIX
    return job[len(prefix) :] if job.startswith(prefix) and len(job) > len(prefix) else None


def output_key(derived_prefix: str) -> str:
    """Transcribe's output JSON beside the diary's other derived objects (never a trigger)."""
    return f"{derived_prefix}transcribe.json"


def start_job(
    client: Any,
    *,
    diary_id: str,
    bucket: str,
    object_key: str,
    content_type: str,
    derived_prefix: str,
) -> str:
    """Start the diary's transcription job (or find it running); return its name."""
    name = job_name(diary_id)
    request = {
        "TranscriptionJobName": name,
        "Media": {"MediaFileUri": f"s3://{bucket}/{object_key}"},
        "MediaFormat": MEDIA_FORMATS.get(content_type, "mp4"),
        "IdentifyLanguage": True,
        "LanguageOptions": list(LANGUAGE_OPTIONS),
        "OutputBucketName": bucket,
        "OutputKey": output_key(derived_prefix),
    }
    try:
        client.start_transcription_job(**request)
    except client.exceptions.ConflictException:
        job = client.get_transcription_job(TranscriptionJobName=name)["TranscriptionJob"]
        if job["TranscriptionJobStatus"] in RUNNING:
            return name  # a redelivered upload event: the running job's completion will come
        # A finished job of this diary's earlier analysis: its event has gone, start afresh.
        client.delete_transcription_job(TranscriptionJobName=name)
        client.start_transcription_job(**request)
    return name


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
