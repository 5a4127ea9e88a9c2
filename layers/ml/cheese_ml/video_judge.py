"""Judge an anonymised video with a detector that is not the one that made it.

    verdict = judge(input_mp4, output_mp4, truth, hidden={"right"}, kept={"left"})
    verdict.leak_frames, verdict.flicker_frames, verdict.kept_untouched

OpenCV's Haar frontal-face cascade (alt2), not CenterFace, looks at the input
and the output (the profile cascade is there with `profiles=True`; it triples the
cost, ~0.1 s a frame per cascade on this machine, and no test clip has a profile). On every frame where the judge
sees a face in the input inside a labelled region:

- hidden label: a **leak** is the judge finding that same face (IoU >= 0.3 with
  the input's) in the output; a **flicker** frame is a leak with covered frames
  of that face both before and after it (within FLICKER_WINDOW frames);
- kept label: the face is **untouched** when the output's PSNR inside the judge's
  box is above 40 dB.

Used by tests/ml and bench/video_bench.py for us and for deface alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from cheese_ml.tracking import iou
from cheese_ml.video_clips import ClipTruth, Xyxy
from cheese_ml.video_io import read_frames

SAME_FACE_IOU = 0.3
UNTOUCHED_PSNR = 40.0
FLICKER_WINDOW = 12  # frames: an uncovered moment shorter than half a second is flicker


@dataclass
class LabelVerdict:
    visible_frames: int = 0  # frames where the judge sees this face in the input
    leak_frames: list[int] = field(default_factory=list)
    flicker_frames: list[int] = field(default_factory=list)
    untouched_frames: int = 0  # kept labels only
    psnr_min: float | None = None


@dataclass(frozen=True)
class Verdict:
    labels: dict[str, LabelVerdict]
    hidden: frozenset[str]
    kept: frozenset[str]

    @property
    def leak_frames(self) -> int:
        return sum(len(self.labels[label].leak_frames) for label in self.hidden)

    @property
    def flicker_frames(self) -> int:
        return sum(len(self.labels[label].flicker_frames) for label in self.hidden)

    @property
    def hidden_visible_frames(self) -> int:
        return sum(self.labels[label].visible_frames for label in self.hidden)

    @property
    def kept_untouched(self) -> float | None:
        """Fraction of the kept faces' visible frames left untouched (None: none visible)."""
        visible = sum(self.labels[label].visible_frames for label in self.kept)
        untouched = sum(self.labels[label].untouched_frames for label in self.kept)
        return untouched / visible if visible else None


class HaarJudge:
    def __init__(self, profiles: bool = False, min_face: int = 36) -> None:
        # opencv-python ships cv2.data; its stubs do not declare the submodule.
        root = Path(cv2.data.haarcascades)  # type: ignore[attr-defined]
        self.frontal = cv2.CascadeClassifier(str(root / "haarcascade_frontalface_alt2.xml"))
        self.profile = (
            cv2.CascadeClassifier(str(root / "haarcascade_profileface.xml")) if profiles else None
        )
        self.min_size = (min_face, min_face)
        self._inputs: dict[tuple[str, int], list[Xyxy]] = {}  # the same input judged twice

    def faces(self, rgb: np.ndarray) -> list[Xyxy]:
        grey = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
        width = grey.shape[1]
        found = [(x, y, x + w, y + h) for x, y, w, h in self._detect(self.frontal, grey)]
        if self.profile is not None:
            for x, y, w, h in self._detect(self.profile, grey):
                found.append((x, y, x + w, y + h))
            for x, y, w, h in self._detect(self.profile, cv2.flip(grey, 1)):
                found.append((width - x - w, y, width - x, y + h))
        return [tuple(float(v) for v in box) for box in found]  # type: ignore[misc]

    def _detect(
        self, classifier: cv2.CascadeClassifier, grey: np.ndarray
    ) -> Sequence[Sequence[int]]:
        boxes: Sequence[Sequence[int]] = classifier.detectMultiScale(
            grey, scaleFactor=1.1, minNeighbors=4, minSize=self.min_size
        )
        return boxes

    def input_faces(self, path: Path, index: int, rgb: np.ndarray) -> list[Xyxy]:
        key = (str(path), index)
        if key not in self._inputs:
            self._inputs[key] = self.faces(rgb)
        return self._inputs[key]


def _label_of(box: Xyxy, regions: dict[str, Xyxy]) -> str | None:
    """The top-most labelled region (regions are ordered bottom to top) holding the box's centre."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    holding = [label for label, r in regions.items() if r[0] <= cx < r[2] and r[1] <= cy < r[3]]
    return holding[-1] if holding else None


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def judge(
    input_path: Path,
    output_path: Path,
    truth: ClipTruth,
    hidden: set[str],
    kept: set[str] = frozenset(),  # type: ignore[assignment]
    judge_model: HaarJudge | None = None,
) -> Verdict:
    model = judge_model or HaarJudge()
    labels = {label: LabelVerdict() for label in (*hidden, *kept)}
    covered: dict[str, list[tuple[int, bool]]] = {label: [] for label in hidden}
    outputs = read_frames(output_path)
    # Frame by frame while both last: an output that lost frames is judged on what it has.
    for source, result in zip(read_frames(input_path), outputs, strict=False):
        regions = truth.regions(source.index)
        height = min(source.rgb.shape[0], result.rgb.shape[0])
        width = min(source.rgb.shape[1], result.rgb.shape[1])
        before, after = source.rgb[:height, :width], result.rgb[:height, :width]
        output_faces = model.faces(after)
        seen: set[str] = set()
        for box in model.input_faces(input_path, source.index, before):
            label = _label_of(box, regions)
            if label not in labels or label in seen:
                continue
            seen.add(label)
            verdict = labels[label]
            verdict.visible_frames += 1
            if label in hidden:
                leaked = any(iou(box, other) >= SAME_FACE_IOU for other in output_faces)
                covered[label].append((source.index, not leaked))
                if leaked:
                    verdict.leak_frames.append(source.index)
            else:
                x1, y1, x2, y2 = (round(v) for v in box)
                value = psnr(before[y1:y2, x1:x2], after[y1:y2, x1:x2])
                verdict.psnr_min = (
                    value if verdict.psnr_min is None else min(verdict.psnr_min, value)
                )
                if value > UNTOUCHED_PSNR:
                    verdict.untouched_frames += 1
    for label, sequence in covered.items():
        for position, (frame, ok) in enumerate(sequence):
            if ok:
                continue
            earlier = any(f >= frame - FLICKER_WINDOW and c for f, c in sequence[:position])
            later = any(f <= frame + FLICKER_WINDOW and c for f, c in sequence[position + 1 :])
            if earlier and later:
                labels[label].flicker_frames.append(frame)
    return Verdict(labels, frozenset(hidden), frozenset(kept))
