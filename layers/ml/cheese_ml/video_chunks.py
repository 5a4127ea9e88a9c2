"""A long video anonymised in chunks on several workers, with the same result as in one go.

    spans = split(frame_pts(path), fps, chunk_seconds)          # where each chunk starts and ends
    found = detect_chunk(path, spans[k], people)                # in parallel: the costly part
    plan = plan_chunks([found_0, found_1, ...], fps, size)      # once, in order: tracks + plans
    encode_chunk(path, spans[k], plan.frames[k], out_k, style)  # in parallel: paint + H.264
    join_segments(path, [out_0, out_1, ...], result)            # video packets + the audio once

Detection and identity votes (CenterFace, the embedder: nearly all the time per
frame) need no track, so every chunk does them alone. Tracking is cheap but
strictly ordered, so the one worker that sees the last chunk detected replays
every chunk's boxes through one tracker and one `EngineState`: a face is the
same track on both sides of a chunk edge, its identity is voted over the whole
video, and a stranger's box is held and interpolated across the edge exactly as
in `anonymise_video` (the plans are the same as the one-go plans). Rendering is
again per chunk, and the joined MP4 copies the chunks' H.264 packets.

What crosses between workers (`ChunkDetections`, `ChunkPlan`) is JSON: boxes,
and per sampled face only "which kept person, how similar" (no embedding).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cheese_ml.analysis import Analyzer, Box
from cheese_ml.anonymise import Style
from cheese_ml.tracking import Xyxy
from cheese_ml.video_anonymise import (
    EngineState,
    FramePlan,
    KeptPerson,
    Sample,
    SegmentAnalyser,
    SegmentAnalysis,
    VideoTrack,
    observe,
    plan_frames,
    render_frame,
    track_report,
)
from cheese_ml.video_io import encode_between, read_frames_between


@dataclass(frozen=True)
class ChunkSpan:
    """Frames [first_frame, first_frame + frames) of the video: pts in [start_pts, end_pts)."""

    index: int
    first_frame: int
    frames: int
    start_pts: int
    end_pts: int | None  # None: to the end of the video


def split(pts: Sequence[int], fps: float, chunk_seconds: float) -> list[ChunkSpan]:
    """Cut the frames (their sorted timestamps, `video_io.frame_pts`) into chunks of about
    `chunk_seconds`; a last piece shorter than half a chunk joins the one before."""
    per_chunk = max(1, round(chunk_seconds * fps))
    starts = list(range(0, len(pts), per_chunk))
    if len(starts) > 1 and len(pts) - starts[-1] < per_chunk / 2:
        starts.pop()
    spans = []
    for number, first in enumerate(starts):
        last = starts[number + 1] if number + 1 < len(starts) else len(pts)
        spans.append(
            ChunkSpan(
                number, first, last - first, pts[first], pts[last] if last < len(pts) else None
            )
        )
    return spans


@dataclass
class ChunkDetections:
    """One chunk's faces: per frame, each box and its identity vote (or None)."""

    frames: list[list[tuple[Xyxy, Sample | None]]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "frames": [
                [
                    [*box, *((s.rank, s.person_id, s.similarity) if s else (None, None, None))]
                    for box, s in faces
                ]
                for faces in self.frames
            ]
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChunkDetections:
        return cls(
            [
                [
                    (
                        (float(f[0]), float(f[1]), float(f[2]), float(f[3])),
                        None if f[4] is None else Sample(float(f[4]), f[5], float(f[6])),
                    )
                    for f in faces
                ]
                for faces in data["frames"]
            ]
        )


def detect_chunk(
    path: str | Path,
    span: ChunkSpan,
    people: Sequence[KeptPerson],
    fps: float,
    analyzer: Analyzer | None = None,
    progress: Callable[[int], None] | None = None,
) -> ChunkDetections:
    """Detect and vote on every frame of one chunk (frames numbered from `span.first_frame`,
    so identity samples fall on the same frames as in one go)."""
    analyser = SegmentAnalyser(people, fps, analyzer)
    found: list[list[tuple[Xyxy, Sample | None]]] = []
    for frame in read_frames_between(path, span.start_pts, span.end_pts, span.first_frame):
        boxes, votes = analyser.detect(frame.index, frame.rgb)
        found.append(list(zip(boxes, votes, strict=True)))
        if progress is not None:
            progress(len(found))
    return ChunkDetections(found)


@dataclass
class ChunkPlan:
    """What to paint on each frame of one chunk (its frames numbered from 0)."""

    frames: list[FramePlan]

    def to_dict(self) -> dict[str, Any]:
        return {
            "frames": [
                [
                    [[b.x, b.y, b.w, b.h] for b in plan.hide],
                    [[b.x, b.y, b.w, b.h] for b in plan.keep],
                ]
                for plan in self.frames
            ]
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChunkPlan:
        return cls(
            [
                FramePlan(tuple(Box(*b) for b in hide), tuple(Box(*b) for b in keep))
                for hide, keep in data["frames"]
            ]
        )


@dataclass(frozen=True)
class VideoPlan:
    chunks: list[ChunkPlan]
    tracks: list[VideoTrack]
    frames: int


def plan_chunks(
    detections: Sequence[ChunkDetections], fps: float, frame_size: tuple[int, int]
) -> VideoPlan:
    """Every chunk's boxes through one tracker, in order: tracks across the edges, identities
    voted over the whole video, and each chunk's paint plan (as `anonymise_video` plans)."""
    state = EngineState()
    tracker = SegmentAnalyser([], fps, analyzer=_NO_ANALYZER).tracker(state)
    observations: dict[int, dict[int, Xyxy]] = {}
    index = 0
    bounds = []
    for chunk in detections:
        bounds.append((index, len(chunk.frames)))
        for faces in chunk.frames:
            observe(
                tracker, state, observations, index, [b for b, _ in faces], [v for _, v in faces]
            )
            index += 1
    plans = plan_frames(SegmentAnalysis(0, index - 1, observations, {}), state, fps, frame_size)
    empty = FramePlan((), ())
    return VideoPlan(
        [ChunkPlan([plans.get(first + i, empty) for i in range(count)]) for first, count in bounds],
        track_report(state, fps),
        index,
    )


class _Unused:
    """Stands for the analyzer where only the tracker is wanted (no model is loaded)."""

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"planning needs no analyzer ({name})")


_NO_ANALYZER: Any = _Unused()


def encode_chunk(
    path: str | Path,
    span: ChunkSpan,
    plan: ChunkPlan,
    out_path: str | Path,
    style: Style,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Paint one chunk by its plan and encode it (H.264, no audio: the join copies it once)."""

    def render(offset: int, rgb: Any) -> Any:
        if offset >= len(plan.frames):  # decoding is deterministic: never leave a frame unplanned
            raise RuntimeError(f"chunk {span.index} decoded more frames than it detected")
        return render_frame(rgb, plan.frames[offset], style)

    return encode_between(path, out_path, span.start_pts, span.end_pts, render, progress)
