"""One diary video analysed end to end: emotion timeline, speech, key sentences and tags.

The consumer (``functions.diary.analysis.consumer``) downloads the video and
calls :func:`analyse_video`; the bench calls it on a file. The emotion
timeline needs the diarist's ``expression_analysis`` consent: without it the
video's frames are never classified and the result says so
(``emotion_skipped="no-consent"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cheese_ml.analysis import Analyzer
from cheese_ml.video_io import VideoInputError, probe
from functions.diary.analysis.audio import AudioError, extract_audio
from functions.diary.analysis.ranking import TextSummary, summarise
from functions.diary.analysis.speech import SpeechEngine, SpeechResult
from functions.diary.analysis.thumbnail import thumbnail_jpeg
from functions.diary.analysis.timeline import EmotionAnalysis, analyse_emotion
from functions.diary.results import EmotionSkipped


class VideoUnreadable(ValueError):
    """The file is not a video we can analyse; ``reason`` is the diary's failure reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class DiaryAnalysis:
    duration_s: float
    emotion: EmotionAnalysis | None
    emotion_skipped: EmotionSkipped | None  # "no-consent" | "no-face" | None
    speech: SpeechResult | None  # None for a video without sound
    summary: TextSummary
    thumbnail: bytes | None = None  # JPEG (functions.diary.analysis.thumbnail)


def analyse_video(
    path: str | Path,
    *,
    emotion_consent: bool,
    engine: SpeechEngine | None,
    analyzer: Analyzer | None = None,
) -> DiaryAnalysis:
    """Analyse a diary video; ``engine=None`` leaves speech to an asynchronous engine."""
    try:
        # The video layer's checks: size, frame rate, codec, a truncated upload.
        duration = round(probe(path).duration, 3)
    except VideoInputError as error:
        raise VideoUnreadable(f"video-{error.code}", str(error)) from error
    emotion: EmotionAnalysis | None = None
    skipped: EmotionSkipped | None = "no-consent"
    if emotion_consent:
        emotion = analyse_emotion(path, duration, analyzer=analyzer)
        skipped = None if emotion is not None else "no-face"
    speech: SpeechResult | None = None
    if engine is not None:
        try:
            speech = engine.transcribe(extract_audio(path))
        except AudioError:
            speech = None  # a silent video: no transcript, the rest stands
    summary = summarise(speech.text) if speech is not None else TextSummary([], [])
    thumbnail = thumbnail_jpeg(path, duration)
    return DiaryAnalysis(duration, emotion, skipped, speech, summary, thumbnail)
