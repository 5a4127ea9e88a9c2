"""The diarist's emotion over the diary: sampled, smoothed, cut into stretches, summed into shares.

The raw samples come from ``cheese_ml.video.emotion_timeline`` (the largest
face, 2 samples a second, 7 expressions). Single frames flicker between
neighbouring expressions, so each label's probability is smoothed with a
centred moving average before the dominant label of each sample is taken;
runs of the same dominant label are the stretches, and a stretch shorter
than ``MIN_STRETCH_S`` is merged into the one before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cheese_ml.analysis import Analyzer
from cheese_ml.video import TimelineSample, emotion_timeline

SAMPLES_PER_SECOND = 2.0
SMOOTHING_WINDOW = 3  # samples (1.5 s at 2 samples/s)
MIN_STRETCH_S = 1.0
LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


@dataclass(frozen=True)
class Point:
    t: float
    expression: dict[str, float]


@dataclass(frozen=True)
class Stretch:
    start: float
    end: float
    label: str


@dataclass(frozen=True)
class EmotionAnalysis:
    timeline: list[Point]
    dominant: str
    shares: dict[str, float]
    stretches: list[Stretch]


def smooth(samples: list[TimelineSample], window: int = SMOOTHING_WINDOW) -> list[Point]:
    """Samples with a face, each label's probability averaged over ``window`` neighbours."""
    seen = [s for s in samples if s.expression is not None]
    if not seen:
        return []
    matrix = np.array([[s.expression.get(label, 0.0) for label in LABELS] for s in seen])  # type: ignore[union-attr]
    half = window // 2
    smoothed = np.stack(
        [matrix[max(0, i - half) : i + half + 1].mean(axis=0) for i in range(len(seen))]
    )
    smoothed /= smoothed.sum(axis=1, keepdims=True)
    return [
        Point(
            s.t_seconds, {label: round(float(p), 4) for label, p in zip(LABELS, row, strict=True)}
        )
        for s, row in zip(seen, smoothed, strict=True)
    ]


def stretches(points: list[Point], end_time: float) -> list[Stretch]:
    runs: list[Stretch] = []
    for index, point in enumerate(points):
        label = max(point.expression, key=point.expression.__getitem__)
        until = points[index + 1].t if index + 1 < len(points) else max(end_time, point.t)
        if runs and runs[-1].label == label:
            runs[-1] = Stretch(runs[-1].start, until, label)
        else:
            runs.append(Stretch(point.t, until, label))
    merged: list[Stretch] = []
    for run in runs:
        if merged and (run.end - run.start < MIN_STRETCH_S or merged[-1].label == run.label):
            merged[-1] = Stretch(merged[-1].start, run.end, merged[-1].label)
        else:
            merged.append(run)
    return merged


def summarise(points: list[Point], end_time: float) -> EmotionAnalysis | None:
    """None when the diarist's face was never seen (no timeline to show)."""
    if not points:
        return None
    runs = stretches(points, end_time)
    total = sum(r.end - r.start for r in runs) or 1.0
    shares = dict.fromkeys(LABELS, 0.0)
    for run in runs:
        shares[run.label] += (run.end - run.start) / total
    shares = {label: round(share, 4) for label, share in shares.items()}
    dominant = max(shares, key=shares.__getitem__)
    return EmotionAnalysis(points, dominant, shares, runs)


def analyse_emotion(
    video_path: str | Path, duration_s: float, analyzer: Analyzer | None = None
) -> EmotionAnalysis | None:
    samples = emotion_timeline(video_path, fps=SAMPLES_PER_SECOND, analyzer=analyzer)
    return summarise(smooth(samples), duration_s)
