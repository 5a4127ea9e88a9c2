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

import av

from cheese_ml.analysis import Analyzer
from functions.diary.analysis.audio import AudioError, extract_audio
from functions.diary.analysis.ranking import TextSummary, summarise
from functions.diary.analysis.speech import SpeechEngine, SpeechResult
from functions.diary.analysis.timeline import EmotionAnalysis, analyse_emotion


class VideoUnreadable(ValueError):
    """The file is not a video we can decode; the diary fails with ``video-unreadable``."""


@dataclass(frozen=True)
class DiaryAnalysis:
    duration_s: float
    emotion: EmotionAnalysis | None
    emotion_skipped: str | None  # "no-consent" | "no-face" | None
    speech: SpeechResult | None  # None for a video without sound
    summary: TextSummary


def video_duration(path: str | Path) -> float:
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoUnreadable(f"{path} has no video stream")
            if container.duration is not None:
                return round(container.duration / av.time_base, 3)
            stream = container.streams.video[0]
            if stream.duration is None or stream.time_base is None:
                raise VideoUnreadable(f"{path} has no duration")
            return round(float(stream.duration * stream.time_base), 3)
    except av.error.FFmpegError as error:
        raise VideoUnreadable(f"cannot open {path}: {error}") from error


def analyse_video(
    path: str | Path,
    *,
    emotion_consent: bool,
    engine: SpeechEngine | None,
    analyzer: Analyzer | None = None,
) -> DiaryAnalysis:
    """Analyse a diary video; ``engine=None`` leaves speech to an asynchronous engine."""
    duration = video_duration(path)
    emotion: EmotionAnalysis | None = None
    skipped: str | None = "no-consent"
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
    return DiaryAnalysis(duration, emotion, skipped, speech, summary)
