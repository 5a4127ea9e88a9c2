"""The Transcribe completion consumer: ``Transcribe Job State Change`` (default bus) → SQS → here.

In AWS (``speech_engine="transcribe"``) the analysis consumer records a
diary's timeline and thumbnail and leaves it waiting
(``results.TRANSCRIBING``) for its Amazon Transcribe job. AWS sends the job's
completion to the account's default bus; the ``diary-transcribed`` rule
forwards only ``aws.transcribe`` events to this consumer's queue.

- A job that is not a diary's, or whose diary is gone, ready or failed (a
  duplicate event, a diary deleted meanwhile), is ignored.
- A diary still being analysed (the event overtook the analysis' write) is
  retried: SQS delivers the event again.
- ``FAILED`` → the diary is ``failed`` with ``transcribe-failed`` (the rest
  of its analysis stays stored); an output missing or not in Transcribe's
  shape → ``transcript-missing`` / ``transcript-unreadable``.
- ``COMPLETED`` → the transcript, its key sentences and tags; the diary is
  ``ready``.
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from cheese_runtime import aws, events
from cheese_runtime.consumers import event_consumer
from cheese_runtime.observability import logger, metrics, tracer
from functions.diary import results, storage
from functions.diary.analysis import transcribe
from functions.diary.analysis.consumer import transcript_of
from functions.diary.analysis.ranking import summarise


class AnalysisStillRunning(RuntimeError):
    """The job finished before the analysis recorded the diary as waiting: try again later."""


def _fail(diary_id: str, reason: str) -> None:
    results.mark_failed(diary_id, reason)
    metrics.add_metric(name="DiariesFailed", unit=MetricUnit.Count, value=1)
    logger.warning("diary failed", extra={"diary_id": diary_id, "reason": reason})


@tracer.capture_method(capture_response=False)
def job_changed(change: events.TranscribeJobStateChange) -> None:
    diary_id = transcribe.diary_id_of(change.TranscriptionJobName)
    if diary_id is None:
        logger.info("ignoring a transcription job that is not a diary's")
        return
    logger.append_keys(diary_id=diary_id)
    diary = results.find_for_analysis(diary_id)
    if diary is None or diary.status in ("ready", "failed"):
        logger.info("transcript not awaited", extra={"status": diary and diary.status})
        return
    if diary.status != results.TRANSCRIBING:
        raise AnalysisStillRunning(diary_id)
    if change.TranscriptionJobStatus == "FAILED":
        # Transcribe's reason is about the media ("no audio", "unsupported"), never its words.
        logger.warning("transcription job failed", extra={"reason": change.FailureReason})
        _fail(diary_id, "transcribe-failed")
        return
    s3 = aws.client("s3")
    try:
        speech = transcribe.read_output(
            s3,
            bucket=storage.bucket(),
            derived_prefix=storage.derived_prefix(diary.user_id, diary_id),
        )
    except s3.exceptions.NoSuchKey:
        _fail(diary_id, "transcript-missing")
        return
    except (ValueError, KeyError, TypeError, IndexError):
        _fail(diary_id, "transcript-unreadable")
        return
    summary = summarise(speech.text)
    if results.record_transcript(
        diary_id, transcript_of(speech), summary.key_sentences, summary.tags
    ):
        metrics.add_metric(name="DiariesAnalysed", unit=MetricUnit.Count, value=1)
        logger.info("diary transcribed", extra={"language": speech.language})


handler = event_consumer({events.TranscribeJobStateChange: job_changed})
