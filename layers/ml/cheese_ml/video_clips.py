"""Test clips composed from the fixture videos and photos, with where each face is.

    truth = side_by_side(fixture_path("franck.mp4"), fixture_path("single_face.mp4"), out)
    truth = moving_faces(fixture_path("cap13_edit2.mp4"), [MovingFace(...)], out)

Two people in one clip, one to keep and one to hide, from registry clips of
one person each; a still face photo pasted and moved fast across a video (the
motion that makes per-frame detectors flicker). Written near-losslessly
(H.264 CRF 10) with a 440 Hz AAC tone, so "audio kept" can be checked.
Used by tests/ml and bench/video_bench.py; nothing here runs in production.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from cheese_ml.video_io import read_frames

Xyxy = tuple[float, float, float, float]


@dataclass(frozen=True)
class ClipTruth:
    """Where each labelled face can be on each frame (a region that holds it), bottom to top."""

    frames: int
    fps: int
    size: tuple[int, int]  # width, height
    regions: Callable[[int], dict[str, Xyxy]]


@dataclass(frozen=True)
class MovingFace:
    label: str
    photo: np.ndarray  # RGB crop of a face (and some hair/background)
    start: tuple[float, float]  # top-left on frame 0
    velocity: tuple[float, float]  # pixels per frame; bounces off the frame edges


def write_clip(path: str | Path, frames: Iterable[np.ndarray], fps: int, tone: bool = True) -> int:
    """Encode RGB frames as H.264 (CRF 10) MP4, with a 440 Hz AAC tone as long as the video."""
    count = 0
    with av.open(str(path), "w", format="mp4") as output:
        video = output.add_stream("libx264", rate=fps)
        video.pix_fmt = "yuv420p"
        video.options = {"crf": "10", "preset": "veryfast"}
        audio = output.add_stream("aac", rate=44100) if tone else None
        if audio is not None:
            audio.layout = "mono"
        for rgb in frames:
            if count == 0:
                video.width, video.height = rgb.shape[1], rgb.shape[0]
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame.pts = count
            for packet in video.encode(frame):
                output.mux(packet)
            count += 1
        for packet in video.encode(None):
            output.mux(packet)
        if audio is not None:
            samples = int(44100 * count / fps)
            t = np.arange(samples) / 44100
            wave = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            for start in range(0, samples, 1024):
                chunk = wave[start : start + 1024]
                tone_frame = av.AudioFrame.from_ndarray(chunk[None], format="fltp", layout="mono")
                tone_frame.sample_rate, tone_frame.pts = 44100, start
                tone_frame.time_base = Fraction(1, 44100)
                for packet in audio.encode(tone_frame):
                    output.mux(packet)
            for packet in audio.encode(None):
                output.mux(packet)
    return count


def _looped(path: Path, count: int) -> Iterator[np.ndarray]:
    """`count` frames of the clip, played forwards then backwards as often as needed."""
    frames = []
    for frame in read_frames(path):
        frames.append(frame.rgb)
        if len(frames) == count:
            break
    cycle = frames + frames[-2:0:-1]
    for index in range(count):
        yield cycle[index % len(cycle)]


def _fit(rgb: np.ndarray, width: int, height: int) -> tuple[np.ndarray, int, int]:
    """The image scaled to fit (width, height), and its offset when centred there."""
    scale = min(width / rgb.shape[1], height / rgb.shape[0])
    fitted = cv2.resize(
        rgb,
        (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale)),
        interpolation=cv2.INTER_AREA,
    )
    return fitted, (width - fitted.shape[1]) // 2, (height - fitted.shape[0]) // 2


def side_by_side(
    left: Path,
    right: Path,
    out: Path,
    size: tuple[int, int] = (960, 360),
    frames: int = 96,
    fps: int = 24,
) -> ClipTruth:
    """Clip `left` in the left half, clip `right` in the right half (labels "left", "right")."""
    width, height = size
    half = width // 2

    def composed() -> Iterator[np.ndarray]:
        for left_rgb, right_rgb in zip(_looped(left, frames), _looped(right, frames), strict=True):
            canvas = np.full((height, width, 3), 40, dtype=np.uint8)
            for rgb, x0 in ((left_rgb, 0), (right_rgb, half)):
                fitted, dx, dy = _fit(rgb, half, height)
                canvas[dy : dy + fitted.shape[0], x0 + dx : x0 + dx + fitted.shape[1]] = fitted
            yield canvas

    write_clip(out, composed(), fps)
    regions = {"left": (0.0, 0.0, float(half), float(height)), "right": (half, 0.0, width, height)}
    return ClipTruth(frames, fps, size, lambda _frame: dict(regions))


def _bounce(start: float, velocity: float, frame: int, span: float) -> float:
    """Position after `frame` frames moving at `velocity`, reflected off 0 and `span`."""
    if span <= 0:
        return 0.0
    position = (start + velocity * frame) % (2 * span)
    return position if position <= span else 2 * span - position


def moving_faces(
    background: Path,
    faces: list[MovingFace],
    out: Path,
    size: tuple[int, int] = (800, 600),
    frames: int = 96,
    fps: int = 24,
) -> ClipTruth:
    """The background clip scaled to `size` ("background" = its whole frame) with the
    face photos pasted on top, each moving at its velocity and bouncing off the edges."""
    width, height = size

    def box(face: MovingFace, frame: int) -> Xyxy:
        h, w = face.photo.shape[:2]
        x = _bounce(face.start[0], face.velocity[0], frame, width - w)
        y = _bounce(face.start[1], face.velocity[1], frame, height - h)
        return (x, y, x + w, y + h)

    def composed() -> Iterator[np.ndarray]:
        for index, rgb in enumerate(_looped(background, frames)):
            canvas = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_LINEAR)
            for face in faces:
                x1, y1, _, _ = (round(v) for v in box(face, index))
                h, w = face.photo.shape[:2]
                canvas[y1 : y1 + h, x1 : x1 + w] = face.photo
            yield canvas

    write_clip(out, composed(), fps)

    def regions(frame: int) -> dict[str, Xyxy]:
        found = {"background": (0.0, 0.0, float(width), float(height))}
        found.update({face.label: box(face, frame) for face in faces})
        return found

    return ClipTruth(frames, fps, size, regions)
