"""Face tracks across video frames: our own IoU + constant-velocity tracker.

    tracker = FaceTracker(TrackerState.from_dict(saved) if saved else None)
    for frame_index, boxes in frames:
        ids = tracker.update(frame_index, boxes)     # one track id per box
    saved = tracker.state.to_dict()                  # JSON: continue in the next chunk

Each live track predicts where its face is now from its last box and a
smoothed per-frame velocity of the box centre. Detections are matched to
predictions greedily, best first: by IoU, or, when a fast-moving face no longer
overlaps its prediction, by centre distance relative to the face size (a
similar size is required). A track that finds no detection for `max_age`
frames ends. The state is plain data so a video cut into chunks, or a live
stream cut into 2-second segments, continues the tracks of the piece before.

`covered_boxes` turns a track's observations into the box to paint on every
frame: gaps between detections are interpolated, and the box is held (moving
on with the last velocity, slowly growing) for `hold` frames after the last
detection and `preroll` frames before the first, so a face turning away from or
towards the detector is never shown for a frame.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Xyxy = tuple[float, float, float, float]

MIN_IOU = 0.1
# A detection with no overlap still continues a track when its centre is within this
# many face sizes of the prediction and its size is within MAX_SIZE_RATIO of the track's.
MAX_CENTRE_DISTANCE = 0.8
MAX_SIZE_RATIO = 1.8
VELOCITY_SMOOTHING = 0.5  # weight of the newest displacement in the velocity estimate
HOLD_GROWTH_PER_FRAME = 0.02  # a held box grows this fraction of its size per frame...
HOLD_MAX_GROWTH = 0.5  # ...up to this fraction


def iou(a: Xyxy, b: Xyxy) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _centre_size(box: Xyxy) -> tuple[float, float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2, max(box[2] - box[0], box[3] - box[1])


def shift(box: Xyxy, dx: float, dy: float, grow: float = 0.0) -> Xyxy:
    """The box moved by (dx, dy) and enlarged by `grow` of its size around its centre."""
    half_w, half_h = (box[2] - box[0]) * (1 + grow) / 2, (box[3] - box[1]) * (1 + grow) / 2
    centre_x, centre_y = (box[0] + box[2]) / 2 + dx, (box[1] + box[3]) / 2 + dy
    return (centre_x - half_w, centre_y - half_h, centre_x + half_w, centre_y + half_h)


@dataclass
class LiveTrack:
    """What the tracker remembers of a track that may still continue."""

    track_id: int
    first_frame: int
    last_frame: int
    last_box: Xyxy
    velocity: tuple[float, float] = (0.0, 0.0)  # box centre, pixels per frame
    hits: int = 1

    def predict(self, frame: int) -> Xyxy:
        steps = frame - self.last_frame
        return shift(self.last_box, self.velocity[0] * steps, self.velocity[1] * steps)


@dataclass
class TrackerState:
    """Everything needed to continue tracking in the next chunk or segment (JSON-able)."""

    tracks: list[LiveTrack] = field(default_factory=list)
    next_id: int = 1
    last_frame: int = -1

    def to_dict(self) -> dict[str, Any]:
        return {
            "next_id": self.next_id,
            "last_frame": self.last_frame,
            "tracks": [
                {
                    "track_id": t.track_id,
                    "first_frame": t.first_frame,
                    "last_frame": t.last_frame,
                    "last_box": list(t.last_box),
                    "velocity": list(t.velocity),
                    "hits": t.hits,
                }
                for t in self.tracks
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrackerState:
        return cls(
            tracks=[
                LiveTrack(
                    track_id=int(t["track_id"]),
                    first_frame=int(t["first_frame"]),
                    last_frame=int(t["last_frame"]),
                    last_box=tuple(float(v) for v in t["last_box"]),  # type: ignore[arg-type]
                    velocity=tuple(float(v) for v in t["velocity"]),  # type: ignore[arg-type]
                    hits=int(t["hits"]),
                )
                for t in data["tracks"]
            ],
            next_id=int(data["next_id"]),
            last_frame=int(data["last_frame"]),
        )


def _match_cost(predicted: Xyxy, size: float, box: Xyxy) -> float | None:
    """Lower is better; None when the detection cannot be this track's face."""
    overlap = iou(predicted, box)
    if overlap >= MIN_IOU:
        return 1.0 - overlap
    px, py, _ = _centre_size(predicted)
    bx, by, box_size = _centre_size(box)
    ratio = max(box_size, size) / max(min(box_size, size), 1e-6)
    distance = float(np.hypot(bx - px, by - py)) / max(size, 1e-6)
    if distance <= MAX_CENTRE_DISTANCE and ratio <= MAX_SIZE_RATIO:
        return 1.0 + distance
    return None


class FaceTracker:
    def __init__(self, state: TrackerState | None = None, max_age: int = 30) -> None:
        self.state = state or TrackerState()
        self.max_age = max_age

    def update(self, frame: int, boxes: Sequence[Xyxy]) -> list[int]:
        """Assign the frame's detections to tracks; returns one track id per box."""
        if frame <= self.state.last_frame:
            raise ValueError(f"frame {frame} is not after {self.state.last_frame}")
        self.state.last_frame = frame
        live = [t for t in self.state.tracks if frame - t.last_frame <= self.max_age]
        candidates = []
        for track_index, track in enumerate(live):
            predicted = track.predict(frame)
            size = _centre_size(track.last_box)[2]
            for box_index, box in enumerate(boxes):
                cost = _match_cost(predicted, size, box)
                if cost is not None:
                    candidates.append((cost, track_index, box_index))
        assigned: list[int | None] = [None] * len(boxes)
        used_tracks: set[int] = set()
        for _, track_index, box_index in sorted(candidates):
            if track_index in used_tracks or assigned[box_index] is not None:
                continue
            used_tracks.add(track_index)
            track = live[track_index]
            self._advance(track, frame, boxes[box_index])
            assigned[box_index] = track.track_id
        for box_index, box in enumerate(boxes):
            if assigned[box_index] is None:
                track = LiveTrack(self.state.next_id, frame, frame, tuple(box))  # type: ignore[arg-type]
                self.state.next_id += 1
                live.append(track)
                assigned[box_index] = track.track_id
        self.state.tracks = live
        return [track_id for track_id in assigned if track_id is not None]

    @staticmethod
    def _advance(track: LiveTrack, frame: int, box: Xyxy) -> None:
        steps = max(1, frame - track.last_frame)
        old_x, old_y, _ = _centre_size(track.last_box)
        new_x, new_y, _ = _centre_size(box)
        step_x, step_y = (new_x - old_x) / steps, (new_y - old_y) / steps
        if track.hits == 1:
            track.velocity = (step_x, step_y)
        else:
            keep = 1.0 - VELOCITY_SMOOTHING
            track.velocity = (
                keep * track.velocity[0] + VELOCITY_SMOOTHING * step_x,
                keep * track.velocity[1] + VELOCITY_SMOOTHING * step_y,
            )
        track.last_box, track.last_frame = tuple(box), frame  # type: ignore[assignment]
        track.hits += 1


def covered_boxes(
    observations: Mapping[int, Xyxy],
    first_frame: int,
    last_frame: int,
    hold: int,
    preroll: int,
) -> dict[int, Xyxy]:
    """The box to paint on each frame in [first_frame, last_frame] for one track.

    `observations` maps frame -> detected box (may include one observation from
    before `first_frame`, e.g. the last box of a previous segment, to bridge the
    edge). Between two observations the box is interpolated; after the last one
    it is held for `hold` frames, moving on with the track's final velocity and
    growing; before the first one it is extended back `preroll` frames the same way.
    """
    frames = sorted(observations)
    if not frames:
        return {}
    out: dict[int, Xyxy] = {}
    boxes = [np.asarray(observations[f], dtype=np.float64) for f in frames]
    for (f0, b0), (f1, b1) in itertools.pairwise(zip(frames, boxes, strict=True)):
        for frame in range(max(f0, first_frame), min(f1, last_frame + 1)):
            t = (frame - f0) / (f1 - f0)
            out[frame] = tuple((1 - t) * b0 + t * b1)
    last = frames[-1]
    end_velocity = _end_velocity(frames, boxes)
    for age in range(hold + 1):
        frame = last + age
        if first_frame <= frame <= last_frame:
            out[frame] = shift(
                tuple(boxes[-1]),
                end_velocity[0] * age,
                end_velocity[1] * age,
                min(HOLD_MAX_GROWTH, HOLD_GROWTH_PER_FRAME * age),
            )
    start = frames[0]
    start_velocity = _end_velocity(frames[:2], boxes[:2])
    for age in range(1, preroll + 1):
        frame = start - age
        if first_frame <= frame <= last_frame and frame not in out:
            out[frame] = shift(
                tuple(boxes[0]),
                -start_velocity[0] * age,
                -start_velocity[1] * age,
                min(HOLD_MAX_GROWTH, HOLD_GROWTH_PER_FRAME * age),
            )
    return out


def _end_velocity(frames: Sequence[int], boxes: Sequence[np.ndarray]) -> tuple[float, float]:
    """Per-frame centre motion between the last two observations (zero with one)."""
    if len(frames) < 2:
        return (0.0, 0.0)
    steps = frames[-1] - frames[-2]
    (x0, y0, _), (x1, y1, _) = _centre_size(tuple(boxes[-2])), _centre_size(tuple(boxes[-1]))
    return ((x1 - x0) / steps, (y1 - y0) / steps)
