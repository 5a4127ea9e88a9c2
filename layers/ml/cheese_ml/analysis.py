"""One-pass face analysis: detect, align, then run the heads batched.

    faces = analyze(jpeg_bytes)                      # module-level Analyzer
    faces = analyze(rgb, embeddings=False)           # no biometric template computed

Pipeline: decode once -> CenterFace on a downscaled copy (boxes + 5 landmarks)
-> one similarity transform per face onto the ArcFace 112x112 5-point
template -> MobileFaceNet on all faces in one batch (192-d, L2-normalised)
and fer mini-Xception on all faces in one batch (7 expression
probabilities) -> per-face quality from the box, the landmarks and the
sharpness of the aligned crop.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from cheese_ml.images import decode_image
from cheese_ml.models import model_path

THREADS_ENV = "CHEESE_ML_THREADS"

EXPRESSION_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

# ArcFace's 5-point template for 112x112 crops: eye centres, nose tip, mouth corners
# (image-left first), the layout MobileFaceNet was trained on.
ARCFACE_TEMPLATE = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float64,
)
EMBEDDING_SIZE = 112
EXPRESSION_SIZE = 64
# fer's model was trained on FER2013 crops, which frame the whole head more loosely
# than ArcFace's template; the template is shrunk by this factor around the crop
# centre for the expression crop (chosen on the labelled photos, see README).
EXPRESSION_TEMPLATE_SCALE = 0.80

# Detection runs on a copy whose longer side is at most this many pixels: the cost
# is proportional to that area, not the photo's. CenterFace finds faces down to
# ~12 px, so at 640 a face spanning 1/50 of the photo's longer side is still found
# (every face of a four-cut print or a group photo); pass a larger
# `detect_max_side` for crowds (anonymising strangers in the background).
DETECT_MAX_SIDE = 640
DETECT_THRESHOLD = 0.5
NMS_IOU = 0.3

# Quality thresholds for `usable_for_clustering` (see README, "Face quality").
MIN_FACE_SIDE = 40  # px in the original photo, shorter side of the box
MIN_SHARPNESS = 60.0  # variance of the Laplacian of the 112x112 grey aligned crop
MAX_ABS_YAW = 40.0  # degrees
MAX_ABS_PITCH = 35.0  # degrees
MIN_DETECTION_SCORE = 0.7
# Depth of the nose tip in front of the eye plane, in units of the inter-ocular
# distance (anthropometric average ~0.55), used to turn landmark offsets into angles.
NOSE_DEPTH_RATIO = 0.55


@dataclass(frozen=True)
class Box:
    """Face box in pixels of the (EXIF-upright) photo, clipped to it."""

    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class FaceQuality:
    """How fit a face is for identity clustering.

    face_size: shorter side of the box in pixels. sharpness: variance of the
    Laplacian of the grey 112x112 aligned crop (higher is sharper; the crop
    has a fixed scale, so values compare across photos). yaw/pitch/roll:
    head pose in degrees estimated from the 5 landmarks (roll exact up to
    landmark error, yaw and pitch approximate: see README).
    """

    face_size: int
    sharpness: float
    yaw: float
    pitch: float
    roll: float
    usable_for_clustering: bool


@dataclass(frozen=True, eq=False)
class Face:
    box: Box
    landmarks: tuple[
        tuple[float, float], ...
    ]  # left eye, right eye, nose, left mouth, right mouth (image-left first)
    detection_score: float
    quality: FaceQuality
    embedding: np.ndarray | None  # float32 (192,), L2-normalised
    expression: dict[str, float] | None  # the 7 EXPRESSION_LABELS -> probability, sums to 1
    smile: float | None  # 0-100, 100 x P(happy)


@dataclass(frozen=True)
class Detection:
    box_xyxy: np.ndarray  # float (4,) in photo pixels
    score: float
    landmarks: np.ndarray  # float (5, 2) in photo pixels


def similarity_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, shift) mapping source to target points.

    Umeyama's closed form; returns the 2x3 matrix for cv2.warpAffine.
    """
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    source_centered, target_centered = source - source_mean, target - target_mean
    covariance = target_centered.T @ source_centered / len(source)
    u, singular, vt = np.linalg.svd(covariance)
    reflection = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        reflection[1, 1] = -1
    rotation = u @ reflection @ vt
    scale = np.trace(np.diag(singular) @ reflection) / source_centered.var(axis=0).sum()
    shift = target_mean - scale * rotation @ source_mean
    return np.hstack([scale * rotation, shift[:, None]])


def _expression_template() -> np.ndarray:
    centre = np.array([EMBEDDING_SIZE / 2, EMBEDDING_SIZE / 2])
    shrunk = centre + (ARCFACE_TEMPLATE - centre) * EXPRESSION_TEMPLATE_SCALE
    template: np.ndarray = shrunk * (EXPRESSION_SIZE / EMBEDDING_SIZE)
    return template


EXPRESSION_TEMPLATE = _expression_template()


def head_pose(landmarks: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from 5 landmarks.

    Roll is the angle of the eye line. The landmarks are then de-rotated;
    yaw comes from the nose's horizontal offset from the eye/mouth midline
    and pitch from its vertical position between the eye and mouth lines
    compared with the frontal template, both divided by the nose depth.
    """
    left_eye, right_eye, _nose, _left_mouth, _right_mouth = landmarks
    eye_vector = right_eye - left_eye
    roll = math.degrees(math.atan2(eye_vector[1], eye_vector[0]))
    cos_r, sin_r = math.cos(math.radians(-roll)), math.sin(math.radians(-roll))
    rotation = np.array([[cos_r, -sin_r], [sin_r, cos_r]])
    upright = (landmarks - landmarks.mean(axis=0)) @ rotation.T
    eye_mid = (upright[0] + upright[1]) / 2
    mouth_mid = (upright[3] + upright[4]) / 2
    inter_ocular = max(float(np.linalg.norm(upright[1] - upright[0])), 1e-6)
    nose_depth = NOSE_DEPTH_RATIO * max(inter_ocular, float(np.linalg.norm(mouth_mid - eye_mid)))
    midline_x = (eye_mid[0] + mouth_mid[0]) / 2
    yaw = math.degrees(math.atan2(upright[2][0] - midline_x, nose_depth))
    template_ratio = (ARCFACE_TEMPLATE[2, 1] - ARCFACE_TEMPLATE[:2, 1].mean()) / (
        ARCFACE_TEMPLATE[3:, 1].mean() - ARCFACE_TEMPLATE[:2, 1].mean()
    )
    eye_to_mouth = max(mouth_mid[1] - eye_mid[1], 1e-6)
    expected_nose_y = eye_mid[1] + template_ratio * eye_to_mouth
    pitch = math.degrees(math.atan2(expected_nose_y - upright[2][1], nose_depth))
    return yaw, pitch, roll


def _threads() -> int:
    return max(1, int(os.environ.get(THREADS_ENV, "1")))


class Analyzer:
    """Holds the onnxruntime sessions; create one per process and reuse it.

    Sessions are created lazily on first use (or all at once with `load()`)
    with the CPU provider and explicit thread counts (env CHEESE_ML_THREADS,
    default 1: a 2 GB Lambda has little more than one vCPU, throughput comes
    from concurrent invocations, and an explicit count avoids onnxruntime probing
    the CPU topology, which has crashed it at start on arm64 Lambda).
    """

    def __init__(
        self,
        models_dir: Path | None = None,
        threads: int | None = None,
        detect_max_side: int = DETECT_MAX_SIDE,
    ) -> None:
        self.models_dir = models_dir
        self.detect_max_side = detect_max_side
        self.threads = threads if threads is not None else _threads()
        # OpenCV's resize/warp thread pool is process-wide; size it like onnxruntime's so
        # that "one thread" (as on a 1-vCPU Lambda) really is one.
        cv2.setNumThreads(self.threads)
        self._sessions: dict[str, ort.InferenceSession] = {}
        self._lock = threading.Lock()

    def session(self, name: str) -> ort.InferenceSession:
        """The onnxruntime session of manifest model `name`, created on first use."""
        session = self._sessions.get(name)
        if session is None:
            with self._lock:
                session = self._sessions.get(name)
                if session is None:
                    options = ort.SessionOptions()
                    options.intra_op_num_threads = self.threads
                    options.inter_op_num_threads = self.threads
                    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
                    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                    options.log_severity_level = 3
                    session = ort.InferenceSession(
                        str(model_path(name, self.models_dir)),
                        options,
                        providers=["CPUExecutionProvider"],
                    )
                    self._sessions[name] = session
        return session

    def load(self) -> None:
        """Create every session now (to move the cost out of the first request)."""
        for name in ("centerface", "mobilefacenet", "fer_mini_xception"):
            self.session(name)

    # -- stages -----------------------------------------------------------------

    def detect(self, rgb: np.ndarray, threshold: float = DETECT_THRESHOLD) -> list[Detection]:
        """CenterFace on a copy downscaled to `detect_max_side` and padded to multiples of 32."""
        height, width = rgb.shape[:2]
        scale = min(1.0, self.detect_max_side / max(height, width))
        scaled_w, scaled_h = max(1, round(width * scale)), max(1, round(height * scale))
        small = (
            rgb
            if scale == 1.0
            else cv2.resize(rgb, (scaled_w, scaled_h), interpolation=cv2.INTER_AREA)
        )
        padded_h, padded_w = -(-scaled_h // 32) * 32, -(-scaled_w // 32) * 32
        blob = np.zeros((1, 3, padded_h, padded_w), dtype=np.float32)
        blob[0, :, :scaled_h, :scaled_w] = small.transpose(2, 0, 1)
        heatmap, log_scale, offset, landmark = self.session("centerface").run(
            None, {"input.1": blob}
        )

        rows, cols = np.nonzero(heatmap[0, 0] > threshold)
        if len(rows) == 0:
            return []
        scores = heatmap[0, 0, rows, cols]
        box_h = np.exp(log_scale[0, 0, rows, cols]) * 4
        box_w = np.exp(log_scale[0, 1, rows, cols]) * 4
        centre_y = (rows + offset[0, 0, rows, cols] + 0.5) * 4
        centre_x = (cols + offset[0, 1, rows, cols] + 0.5) * 4
        x1 = np.clip(centre_x - box_w / 2, 0, scaled_w)
        y1 = np.clip(centre_y - box_h / 2, 0, scaled_h)
        x2 = np.clip(x1 + box_w, 0, scaled_w)
        y2 = np.clip(y1 + box_h, 0, scaled_h)
        points = np.stack(
            [
                np.stack(
                    [
                        landmark[0, 2 * k + 1, rows, cols] * box_w + x1,
                        landmark[0, 2 * k, rows, cols] * box_h + y1,
                    ],
                    axis=1,
                )
                for k in range(5)
            ],
            axis=1,
        )  # (n, 5, 2)
        keep = cv2.dnn.NMSBoxes(
            np.stack([x1, y1, x2 - x1, y2 - y1], axis=1).tolist(),
            scores.tolist(),
            threshold,
            NMS_IOU,
        )
        kept = np.asarray(keep, dtype=int).reshape(-1)
        return [
            Detection(
                box_xyxy=np.array([x1[i], y1[i], x2[i], y2[i]], dtype=np.float64) / scale,
                score=float(scores[i]),
                landmarks=points[i].astype(np.float64) / scale,
            )
            for i in kept[np.argsort(-scores[kept])]
        ]

    @staticmethod
    def align(rgb: np.ndarray, detections: list[Detection]) -> tuple[np.ndarray, np.ndarray]:
        """Aligned crops: (n,112,112,3) RGB for identity, (n,64,64) grey for expression."""
        identity = np.empty((len(detections), EMBEDDING_SIZE, EMBEDDING_SIZE, 3), dtype=np.uint8)
        expression = np.empty((len(detections), EXPRESSION_SIZE, EXPRESSION_SIZE), dtype=np.uint8)
        for index, detection in enumerate(detections):
            matrix = similarity_transform(detection.landmarks, ARCFACE_TEMPLATE)
            identity[index] = cv2.warpAffine(
                rgb,
                matrix,
                (EMBEDDING_SIZE, EMBEDDING_SIZE),
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REPLICATE,
            )
            matrix = similarity_transform(detection.landmarks, EXPRESSION_TEMPLATE)
            crop = cv2.warpAffine(
                rgb,
                matrix,
                (EXPRESSION_SIZE, EXPRESSION_SIZE),
                flags=cv2.INTER_AREA,
                borderMode=cv2.BORDER_REPLICATE,
            )
            expression[index] = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
        return identity, expression

    def embed(self, aligned_rgb: np.ndarray) -> np.ndarray:
        """(n,112,112,3) uint8 -> (n,192) float32, L2-normalised."""
        batch = (aligned_rgb.astype(np.float32).transpose(0, 3, 1, 2) - 127.5) / 128.0
        raw = self.session("mobilefacenet").run(None, {"input": batch})[0]
        norms = np.linalg.norm(raw, axis=1, keepdims=True).clip(min=1e-12)
        embeddings: np.ndarray = (raw / norms).astype(np.float32)
        return embeddings

    def expressions(self, aligned_grey: np.ndarray) -> np.ndarray:
        """(n,64,64) uint8 -> (n,7) probabilities in EXPRESSION_LABELS order."""
        batch = (aligned_grey.astype(np.float32)[:, None] / 255.0 - 0.5) * 2.0
        probabilities: np.ndarray = self.session("fer_mini_xception").run(None, {"input_1": batch})[
            0
        ]
        return probabilities

    @staticmethod
    def quality(detection: Detection, aligned_rgb: np.ndarray) -> FaceQuality:
        x1, y1, x2, y2 = detection.box_xyxy
        face_size = round(min(x2 - x1, y2 - y1))
        grey = cv2.cvtColor(aligned_rgb, cv2.COLOR_RGB2GRAY)
        sharpness = float(cv2.Laplacian(grey, cv2.CV_64F).var())
        yaw, pitch, roll = head_pose(detection.landmarks)
        usable = (
            face_size >= MIN_FACE_SIDE
            and sharpness >= MIN_SHARPNESS
            and abs(yaw) <= MAX_ABS_YAW
            and abs(pitch) <= MAX_ABS_PITCH
            and detection.score >= MIN_DETECTION_SCORE
        )
        return FaceQuality(
            face_size, round(sharpness, 1), round(yaw, 1), round(pitch, 1), round(roll, 1), usable
        )

    # -- the one-pass API -----------------------------------------------------------

    def analyze(
        self,
        image: bytes | np.ndarray,
        *,
        embeddings: bool = True,
        expressions: bool = True,
        timings: dict[str, float] | None = None,
    ) -> list[Face]:
        """Every face in the photo, largest detection score first.

        `embeddings=False` never runs the identity model (for users without
        consent to face grouping); `expressions=False` skips the expression
        head and the smile score. `timings`, if given, receives seconds per
        stage: decode, detect, align, embedding, expression, quality.
        """
        stage_times = timings if timings is not None else {}

        @contextmanager
        def stage(name: str) -> Iterator[None]:
            start = time.perf_counter()
            yield
            stage_times[name] = time.perf_counter() - start

        with stage("decode"):
            rgb = decode_image(image) if isinstance(image, bytes | bytearray) else as_rgb(image)
        with stage("detect"):
            detections = self.detect(rgb)
        with stage("align"):
            identity_crops, expression_crops = self.align(rgb, detections)
        with stage("embedding"):
            vectors = self.embed(identity_crops) if embeddings and detections else None
        with stage("expression"):
            probabilities = (
                self.expressions(expression_crops) if expressions and detections else None
            )
        with stage("quality"):
            qualities = [self.quality(d, identity_crops[i]) for i, d in enumerate(detections)]

        height, width = rgb.shape[:2]
        faces = []
        for index, detection in enumerate(detections):
            expression = (
                {
                    label: float(p)
                    for label, p in zip(EXPRESSION_LABELS, probabilities[index], strict=True)
                }
                if probabilities is not None
                else None
            )
            faces.append(
                Face(
                    box=_clipped_box(detection.box_xyxy, width, height),
                    landmarks=tuple((float(x), float(y)) for x, y in detection.landmarks),
                    detection_score=detection.score,
                    quality=qualities[index],
                    embedding=vectors[index].copy() if vectors is not None else None,
                    expression=expression,
                    smile=round(100.0 * expression["happy"], 1) if expression is not None else None,
                )
            )
        return faces


def as_rgb(image: np.ndarray) -> np.ndarray:
    """Validate an in-memory image: RGB uint8 (H,W,3), or grey (H,W) which is expanded."""
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {image.dtype}")
    if image.ndim == 2:
        return np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB image of shape (H, W, 3), got {image.shape}")
    return image


def _clipped_box(box_xyxy: np.ndarray, width: int, height: int) -> Box:
    x1 = int(np.clip(np.floor(box_xyxy[0]), 0, width - 1))
    y1 = int(np.clip(np.floor(box_xyxy[1]), 0, height - 1))
    x2 = int(np.clip(np.ceil(box_xyxy[2]), x1 + 1, width))
    y2 = int(np.clip(np.ceil(box_xyxy[3]), y1 + 1, height))
    return Box(x1, y1, x2 - x1, y2 - y1)


_default_analyzer: Analyzer | None = None
_default_lock = threading.Lock()


def default_analyzer() -> Analyzer:
    """The process-wide Analyzer (sessions survive across Lambda invocations)."""
    global _default_analyzer
    if _default_analyzer is None:
        with _default_lock:
            if _default_analyzer is None:
                _default_analyzer = Analyzer()
    return _default_analyzer


def analyze(
    image: bytes | np.ndarray, *, embeddings: bool = True, expressions: bool = True
) -> list[Face]:
    """Analyse every face in a photo with the process-wide Analyzer (see Analyzer.analyze)."""
    return default_analyzer().analyze(image, embeddings=embeddings, expressions=expressions)
