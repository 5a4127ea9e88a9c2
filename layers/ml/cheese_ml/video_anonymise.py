"""Hide every face in a video except the people who may be shown.

    people = people_from_photos({"me": [jpeg1, jpeg2]})
    report = anonymise_video("in.mp4", "out.mp4", people, style="mosaic")
    report.tracks   # [VideoTrack(track_id, first_second, last_second, person_id | None)]

Two passes over the video, one process:

1. **Analyse** (`SegmentAnalyser`): CenterFace on every frame at a threshold
   chosen for recall; detections joined into tracks (`cheese_ml.tracking`);
   on every `EMBED_EVERY`-th frame each face usable for identity is embedded
   and compared with the kept people's embeddings (the embedding itself is
   dropped at once: only "which person, how similar" is kept, as a vote).
2. **Plan** (`plan_frames`): each track's identity from the votes of its best
   frames; every stranger's box on every frame, with gaps filled and the box
   held before the first and after the last detection.
3. **Render** (`render_frame`, through `video_io.transcode`): strangers painted
   (mosaic cells relative to the face, blur or cartoon, as for photos), kept
   faces protected, H.264 out, audio packets copied.

The analyser's state (`EngineState`, JSON-able) goes in and out of each
segment, so a video cut into chunks, or a live stream's 2-second segments,
continues the tracks, votes and held boxes of the piece before.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cheese_ml.analysis import Analyzer, Box, Detection, default_analyzer
from cheese_ml.anonymise import Style, hide_boxes
from cheese_ml.images import decode_image
from cheese_ml.tracking import FaceTracker, TrackerState, Xyxy, covered_boxes
from cheese_ml.video_io import DecodedFrame, VideoInfo, probe, read_frames, transcode

# CenterFace's score threshold for video. Photos use 0.5; here a missed frame shows a
# stranger, a false detection only paints a patch of background, and the tracker needs
# the weak detections of a turning head. Measured in README ("Video anonymisation").
VIDEO_DETECT_THRESHOLD = 0.3
# Same person = cosine similarity of at least 1 - 0.35, the grouping threshold of
# functions/photos (CLUSTERING.md: max_distance 0.35).
SAME_PERSON_SIMILARITY = 0.65
EMBED_EVERY = 5  # detected frames between identity samples of a track
# A live stream's segments are detected on every other frame and the boxes between are
# interpolated (``covered_boxes``): the detector is two thirds of the work, and one core
# must anonymise a 2-second segment in less than 2 seconds to keep up
# (bench/live_bench.py, functions/video/README.md).
LIVE_DETECT_EVERY = 2
BEST_SAMPLES = 15  # a track's identity is voted by its this-many best samples
HOLD_SECONDS = 0.5  # a lost face's box stays painted this long (and is interpolated if it returns)
PREROLL_SECONDS = 0.2  # and is painted this long before it is first detected
TRACK_MAX_AGE_SECONDS = 1.0  # a track may pick its face up again within this long
# A kept face is protected over its box grown this much: a stranger passing behind a kept
# person must not paint over their hair, ears and chin. Measured on the moving clip (obama
# crossing two strangers, bench/video_bench.py): grown 1.3 x 1.4 (the stranger's own paint
# ellipse) left him untouched in 91 of 96 frames, the judge's face box reaching beyond it;
# 1.6 x 1.8 and 2.0 x 2.2 in all 96, with no leak or flicker either way: the smaller is used.
KEPT_GROW = (1.6, 1.8)


class NoFaceInPhotoError(ValueError):
    """A registration photo has no face usable for identity."""


@dataclass(frozen=True)
class KeptPerson:
    person_id: str
    embeddings: np.ndarray  # (n, 192) float32, L2-normalised


@dataclass
class Sample:
    rank: float  # detection score x face size: larger is a better frame to judge identity by
    person_id: str | None  # the kept person this frame looks like, or None
    similarity: float


@dataclass
class TrackRecord:
    """All that is kept about one track between segments (no biometric data)."""

    track_id: int
    first_frame: int
    last_frame: int
    samples: list[Sample] = field(default_factory=list)

    def add_sample(self, sample: Sample) -> None:
        self.samples.append(sample)
        self.samples.sort(key=lambda s: -s.rank)
        del self.samples[BEST_SAMPLES:]

    def person_id(self) -> str | None:
        """The kept person this track is, by majority of its best samples; None = stranger.

        A person needs more than half the votes and at least two (one if the track
        has a single sample): a face seen once at a bad angle stays hidden.
        """
        if not self.samples:
            return None
        votes: dict[str, int] = {}
        for sample in self.samples:
            if sample.person_id is not None:
                votes[sample.person_id] = votes.get(sample.person_id, 0) + 1
        if not votes:
            return None
        best, count = max(votes.items(), key=lambda item: (item[1], item[0]))
        if count * 2 > len(self.samples) and count >= min(2, len(self.samples)):
            return best
        return None


@dataclass
class EngineState:
    """The analyser's state between segments: tracker, tracks seen, last boxes (JSON-able)."""

    tracker: TrackerState = field(default_factory=TrackerState)
    tracks: dict[int, TrackRecord] = field(default_factory=dict)
    frames_done: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "tracker": self.tracker.to_dict(),
            "frames_done": self.frames_done,
            "tracks": [
                {
                    "track_id": t.track_id,
                    "first_frame": t.first_frame,
                    "last_frame": t.last_frame,
                    "samples": [[s.rank, s.person_id, s.similarity] for s in t.samples],
                }
                for t in self.tracks.values()
            ],
        }

    def live_only(self) -> EngineState:
        """This state without the tracks the tracker no longer follows: what a live stream
        carries to its next segment (an ended track never continues; a recorded video's
        report needs them all, a live stream's state would grow without them gone)."""
        following = {track.track_id for track in self.tracker.tracks}
        return EngineState(
            tracker=self.tracker,
            tracks={k: t for k, t in self.tracks.items() if k in following},
            frames_done=self.frames_done,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EngineState:
        return cls(
            tracker=TrackerState.from_dict(data["tracker"]),
            frames_done=int(data["frames_done"]),
            tracks={
                int(t["track_id"]): TrackRecord(
                    int(t["track_id"]),
                    int(t["first_frame"]),
                    int(t["last_frame"]),
                    [Sample(float(r), p, float(s)) for r, p, s in t["samples"]],
                )
                for t in data["tracks"]
            },
        )


@dataclass(frozen=True)
class VideoTrack:
    track_id: int
    first_second: float
    last_second: float
    person_id: str | None  # None: a stranger, hidden


@dataclass(frozen=True)
class FramePlan:
    hide: tuple[Box, ...]
    keep: tuple[Box, ...]


@dataclass
class SegmentAnalysis:
    """One segment's detections by track, and the frames it spans."""

    first_frame: int
    last_frame: int
    observations: dict[int, dict[int, Xyxy]]  # track id -> frame -> box
    before: dict[int, tuple[int, Xyxy]]  # live tracks at the segment start: last frame, box


@dataclass(frozen=True)
class AnonymisationReport:
    info: VideoInfo
    tracks: list[VideoTrack]
    frames: int


def people_from_photos(
    photos: Mapping[str, Sequence[bytes | np.ndarray]], analyzer: Analyzer | None = None
) -> list[KeptPerson]:
    """One KeptPerson per id from 1+ photos each: the largest usable face of every photo."""
    analyzer = analyzer or default_analyzer()
    people = []
    for person_id, images in photos.items():
        vectors: list[np.ndarray] = []
        for number, image in enumerate(images, start=1):
            rgb = decode_image(image) if isinstance(image, bytes | bytearray) else image
            faces = [
                (f, embedding)
                for f in analyzer.analyze(rgb, expressions=False)
                if (embedding := f.embedding) is not None
            ]
            usable = [(f, e) for f, e in faces if f.quality.usable_for_clustering] or faces
            if not usable:
                raise NoFaceInPhotoError(f"photo {number} of {person_id} shows no face")
            vectors.append(max(usable, key=lambda fe: fe[0].box.w * fe[0].box.h)[1])
        people.append(KeptPerson(person_id, np.stack(vectors).astype(np.float32)))
    return people


def _best_match(embedding: np.ndarray, people: Sequence[KeptPerson]) -> tuple[str | None, float]:
    best_id, best = None, -1.0
    for person in people:
        similarity = float(np.max(person.embeddings @ embedding))
        if similarity > best:
            best_id, best = person.person_id, similarity
    return (best_id if best >= SAME_PERSON_SIMILARITY else None), best


class SegmentAnalyser:
    """Detect, track and vote over one segment of frames, continuing an EngineState."""

    def __init__(
        self,
        people: Sequence[KeptPerson],
        fps: float,
        analyzer: Analyzer | None = None,
        threshold: float = VIDEO_DETECT_THRESHOLD,
        detect_every: int = 1,
    ) -> None:
        self.people = list(people)
        self.fps = fps
        self.analyzer = analyzer or default_analyzer()
        self.threshold = threshold
        self.detect_every = max(1, detect_every)

    def analyse(
        self,
        frames: Iterable[DecodedFrame],
        state: EngineState,
        progress: Callable[[int], None] | None = None,
    ) -> SegmentAnalysis:
        """Consume the frames (indices continue `state.frames_done`), updating `state`."""
        tracker = self.tracker(state)
        before = {t.track_id: (t.last_frame, t.last_box) for t in state.tracker.tracks}
        observations: dict[int, dict[int, Xyxy]] = {}
        first = state.frames_done
        for offset, frame in enumerate(frames):
            index = first + offset
            if index % self.detect_every == 0:
                boxes, votes = self.detect(index, frame.rgb)
                observe(tracker, state, observations, index, boxes, votes)
            else:
                state.frames_done = index + 1  # painted from the detections around it
            if progress is not None:
                progress(offset + 1)
        return SegmentAnalysis(first, state.frames_done - 1, observations, before)

    def tracker(self, state: EngineState) -> FaceTracker:
        return FaceTracker(state.tracker, max_age=max(1, round(TRACK_MAX_AGE_SECONDS * self.fps)))

    def detect(self, index: int, rgb: np.ndarray) -> tuple[list[Xyxy], list[Sample | None]]:
        """One frame's face boxes and, every EMBED_EVERY-th frame, each usable face's vote.

        This is all the costly work (the detector and the embedder), and it needs no
        track: chunks of a long video are detected in parallel, then tracked in order
        (`observe`) by whoever joins them.
        """
        detections = self.analyzer.detect(rgb, threshold=self.threshold)
        boxes = [tuple(d.box_xyxy) for d in detections]
        votes: list[Sample | None] = [None] * len(detections)
        if self.people and (index // self.detect_every) % EMBED_EVERY == 0 and detections:
            votes = self._votes(rgb, detections)
        return boxes, votes

    def _votes(self, rgb: np.ndarray, detections: list[Detection]) -> list[Sample | None]:
        votes: list[Sample | None] = [None] * len(detections)
        identity_crops, _ = self.analyzer.align(rgb, detections)
        usable = [
            i
            for i, detection in enumerate(detections)
            if self.analyzer.quality(detection, identity_crops[i]).usable_for_clustering
        ]
        if not usable:
            return votes
        embeddings = self.analyzer.embed(identity_crops[usable])
        for i, embedding in zip(usable, embeddings, strict=True):
            person_id, similarity = _best_match(embedding, self.people)
            x1, y1, x2, y2 = detections[i].box_xyxy
            rank = detections[i].score * min(x2 - x1, y2 - y1)
            votes[i] = Sample(float(rank), person_id, similarity)
        return votes


def observe(
    tracker: FaceTracker,
    state: EngineState,
    observations: dict[int, dict[int, Xyxy]],
    index: int,
    boxes: Sequence[Xyxy],
    votes: Sequence[Sample | None],
) -> None:
    """Frame `index`'s boxes (and votes) into the tracks: the cheap, strictly ordered step."""
    ids = tracker.update(index, list(boxes))
    for track_id, box, vote in zip(ids, boxes, votes, strict=True):
        observations.setdefault(track_id, {})[index] = tuple(box)  # type: ignore[assignment]
        record = state.tracks.setdefault(track_id, TrackRecord(track_id, index, index))
        record.last_frame = index
        if vote is not None:
            record.add_sample(vote)
    state.frames_done = index + 1


def plan_frames(
    analysis: SegmentAnalysis, state: EngineState, fps: float, frame_size: tuple[int, int]
) -> dict[int, FramePlan]:
    """What to paint and what to protect on every frame of the analysed segment."""
    hold = max(1, math.ceil(HOLD_SECONDS * fps))
    preroll = max(1, math.ceil(PREROLL_SECONDS * fps))
    width, height = frame_size
    hide: dict[int, list[Box]] = {}
    keep: dict[int, list[Box]] = {}
    track_ids = set(analysis.observations) | set(analysis.before)
    for track_id in track_ids:
        observed = dict(analysis.observations.get(track_id, {}))
        if track_id in analysis.before:  # bridge the edge: the box this track had before
            last_frame, last_box = analysis.before[track_id]
            observed.setdefault(last_frame, last_box)
        boxes = covered_boxes(observed, analysis.first_frame, analysis.last_frame, hold, preroll)
        record = state.tracks.get(track_id)
        kept = record is not None and record.person_id() is not None
        for frame, box in boxes.items():
            if kept:
                keep.setdefault(frame, []).append(_clip(_grown(box, *KEPT_GROW), width, height))
            else:
                hide.setdefault(frame, []).append(_clip(box, width, height))
    return {
        frame: FramePlan(tuple(hide.get(frame, ())), tuple(keep.get(frame, ())))
        for frame in range(analysis.first_frame, analysis.last_frame + 1)
    }


def _grown(box: Xyxy, grow_w: float, grow_h: float) -> Xyxy:
    half_w, half_h = (box[2] - box[0]) * grow_w / 2, (box[3] - box[1]) * grow_h / 2
    centre_x, centre_y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return (centre_x - half_w, centre_y - half_h, centre_x + half_w, centre_y + half_h)


def _clip(box: Xyxy, width: int, height: int) -> Box:
    x1 = int(np.clip(math.floor(box[0]), 0, width - 1))
    y1 = int(np.clip(math.floor(box[1]), 0, height - 1))
    x2 = int(np.clip(math.ceil(box[2]), x1 + 1, width))
    y2 = int(np.clip(math.ceil(box[3]), y1 + 1, height))
    return Box(x1, y1, x2 - x1, y2 - y1)


def render_frame(rgb: np.ndarray, plan: FramePlan, style: Style) -> np.ndarray:
    if not plan.hide:
        return rgb
    return hide_boxes(rgb, plan.hide, plan.keep, style)


def track_report(state: EngineState, fps: float) -> list[VideoTrack]:
    return [
        VideoTrack(
            record.track_id,
            round(record.first_frame / fps, 3),
            round(record.last_frame / fps, 3),
            record.person_id(),
        )
        for record in sorted(state.tracks.values(), key=lambda r: r.track_id)
    ]


def anonymise_video(
    video: str | Path,
    out_path: str | Path,
    people: Sequence[KeptPerson] = (),
    style: Style = "mosaic",
    analyzer: Analyzer | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    detect_every: int = 1,
) -> AnonymisationReport:
    """Write `out_path` (MP4, H.264 + the input's audio) with every stranger's face hidden.

    `progress(stage, done, total)` is called per frame with stage "analyse" then
    "render"; `detect_every` > 1 detects on every n-th frame only (live's
    LIVE_DETECT_EVERY). Raises `VideoInputError` (with a `code`) for unusable input.
    """
    info = probe(video)
    state = EngineState()
    analyser = SegmentAnalyser(people, info.fps, analyzer, detect_every=detect_every)
    analysis = analyser.analyse(
        read_frames(video),
        state,
        (lambda done: progress("analyse", done, info.frames)) if progress else None,
    )
    plans = plan_frames(analysis, state, info.fps, (info.width, info.height))
    transcode(
        video,
        out_path,
        lambda index, rgb: render_frame(rgb, plans.get(index, FramePlan((), ())), style),
        (lambda done, total: progress("render", done, analysis.last_frame + 1))
        if progress
        else None,
    )
    return AnonymisationReport(info, track_report(state, info.fps), analysis.last_frame + 1)


@dataclass(frozen=True)
class SegmentReport:
    info: VideoInfo
    frames: int
    duration: float  # seconds of video in the segment (its EXTINF)


def anonymise_segment(
    segment: str | Path,
    out_path: str | Path,
    state: EngineState,
    start_seconds: float,
    people: Sequence[KeptPerson] = (),
    style: Style = "mosaic",
    analyzer: Analyzer | None = None,
    detect_every: int = LIVE_DETECT_EVERY,
) -> SegmentReport:
    """One segment of a live stream to an MPEG-TS HLS segment, continuing `state`.

    Tracks, their identity votes and their last boxes come from the segments
    before (`state`, updated in place): a stranger already tracked is hidden from
    the segment's first frame, before the detector has seen them again. Frames are
    numbered on from `state.frames_done`; `start_seconds` places the segment in the
    stream's timeline. Raises `VideoInputError` for an unusable segment; `state` may
    then be half-advanced, so the caller saves it only after a success.
    """
    info = probe(segment)
    analyser = SegmentAnalyser(people, info.fps, analyzer, detect_every=detect_every)
    analysis = analyser.analyse(read_frames(segment), state)
    plans = plan_frames(analysis, state, info.fps, (info.width, info.height))
    first = analysis.first_frame
    transcode(
        segment,
        out_path,
        lambda index, rgb: render_frame(rgb, plans.get(first + index, FramePlan((), ())), style),
        container_format="mpegts",
        start_seconds=start_seconds,
    )
    frames = analysis.last_frame - first + 1
    return SegmentReport(info, frames, info.duration or frames / info.fps)
