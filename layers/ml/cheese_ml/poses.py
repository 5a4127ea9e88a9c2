"""Comparing, describing and clustering body poses; the mood of a cut.

    p = normalise(keypoints)              # (17, 3) x, y, score in photo pixels
    distance(p, q); oks(a, b, area)       # Move Mirror distance; COCO OKS
    describe(p); describe_group([...])    # "arms raised", "heads together", ...
    mood(expressions, rgb)                # ["cheerful", "vivid"]
    types = learn_pose_types(vectors)     # k-means pose types, re-learned on a schedule

Keypoints come from `cheese_ml.pose` (MoveNet, COCO order). A normalised
pose is centred on the hip midpoint, scaled by the torso length (shoulder
midpoint to hip midpoint) and mirrored to a canonical left/right, so a pose,
its translation, its enlargement and its mirror image compare as equal.
Image convention is kept: y grows downwards.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import cv2
import numpy as np

from cheese_ml.pose import KEYPOINT_NAMES

INDEX = {name: i for i, name in enumerate(KEYPOINT_NAMES)}
# Mirroring swaps each left joint with its right twin (nose stays).
MIRROR = np.array(
    [
        INDEX[name.replace("left", "right") if "left" in name else name.replace("right", "left")]
        for name in KEYPOINT_NAMES
    ]
)
# COCO keypoint sigmas (Ronchi & Perona), in KEYPOINT_NAMES order.
COCO_SIGMAS = (
    np.array(
        [
            0.26,
            0.25,
            0.25,
            0.35,
            0.35,
            0.79,
            0.79,
            0.72,
            0.72,
            0.62,
            0.62,
            1.07,
            1.07,
            0.87,
            0.87,
            0.89,
            0.89,
        ]
    )
    / 10.0
)
# MoveNet scores under this are guesses (its own demo threshold).
VISIBLE = 0.3
# A torso this short (pixels) cannot set a scale; the shoulder width stands in.
MIN_TORSO = 1e-6


@dataclass(frozen=True)
class Pose:
    """A normalised pose: xy in torso lengths around the hip midpoint, canonical side."""

    xy: np.ndarray  # (17, 2)
    score: np.ndarray  # (17,) MoveNet confidence, permuted with the mirror
    mirrored: bool

    def vector(self) -> np.ndarray:
        """Move Mirror's 34 values, L2-normalised; invisible joints sit at the hip centre."""
        flat = np.where(self.score[:, None] >= VISIBLE, self.xy, 0.0).reshape(-1)
        norm = float(np.linalg.norm(flat))
        return flat / norm if norm > 0 else flat


def _midpoint(points: np.ndarray, a: str, b: str) -> np.ndarray:
    return np.asarray((points[INDEX[a]] + points[INDEX[b]]) / 2.0)


def as_array(keypoints: object) -> np.ndarray:
    """(17, 3) float array from `cheese_ml.pose.Keypoint`s, dicts or an array."""
    if isinstance(keypoints, np.ndarray):
        array = keypoints.astype(np.float64)
    else:
        rows = []
        for point in keypoints:  # type: ignore[attr-defined]
            if isinstance(point, dict):
                rows.append((point["x"], point["y"], point["score"]))
            else:
                rows.append((point.x, point.y, point.score))
        array = np.array(rows, dtype=np.float64)
    if array.shape != (len(KEYPOINT_NAMES), 3) or not np.isfinite(array).all():
        raise ValueError(f"expected {len(KEYPOINT_NAMES)} finite (x, y, score) keypoints")
    return array


def mirror_keypoints(keypoints: np.ndarray) -> np.ndarray:
    """The same person flipped horizontally (x -> -x), left and right joints swapped."""
    flipped: np.ndarray = np.array(keypoints[MIRROR], dtype=np.float64)
    flipped[:, 0] = -flipped[:, 0]
    return flipped


def normalise(keypoints: object) -> Pose:
    """Centre on the hip midpoint, scale by torso length, mirror to the canonical side.

    The canonical side is the one whose confidence-weighted mean x is >= 0
    (the mean flips sign under the mirror, so exactly one side qualifies
    unless the pose is left/right symmetric, when both sides are the same pose).
    """
    array = as_array(keypoints)
    xy, score = array[:, :2], array[:, 2]
    hips = _midpoint(xy, "left_hip", "right_hip")
    shoulders = _midpoint(xy, "left_shoulder", "right_shoulder")
    torso = float(np.linalg.norm(shoulders - hips))
    if torso < MIN_TORSO:
        torso = max(
            float(np.linalg.norm(xy[INDEX["left_shoulder"]] - xy[INDEX["right_shoulder"]])), 1.0
        )
    centred = (xy - hips) / torso
    weights = score + 1e-9
    mirrored = float(np.sum(centred[:, 0] * weights)) < 0.0
    if mirrored:
        centred = centred[MIRROR] * np.array([-1.0, 1.0])
        score = score[MIRROR]
    return Pose(centred, score.copy(), mirrored)


def distance(a: Pose, b: Pose) -> float:
    """Move Mirror's confidence-weighted distance between L2-normalised poses (0 = same)."""
    va, vb = a.vector().reshape(-1, 2), b.vector().reshape(-1, 2)
    weights = a.score
    total = float(weights.sum())
    if total <= 0:
        return float(np.linalg.norm(va - vb))
    return float(np.sum(weights * np.linalg.norm(va - vb, axis=1)) / total)


def oks(a: np.ndarray, b: np.ndarray, area: float | None = None) -> float:
    """COCO object keypoint similarity of keypoints `b` against reference `a` (both (17,3)).

    Only joints visible in `a` count. `area` is the person's area in the
    same units (pixels^2 for photo keypoints); by default the area of the
    visible joints' bounding box.
    """
    a, b = as_array(a), as_array(b)
    visible = a[:, 2] >= VISIBLE
    if not visible.any():
        return 0.0
    if area is None:
        span = a[visible, :2].max(axis=0) - a[visible, :2].min(axis=0)
        area = float(max(span[0] * span[1], 1.0))
    squared = np.sum((a[:, :2] - b[:, :2]) ** 2, axis=1)
    similarity = np.exp(-squared / (2.0 * area * (2.0 * COCO_SIGMAS) ** 2))
    return float(similarity[visible].mean())


# --- description -----------------------------------------------------------

LEAN_DEGREES = 15.0
HEADS_TOGETHER = 0.9  # nose distance between neighbours, in their mean torso lengths


def _seen(pose: Pose, *names: str) -> bool:
    return all(pose.score[INDEX[name]] >= VISIBLE for name in names)


def describe(pose: Pose) -> list[str]:
    """Readable phrases for one normalised pose, from the visible keypoints."""
    p = {name: pose.xy[INDEX[name]] for name in KEYPOINT_NAMES}
    phrases: list[str] = []
    raised = [
        side
        for side in ("left", "right")
        if _seen(pose, f"{side}_wrist", f"{side}_shoulder")
        and p[f"{side}_wrist"][1] < p[f"{side}_shoulder"][1]
    ]
    if len(raised) == 2:
        phrases.append("both arms raised")
    elif raised:
        phrases.append("one arm raised")
    on_hips = [
        side
        for side in ("left", "right")
        if _seen(pose, f"{side}_wrist", f"{side}_hip")
        and np.linalg.norm(p[f"{side}_wrist"] - p[f"{side}_hip"]) < 0.35
        and _seen(pose, f"{side}_elbow")
        and abs(p[f"{side}_elbow"][0]) > abs(p[f"{side}_hip"][0]) + 0.3  # elbows out, not hanging
    ]
    if len(on_hips) == 2:
        phrases.append("hands on hips")
    if _seen(pose, "left_wrist", "right_wrist", "left_shoulder", "right_shoulder"):
        chest = (p["left_shoulder"] + p["right_shoulder"]) / 2
        wrists_cross = (p["left_wrist"][0] - p["right_wrist"][0]) * (
            p["left_shoulder"][0] - p["right_shoulder"][0]
        ) < 0
        if wrists_cross and all(
            np.linalg.norm(p[w] - chest) < 0.8 for w in ("left_wrist", "right_wrist")
        ):
            phrases.append("arms crossed")
    if _seen(pose, "left_shoulder", "right_shoulder", "left_hip", "right_hip"):
        shoulders = (p["left_shoulder"] + p["right_shoulder"]) / 2
        tilt = float(np.degrees(np.arctan2(shoulders[0], -shoulders[1])))
        if abs(tilt) > LEAN_DEGREES:
            phrases.append("leaning")
    if _seen(pose, "left_knee", "right_knee", "left_hip", "right_hip"):
        knees_y = (p["left_knee"][1] + p["right_knee"][1]) / 2
        if knees_y < 0.45:
            phrases.append("sitting or crouching")
    if _seen(pose, "nose", "left_shoulder", "right_shoulder"):
        shoulders = (p["left_shoulder"] + p["right_shoulder"]) / 2
        if abs(p["nose"][0] - shoulders[0]) > 0.35:
            phrases.append("head tilted")
    return phrases or ["standing straight"]


def group_order(people: list[np.ndarray]) -> list[int]:
    """Indices of people (photo keypoints, (17,3)) from left to right by hip/shoulder centre."""

    def centre_x(keypoints: np.ndarray) -> float:
        torso = keypoints[
            [INDEX["left_shoulder"], INDEX["right_shoulder"], INDEX["left_hip"], INDEX["right_hip"]]
        ]
        return float(np.average(torso[:, 0], weights=torso[:, 2] + 1e-9))

    return sorted(range(len(people)), key=lambda i: centre_x(as_array(people[i])))


def describe_group(people: list[np.ndarray]) -> list[str]:
    """Phrases for a cut's group pose: each person's (deduplicated) plus group-level ones."""
    arrays = [as_array(people[i]) for i in group_order(people)]
    poses = [normalise(a) for a in arrays]
    phrases: list[str] = []
    for pose in poses:
        for phrase in describe(pose):
            if phrase not in phrases and phrase != "standing straight":
                phrases.append(phrase)
    for left, right in itertools.pairwise(arrays):
        if left[INDEX["nose"], 2] < VISIBLE or right[INDEX["nose"], 2] < VISIBLE:
            continue
        torsos = [_torso_pixels(left), _torso_pixels(right)]
        gap = float(np.linalg.norm(left[INDEX["nose"], :2] - right[INDEX["nose"], :2]))
        if gap < HEADS_TOGETHER * float(np.mean(torsos)):
            phrases.append("heads together")
            break
    if not phrases:
        phrases.append("standing straight" if len(people) == 1 else "side by side")
    return phrases


def _torso_pixels(keypoints: np.ndarray) -> float:
    hips = _midpoint(keypoints[:, :2], "left_hip", "right_hip")
    shoulders = _midpoint(keypoints[:, :2], "left_shoulder", "right_shoulder")
    return max(float(np.linalg.norm(shoulders - hips)), 1.0)


def group_vector(people: list[np.ndarray]) -> np.ndarray:
    """One vector per cut for clustering: each person's pose vector, left to right.

    Each person's 34 values are L2-normalised, so the concatenation of N
    people has norm sqrt(N); vectors are only compared between cuts with the
    same number of people.
    """
    ordered = [as_array(people[i]) for i in group_order(people)]
    return np.concatenate([normalise(a).vector() for a in ordered])


# --- mood ------------------------------------------------------------------

MOODS = ("cheerful", "surprised", "calm", "cosy", "vivid", "moody", "bright")


@dataclass(frozen=True)
class Colour:
    brightness: float  # 0-1, mean V
    warmth: float  # -1..1, mean (R - B)
    saturation: float  # 0-1, mean S


def colour(rgb: np.ndarray) -> Colour:
    small = cv2.resize(rgb, (64, 64), interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    pixels = small.astype(np.float64) / 255.0
    return Colour(
        brightness=float(hsv[..., 2].mean() / 255.0),
        warmth=float((pixels[..., 0] - pixels[..., 2]).mean()),
        saturation=float(hsv[..., 1].mean() / 255.0),
    )


def mood(expressions: list[dict[str, float]], rgb: np.ndarray) -> list[str]:
    """Up to three named labels for a cut, from its faces' expressions and its colour."""
    labels: list[str] = []
    if expressions:
        mean = {
            label: float(np.mean([e.get(label, 0.0) for e in expressions]))
            for label in expressions[0]
        }
        if mean.get("happy", 0.0) >= 0.5:
            labels.append("cheerful")
        if mean.get("surprise", 0.0) >= 0.3:
            labels.append("surprised")
        if mean.get("neutral", 0.0) >= 0.5:
            labels.append("calm")
    c = colour(rgb)
    if c.warmth > 0.08 and c.brightness < 0.6:
        labels.append("cosy")
    if c.saturation > 0.45:
        labels.append("vivid")
    if c.brightness < 0.3:
        labels.append("moody")
    elif c.brightness > 0.7:
        labels.append("bright")
    return labels[:3] or ["calm"]


# --- pose types ----------------------------------------------------------------


@dataclass(frozen=True)
class PoseTypes:
    centroids: np.ndarray  # (k, d)
    radius: np.ndarray  # (k,) distance within which a vector "has tried" the type
    sizes: np.ndarray  # (k,) members
    labels: np.ndarray  # (n,) type of each input vector

    def assign(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(nearest type, distance to it) for each row of `vectors`."""
        d = _distances(np.atleast_2d(vectors), self.centroids)
        nearest = d.argmin(axis=1)
        return nearest, d[np.arange(len(nearest)), nearest]

    def tried(self, vectors: np.ndarray) -> set[int]:
        """Types with at least one of `vectors` within their radius."""
        if len(vectors) == 0 or len(self.centroids) == 0:
            return set()
        d = _distances(np.atleast_2d(vectors), self.centroids)
        return {int(k) for k in np.nonzero((d <= self.radius[None, :]).any(axis=0))[0]}


def _distances(x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    squared = (
        (x * x).sum(1)[:, None] - 2.0 * x @ centroids.T + (centroids * centroids).sum(1)[None, :]
    )
    return np.asarray(np.sqrt(np.maximum(squared, 0.0)))


def learn_pose_types(
    vectors: np.ndarray,
    *,
    k: int | None = None,
    iterations: int = 25,
    seed: int = 0,
    radius_quantile: float = 0.75,
) -> PoseTypes:
    """k-means (k-means++ seeding on a sample, Lloyd iterations) over pose vectors.

    Lloyd on n x d with k centroids is O(n k d) per iteration: 100k cuts x
    34 values x 40 types is ~0.14 GFLOP, a few hundred ms in numpy on one
    core, far inside the 60 s schedule budget. A type's radius is the
    `radius_quantile` of its members' distances: a user's cut within it has
    "tried" the type.
    """
    x = np.asarray(vectors, dtype=np.float64)
    n = len(x)
    if n == 0:
        return PoseTypes(
            np.zeros((0, x.shape[1] if x.ndim == 2 else 0)),
            np.zeros(0),
            np.zeros(0, int),
            np.zeros(0, int),
        )
    if k is None:
        k = int(min(40, max(1, round(np.sqrt(n / 2)))))
    k = min(k, n)
    rng = np.random.default_rng(seed)
    sample = x[rng.choice(n, size=min(n, 20 * k + 200), replace=False)]
    centroids = [sample[rng.integers(len(sample))]]
    closest = ((sample - centroids[0]) ** 2).sum(1)
    for _ in range(1, k):
        total = closest.sum()
        pick = (
            rng.choice(len(sample), p=closest / total) if total > 0 else rng.integers(len(sample))
        )
        centroids.append(sample[pick])
        closest = np.minimum(closest, ((sample - sample[pick]) ** 2).sum(1))
    c = np.array(centroids)
    labels = np.zeros(n, dtype=int)
    for _ in range(iterations):
        labels = _distances(x, c).argmin(axis=1)
        sums = np.zeros_like(c)
        np.add.at(sums, labels, x)
        counts = np.bincount(labels, minlength=k)
        moved = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], c)
        if np.allclose(moved, c):
            break
        c = moved
    d = _distances(x, c)
    labels = d.argmin(axis=1)
    own = d[np.arange(n), labels]
    sizes = np.bincount(labels, minlength=k)
    radius = np.array(
        [
            float(np.quantile(own[labels == j], radius_quantile)) if sizes[j] else 0.0
            for j in range(k)
        ]
    )
    return PoseTypes(c, radius, sizes, labels)
