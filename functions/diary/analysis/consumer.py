"""The diary analysis consumer: S3 ObjectCreated (diaries/) → SQS → this handler (ML image).

Per uploaded video: check the object against what the upload declared, claim
the diary (``results.start_analysis``), download it, analyse it
(:mod:`functions.diary.analysis.pipeline`; the emotion timeline only with
the diarist's ``expression_analysis`` consent) and write everything through
``results.record_analysis``.

Speech: with the ``local`` engine (``DiarySettings.speech_engine``) the
transcript is part of this analysis; with ``transcribe`` this consumer starts
the diary's Amazon Transcribe job, records the rest and leaves the diary
waiting for the job's completion event (``analysis/transcribed.py``).

At least once: a diary already ``ready`` (or waiting for its transcript) is
not analysed again, so duplicate S3 events give one analysis. A video that can never be analysed (not the
declared upload, undecodable) ends ``failed`` with its reason at once and
its message fails every delivery until SQS moves it to the DLQ; any other
error is retried, and on the last delivery the diary shows
``analysis-error`` before the message goes to the DLQ.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from aws_lambda_powertools.metrics import MetricUnit

from cheese_runtime import aws, consent, resources
from cheese_runtime import storage as files
from cheese_runtime.consumers import StoredObject, s3_object_consumer
from cheese_runtime.observability import logger, metrics, tracer
from functions.diary import results, storage
from functions.diary.analysis import thumbnail, transcribe
from functions.diary.analysis.pipeline import DiaryAnalysis, VideoUnreadable, analyse_video
from functions.diary.analysis.speech import LocalWhisperEngine, SpeechResult
from functions.diary.config import get_diary_settings

CONSUMER = "diary-analysis"
MAX_RECEIVES = next(
    n.max_receive_count for n in resources.BUCKET_NOTIFICATIONS if n.consumer == CONSUMER
)


class DiaryFailed(Exception):
    """The diary cannot be analysed; its status says why."""


def _fail(diary_id: str, reason: str) -> DiaryFailed:
    results.mark_failed(diary_id, reason)
    metrics.add_metric(name="DiariesFailed", unit=MetricUnit.Count, value=1)
    logger.warning("diary failed", extra={"diary_id": diary_id, "reason": reason})
    return DiaryFailed(reason)


def _store_thumbnail(user_id: str, diary_id: str, jpeg: bytes | None) -> str | None:
    """Put the thumbnail under the diary's derived prefix (the same key on a re-analysis)."""
    if jpeg is None:
        return None
    key = f"{storage.derived_prefix(user_id, diary_id)}thumbnail.jpg"
    aws.client("s3").put_object(
        Bucket=storage.bucket(), Key=key, Body=jpeg, ContentType=thumbnail.CONTENT_TYPE
    )
    return key


def transcript_of(speech: SpeechResult) -> results.Transcript:
    """What an engine heard, as the diary stores it (a word never ends before it starts)."""
    return results.Transcript(
        language=speech.language,
        text=speech.text,
        words=[
            results.TranscriptWord(word=w.word, start=w.start, end=max(w.start, w.end))
            for w in speech.words
        ],
    )


def _record(
    user_id: str, diary_id: str, analysis: DiaryAnalysis, *, transcript_pending: bool
) -> None:
    emotion = analysis.emotion
    results.record_analysis(
        diary_id,
        duration_s=analysis.duration_s,
        transcript=None if analysis.speech is None else transcript_of(analysis.speech),
        key_sentences=analysis.summary.key_sentences,
        tags=analysis.summary.tags,
        timeline=None
        if emotion is None
        else [results.TimelinePoint(t=p.t, expression=p.expression) for p in emotion.timeline],
        emotion_summary=None
        if emotion is None
        else results.EmotionSummary(
            dominant=emotion.dominant,
            shares=emotion.shares,
            stretches=[
                results.EmotionStretch(start=s.start, end=s.end, label=s.label)
                for s in emotion.stretches
            ],
        ),
        emotion_skipped=analysis.emotion_skipped,
        thumbnail_key=_store_thumbnail(user_id, diary_id, analysis.thumbnail),
        transcript_pending=transcript_pending,
    )


@tracer.capture_method(capture_response=False)
def analyse_diary(user_id: str, diary_id: str) -> None:
    if results.already_analysed(diary_id):
        logger.info("diary already analysed", extra={"diary_id": diary_id})
        return
    diary = results.find_for_analysis(diary_id)
    if diary is None or diary.user_id != user_id:
        logger.info("object without diary ignored", extra={"diary_id": diary_id})
        return
    bucket = storage.bucket()
    # Checked against what the upload request declared (its exact size and type) before
    # the diary is claimed, so that a rejected upload shows `failed` through every
    # redelivery instead of flickering back to `processing`.
    spec = storage.upload_spec(diary.object_key, diary.content_type, diary.size_bytes)
    try:
        files.verify_arrival(bucket, spec)
    except files.UploadRejected as rejected:
        if rejected.reason == "missing":
            raise  # transient until the last delivery (the object may still be on its way)
        raise _fail(diary_id, f"upload-{rejected.reason}") from rejected
    claimed = results.start_analysis(diary_id)
    if claimed is None:
        logger.info("diary deleted before its analysis", extra={"diary_id": diary_id})
        return
    with_emotion = consent.has_consent(user_id, consent.EXPRESSION_ANALYSIS)
    by_transcribe = get_diary_settings().speech_engine == "transcribe"
    with tempfile.TemporaryDirectory(prefix="cheese-diary-") as scratch:
        video = Path(scratch) / "video"
        aws.client("s3").download_file(bucket, claimed.object_key, str(video))
        try:
            analysis = analyse_video(
                video,
                emotion_consent=with_emotion,
                engine=None if by_transcribe else LocalWhisperEngine(),
            )
        except VideoUnreadable as error:
            raise _fail(diary_id, error.reason) from error
    if by_transcribe:
        # Started before the diary is recorded as waiting: if this fails, the message is
        # retried with the diary still "processing", never waiting for a job that is not there.
        transcribe.start_job(
            aws.client("transcribe"),
            diary_id=diary_id,
            bucket=bucket,
            object_key=claimed.object_key,
            content_type=claimed.content_type,
            derived_prefix=storage.derived_prefix(user_id, diary_id),
        )
    _record(user_id, diary_id, analysis, transcript_pending=by_transcribe)
    metrics.add_metric(name="DiariesAnalysed", unit=MetricUnit.Count, value=1)
    logger.info(
        "diary analysed",
        extra={"diary_id": diary_id, "emotion_skipped": analysis.emotion_skipped},
    )


def object_arrived(stored: StoredObject) -> None:
    parsed = storage.parse_video_key(stored.key)
    if parsed is None:
        logger.warning("ignoring object that is not a diary video", extra={"key": stored.key})
        return
    user_id, diary_id = parsed
    logger.append_keys(diary_id=diary_id)
    try:
        analyse_diary(user_id, diary_id)
    except DiaryFailed:
        raise
    except Exception:
        if stored.receive_count >= MAX_RECEIVES:
            _fail(diary_id, "analysis-error")
        raise


handler = s3_object_consumer(object_arrived)
