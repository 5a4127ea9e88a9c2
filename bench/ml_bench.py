"""Benchmark of the ML layer on a four-cut-sized photo; prints one JSON object.

    .venv/bin/python bench/ml_bench.py [--runs 30]

Everything runs on one thread (CHEESE_ML_THREADS=1, as in Lambda). The
four-cut photo (1200x1800, a 2x2 grid of head-and-shoulders cuts of four
different people, like a photo-booth print) is composed from the real fixture
photos, encoded as JPEG, and `analyze` is timed from the JPEG bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

os.environ["CHEESE_ML_THREADS"] = "1"

import cv2
import numpy as np

from cheese_ml.analysis import Analyzer
from cheese_ml.anonymise import anonymise
from cheese_ml.fixtures import fixture_path
from cheese_ml.images import decode_image, encode_jpeg
from cheese_ml.models import fetch

PRINT_W, PRINT_H = 1200, 1800
BORDER, FOOTER = 30, 150
# One person per cut, four different people; photos with a single face, so no
# neighbour's face leaks into a cut.
CUTS = ["obama.jpg", "single_face.jpg", "0-f15-hao-ph.jpg", "biden.jpg"]

# Prices (us-east-1, x86, on-demand): Lambda duration and requests; Rekognition image APIs
# at the first pricing tier, one image per call.
LAMBDA_MEMORY_GB = 2.0
LAMBDA_PRICE_PER_GB_S = 0.0000166667
LAMBDA_PRICE_PER_REQUEST = 0.20 / 1_000_000
REKOGNITION_PRICE_PER_IMAGE_CALL = 0.001
REKOGNITION_CALLS_PER_PHOTO = 3  # DetectFaces (smile/emotion) + IndexFaces + SearchFaces


def compose_four_cut(analyzer: Analyzer) -> np.ndarray:
    """A 1200x1800 print: white paper, 2x2 cuts, a blank footer where booths put their logo."""
    canvas = np.full((PRINT_H, PRINT_W, 3), 250, dtype=np.uint8)
    cell_w = (PRINT_W - 3 * BORDER) // 2
    cell_h = (PRINT_H - FOOTER - 3 * BORDER) // 2
    for slot, photo in enumerate(CUTS):
        rgb = decode_image(fixture_path(photo).read_bytes())
        (face,) = analyzer.analyze(rgb, embeddings=False, expressions=False)
        box = face.box
        # Head and shoulders: the face takes ~45% of the cut's width.
        crop_w = box.w / 0.45
        crop_h = crop_w * cell_h / cell_w
        centre_x, top = box.x + box.w / 2, box.y - 0.35 * crop_h + box.h * 0.2
        x1, y1 = int(centre_x - crop_w / 2), int(top)
        padded = cv2.copyMakeBorder(rgb, 2000, 2000, 2000, 2000, cv2.BORDER_REFLECT)
        crop = padded[y1 + 2000 : y1 + 2000 + int(crop_h), x1 + 2000 : x1 + 2000 + int(crop_w)]
        row, column = divmod(slot, 2)
        top_px, left_px = BORDER + row * (cell_h + BORDER), BORDER + column * (cell_w + BORDER)
        canvas[top_px : top_px + cell_h, left_px : left_px + cell_w] = cv2.resize(
            crop, (cell_w, cell_h), interpolation=cv2.INTER_AREA
        )
    return canvas


def cold_load_seconds() -> dict[str, float]:
    """Import and session creation in a fresh interpreter (what a Lambda cold start pays)."""
    code = (
        "import time; t0 = time.perf_counter();"
        "from cheese_ml.analysis import Analyzer; t1 = time.perf_counter();"
        "Analyzer(threads=1).load(); t2 = time.perf_counter();"
        "print(t1 - t0, t2 - t1)"
    )
    runs = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        runs.append([float(value) for value in out.split()])
    imports, sessions = zip(*runs, strict=True)
    return {
        "import_s": round(statistics.median(imports), 3),
        "sessions_s": round(statistics.median(sessions), 3),
    }


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    fetch(progress=False)
    cold = cold_load_seconds()
    analyzer = Analyzer(threads=1)
    analyzer.load()

    photo = compose_four_cut(analyzer)
    jpeg = encode_jpeg(photo, quality=90)
    faces = analyzer.analyze(jpeg)  # warm-up (first runs allocate arenas)

    totals, cpu_totals, stages = [], [], {}
    for _ in range(args.runs):
        timings: dict[str, float] = {}
        start, cpu_start = time.perf_counter(), time.process_time()
        analyzer.analyze(jpeg, timings=timings)
        totals.append(time.perf_counter() - start)
        cpu_totals.append(time.process_time() - cpu_start)
        for stage, seconds in timings.items():
            stages.setdefault(stage, []).append(seconds)

    rgb = decode_image(jpeg)
    cartoon_times = []
    for _ in range(10):
        start = time.perf_counter()
        anonymise(rgb, faces, keep=set(), style="cartoon")
        cartoon_times.append(time.perf_counter() - start)

    p50 = percentile(totals, 50)
    lambda_cost = 1000 * (p50 * LAMBDA_MEMORY_GB * LAMBDA_PRICE_PER_GB_S + LAMBDA_PRICE_PER_REQUEST)
    rekognition_cost = 1000 * REKOGNITION_CALLS_PER_PHOTO * REKOGNITION_PRICE_PER_IMAGE_CALL
    result = {
        "image": {
            "width": PRINT_W,
            "height": PRINT_H,
            "faces_found": len(faces),
            "jpeg_bytes": len(jpeg),
        },
        "threads": 1,
        "runs": args.runs,
        "analyze_ms": {
            "p50": round(p50 * 1000, 1),
            "p95": round(percentile(totals, 95) * 1000, 1),
            "min": round(min(totals) * 1000, 1),
            "cpu_time_p50": round(percentile(cpu_totals, 50) * 1000, 1),
            "cpu_time_min": round(min(cpu_totals) * 1000, 1),
        },
        "machine": {"cpus": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2)},
        "stages_ms_p50": {
            stage: round(percentile(values, 50) * 1000, 2) for stage, values in stages.items()
        },
        "cold_load": cold,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "cartoon_anonymise_ms_p50": round(percentile(cartoon_times, 50) * 1000, 1),
        "cost_per_1000_photos_usd": {
            "lambda": round(lambda_cost, 4),
            "lambda_assumptions": f"x86, {LAMBDA_MEMORY_GB * 1024:.0f} MB, "
            f"${LAMBDA_PRICE_PER_GB_S}/GB-s, "
            "$0.20 per 1M requests, billed duration = analyze p50 "
            "(excludes S3 transfer and cold starts)",
            "rekognition": round(rekognition_cost, 2),
            "rekognition_assumptions": "$1 per 1,000 images per call x 3 calls "
            "(DetectFaces + IndexFaces + SearchFaces)",
            "rekognition_over_lambda": round(rekognition_cost / lambda_cost, 1),
        },
        "goals": {
            "analyze_p50_ms": 150,
            "cold_load_s": 1.0,
            "peak_rss_mb": 600,
            "cartoon_ms": 1000,
        },
    }
    print(json.dumps(result))  # one line: bench/run.py reads the last line of stdout


if __name__ == "__main__":
    main()
