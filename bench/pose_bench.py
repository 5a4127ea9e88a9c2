"""Benchmark of cheese_ml.poses on one core; prints one JSON object.

    .venv/bin/python bench/pose_bench.py [--runs 10]

- MoveNet Lightning and Thunder ms per four-cut print: pose() + normalise() for
  every face of a 2x2 grid of real fixture photos (one person per cut, as in a
  booth print), from the decoded image (decode/detect are `analyze`'s own cost),
  and how closely Lightning's keypoints agree with Thunder's (COCO OKS per person).
- Pose types re-learned on 100k synthetic cuts (real MoveNet poses of the
  fixtures, jittered), and the "not tried" check for one user's 40 cuts
  against the learned types (the core of the recommendation; the full route
  with its DB query is not benched yet).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ["CHEESE_ML_THREADS"] = "1"

import cv2
import numpy as np

from bench.common import log, summary_ms
from cheese_ml.analysis import Analyzer
from cheese_ml.fixtures import fetch_fixtures
from cheese_ml.images import decode_image
from cheese_ml.pose import DEFAULT_MODEL, POSE_MODELS, body_box, pose
from cheese_ml.poses import as_array, learn_pose_types, normalise, oks

PHOTOS = ("obama.jpg", "obama2.jpg", "single_face.jpg", "sample6.jpg")


def four_cut() -> np.ndarray:
    paths = fetch_fixtures(list(PHOTOS))
    cuts = [cv2.resize(decode_image(paths[name].read_bytes()), (600, 900)) for name in PHOTOS]
    return np.vstack([np.hstack(cuts[:2]), np.hstack(cuts[2:])])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--cuts", type=int, default=100_000)
    args = parser.parse_args()
    analyzer = Analyzer(threads=1)
    rgb = four_cut()
    faces = analyzer.analyze(rgb, embeddings=False, expressions=False)
    boxes = [body_box(face.box, rgb.shape) for face in faces]
    per_model: dict[str, dict[str, float]] = {}
    keypoints_of: dict[str, list[np.ndarray]] = {}
    for model in POSE_MODELS:
        pose(rgb, boxes[0], analyzer, model)  # warm the session
        timings, keypoints = [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            keypoints = [as_array(pose(rgb, box, analyzer, model)) for box in boxes]
            [normalise(k) for k in keypoints]
            timings.append(time.perf_counter() - started)
        per_model[model] = summary_ms(timings)
        # The fastest run is the figure a quiet core gives (the machine is shared).
        per_model[model]["min_ms"] = round(min(timings) * 1000, 3)
        per_model[model]["p50_ms_per_person"] = round(per_model[model]["p50_ms"] / len(boxes), 3)
        keypoints_of[model] = keypoints
        log(f"{model}: {len(boxes)} people per print, {per_model[model]}")
    agreement = [
        oks(t, li)
        for t, li in zip(
            keypoints_of["movenet_thunder"], keypoints_of["movenet_lightning"], strict=True
        )
    ]
    keypoints = keypoints_of[DEFAULT_MODEL]
    rng = np.random.default_rng(0)
    bases = np.array([normalise(k).xy for k in keypoints])
    picks = rng.integers(len(bases), size=args.cuts)
    xy = bases[picks] + rng.normal(0, 0.15, (args.cuts, 17, 2))
    norms = np.linalg.norm(xy.reshape(args.cuts, -1), axis=1, keepdims=True)
    vectors = xy.reshape(args.cuts, -1) / norms
    started = time.perf_counter()
    types = learn_pose_types(vectors)
    relearn_s = time.perf_counter() - started
    checks = []
    for _ in range(200):
        mine = vectors[rng.integers(args.cuts, size=40)]
        started = time.perf_counter()
        types.tried(mine)
        checks.append(time.perf_counter() - started)
    print(
        json.dumps(
            {
                "threads": 1,
                "people_per_print": len(boxes),
                "pose_ms_per_print": per_model,
                "default_model": DEFAULT_MODEL,
                "lightning_vs_thunder_oks": [round(a, 3) for a in agreement],
                "relearn_cuts": args.cuts,
                "relearn_types": len(types.centroids),
                "relearn_s": round(relearn_s, 2),
                "tried_check_ms_40_cuts": summary_ms(checks),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
