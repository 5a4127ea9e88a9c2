"""Speech to text behind one interface, with the offline engine (faster-whisper) here.

The engines turn a diary's sound into a :class:`SpeechResult`: the language
as BCP 47, the text and its timed words. The local engine runs whisper-base
(CTranslate2, int8) from the models cache, never from a hub: HF_HUB_OFFLINE
is set before faster-whisper is imported. The AWS engine (Amazon Transcribe)
is asynchronous and lives in :mod:`functions.diary.analysis.transcribe`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from cheese_ml.speech_models import speech_model_dir
from functions.diary.analysis.audio import SAMPLE_RATE

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

# Whisper's ISO 639-1 codes → the BCP 47 tags the app and Transcribe use.
LANGUAGE_TAGS = {"ko": "ko-KR", "en": "en-US"}
SPEECH_THREADS_ENV = "CHEESE_SPEECH_THREADS"


@dataclass(frozen=True)
class Word:
    word: str
    start: float
    end: float


@dataclass(frozen=True)
class SpeechResult:
    language: str  # BCP 47, e.g. "ko-KR"
    text: str
    words: list[Word] = field(default_factory=list)


class SpeechEngine(Protocol):
    def transcribe(self, samples: np.ndarray) -> SpeechResult:
        """What was said in 16 kHz mono float32 samples."""
        ...


def language_tag(code: str) -> str:
    return LANGUAGE_TAGS.get(code, code)


@cache
def _whisper(model_dir: Path, threads: int) -> WhisperModel:
    os.environ["HF_HUB_OFFLINE"] = "1"  # the weights are local; never reach a hub
    from faster_whisper import WhisperModel

    return WhisperModel(
        str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads, num_workers=1
    )


class LocalWhisperEngine:
    """whisper-base on the CPU; the language is the likelier of Korean and English.

    Diaries are spoken in Korean or English (the languages Transcribe is asked to
    identify among too): open language detection on a short or accented clip
    sometimes names a third language and then transcribes in it.
    """

    def __init__(self, model_dir: Path | None = None, threads: int | None = None) -> None:
        self.model_dir = model_dir or speech_model_dir("whisper_base")
        self.threads = threads or int(os.environ.get(SPEECH_THREADS_ENV, "1"))

    def transcribe(self, samples: np.ndarray) -> SpeechResult:
        if samples.size < SAMPLE_RATE // 10:  # under 0.1 s: nothing to hear
            return SpeechResult(language="und", text="", words=[])
        model = _whisper(self.model_dir, self.threads)
        _, _, probabilities = model.detect_language(samples)
        language = max(
            (p for p in probabilities if p[0] in LANGUAGE_TAGS),
            key=lambda p: p[1],
            default=("en", 0),
        )[0]
        segments, info = model.transcribe(
            samples,
            language=language,
            beam_size=1,
            word_timestamps=True,
            vad_filter=False,
            condition_on_previous_text=False,
        )
        words: list[Word] = []
        texts: list[str] = []
        for segment in segments:
            texts.append(segment.text.strip())
            words.extend(
                Word(w.word.strip(), round(w.start, 2), round(w.end, 2))
                for w in segment.words or []
                if w.word.strip()
            )
        return SpeechResult(
            language=language_tag(info.language), text=" ".join(t for t in texts if t), words=words
        )
