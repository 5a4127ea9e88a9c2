"""emotion_timeline() on real videos."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from cheese_ml.analysis import EXPRESSION_LABELS, Analyzer
from cheese_ml.video import VideoError, emotion_timeline


def test_timeline_of_a_smiling_man(photo_paths: dict[str, Path], analyzer: Analyzer) -> None:
    # single_face.mp4: 72 frames at 30 fps (2.4 s) of one man breaking into a smile.
    timeline = emotion_timeline(photo_paths["single_face.mp4"], fps=2.0, analyzer=analyzer)
    assert [sample.t_seconds for sample in timeline] == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert all(sample.expression is not None for sample in timeline)
    assert all(tuple(sample.expression) == EXPRESSION_LABELS for sample in timeline)
    happy = [sample.expression["happy"] for sample in timeline]
    assert happy[-1] > 0.8 and happy[0] < happy[-1]


def test_sampling_rate(photo_paths: dict[str, Path], analyzer: Analyzer) -> None:
    timeline = emotion_timeline(photo_paths["single_face.mp4"], fps=5.0, analyzer=analyzer)
    assert len(timeline) == 12 and timeline[1].t_seconds == 0.2


def test_no_face_gives_empty_samples(photo_paths: dict[str, Path], analyzer: Analyzer) -> None:
    timeline = emotion_timeline(photo_paths["no_face.mp4"], fps=1.0, analyzer=analyzer)
    assert len(timeline) >= 3 and all(sample.expression is None for sample in timeline)
    gaps = [b.t_seconds - a.t_seconds for a, b in itertools.pairwise(timeline)]
    assert all(
        1.0 <= gap < 1.0 + 1 / 23 for gap in gaps
    )  # 23.67 fps: first frame at or after each second


def test_not_a_video(tmp_path: Path, analyzer: Analyzer) -> None:
    bogus = tmp_path / "diary.mp4"
    bogus.write_bytes(b"not a video at all" * 100)
    with pytest.raises(VideoError):
        emotion_timeline(bogus, analyzer=analyzer)
    with pytest.raises(ValueError):
        emotion_timeline(bogus, fps=0, analyzer=analyzer)
