"""Expression timeline of the main face of a video (video diaries, focus scoring)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2

from cheese_ml.analysis import Analyzer, default_analyzer


class VideoError(ValueError):
    """The file cannot be opened or read as a video."""


@dataclass(frozen=True)
class TimelineSample:
    t_seconds: float
    expression: dict[str, float] | None  # None when no face is visible in that frame


def emotion_timeline(
    video_path: str | Path, fps: float = 2.0, analyzer: Analyzer | None = None
) -> list[TimelineSample]:
    """Sample the video at `fps` and classify the expression of its largest face.

    Frames are read sequentially (grab() skips the decode-to-RGB of frames
    that are not sampled; seeking is unreliable on variable-frame-rate phone
    videos), and a frame is taken at each multiple of 1/fps seconds. Identity
    embeddings are never computed here.
    """
    if fps <= 0:
        raise ValueError("fps must be positive")
    analyzer = analyzer or default_analyzer()
    capture = cv2.VideoCapture(str(video_path))
    if not capture.isOpened():
        raise VideoError(f"cannot open {video_path} as a video")
    try:
        native_fps = capture.get(cv2.CAP_PROP_FPS)
        if not native_fps or native_fps <= 0:
            raise VideoError(f"{video_path} reports no frame rate")
        samples: list[TimelineSample] = []
        frame_index = 0
        next_sample_time = 0.0
        while capture.grab():
            frame_time = frame_index / native_fps
            frame_index += 1
            if frame_time + 1e-9 < next_sample_time:
                continue
            ok, bgr = capture.retrieve()
            if not ok:
                break
            faces = analyzer.analyze(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), embeddings=False)
            main = max(faces, key=lambda face: face.box.w * face.box.h, default=None)
            samples.append(TimelineSample(round(frame_time, 3), main.expression if main else None))
            next_sample_time = (math.floor(frame_time * fps + 1e-9) + 1) / fps
        if frame_index == 0:
            raise VideoError(f"{video_path} has no readable frames")
        return samples
    finally:
        capture.release()
