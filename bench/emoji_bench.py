"""Benchmark of emoji faces and emoji avatars (issue 11's figures); prints one JSON object.

    .venv/bin/python bench/emoji_bench.py [--runs 30]

One thread (CHEESE_ML_THREADS=1, as in Lambda). Figures:
- task worker time: the four-cut 1200x1800 print of bench/ml_bench.py (four
  faces), from its JPEG bytes to the result JPEG: decode, analysis without
  identity embeddings, emoji pasted over the four faces, JPEG q90 encode;
- plain `analyze` (with embeddings, as bench/ml_bench.py times it) and
  `analyze(embeddings=False)` on the same bytes, interleaved with the worker
  runs so that machine load affects all three alike;
- avatar: a 320x240 JPEG webcam frame to the avatar PNG (decode, analysis,
  avatar drawn, PNG encode), wall and process CPU time.
The S3, SQS and database round trips of the function are not included.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ["CHEESE_ML_THREADS"] = "1"
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from bench.ml_bench import compose_four_cut  # noqa: E402
from cheese_ml.analysis import Analyzer  # noqa: E402
from cheese_ml.emoji import builtin_template, emoji_photo, frame_avatar  # noqa: E402
from cheese_ml.emoji_sets import manifest  # noqa: E402
from cheese_ml.fixtures import fixture_path  # noqa: E402
from cheese_ml.images import decode_image, encode_jpeg  # noqa: E402
from cheese_ml.models import fetch  # noqa: E402

WEBCAM_W, WEBCAM_H = 320, 240
# Webcam-like frames: one person, the face about 40% of the frame's height.
WEBCAM_SOURCES = ["obama.jpg", "single_face.jpg", "0-f15-hao-ph.jpg", "biden.jpg"]


def webcam_frame(analyzer: Analyzer, photo: str) -> bytes:
    rgb = decode_image(fixture_path(photo).read_bytes())
    (face,) = analyzer.analyze(rgb, embeddings=False, expressions=False)
    box = face.box
    scale = WEBCAM_H / (box.h * 2.5)
    small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    centre_x, centre_y = int((box.x + box.w / 2) * scale), int((box.y + box.h / 2) * scale)
    padded = cv2.copyMakeBorder(small, 400, 400, 400, 400, cv2.BORDER_REFLECT)
    top, left = centre_y + 400 - WEBCAM_H // 2, centre_x + 400 - WEBCAM_W // 2
    return encode_jpeg(padded[top : top + WEBCAM_H, left : left + WEBCAM_W], quality=85)


def timed(function, *args, **kwargs) -> tuple[float, float]:
    start, cpu_start = time.perf_counter(), time.process_time()
    function(*args, **kwargs)
    return time.perf_counter() - start, time.process_time() - cpu_start


def stats(values: list[float]) -> dict[str, float]:
    ms = np.asarray(values) * 1000
    return {
        "p50": round(float(np.percentile(ms, 50)), 1),
        "p95": round(float(np.percentile(ms, 95)), 1),
        "min": round(float(ms.min()), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    fetch(progress=False)
    analyzer = Analyzer(threads=1)
    analyzer.load()
    templates = {name: builtin_template(name) for name in manifest()}
    print_jpeg = encode_jpeg(compose_four_cut(analyzer), quality=90)
    frames = [webcam_frame(analyzer, photo) for photo in WEBCAM_SOURCES]

    def worker(template) -> None:
        result = emoji_photo(print_jpeg, template, analyzer=analyzer)
        encode_jpeg(result.image, quality=90)

    def avatar(frame: bytes, template) -> None:
        picture, _ = frame_avatar(frame, template, analyzer=analyzer)
        ok, _png = cv2.imencode(".png", cv2.cvtColor(picture, cv2.COLOR_RGBA2BGRA))
        assert ok

    # Warm-up: arenas allocated, every emoji rendered at the sizes used.
    for template in templates.values():
        worker(template)
        for frame in frames:
            avatar(frame, template)
    faces = emoji_photo(print_jpeg, templates["twemoji"], analyzer=analyzer).faces

    series: dict[str, list[tuple[float, float]]] = {
        "worker": [],
        "analyze": [],
        "analyze_no_embeddings": [],
        "avatar": [],
    }
    names = list(templates)
    for run in range(args.runs):
        template = templates[names[run % len(names)]]
        series["worker"].append(timed(worker, template))
        series["analyze"].append(timed(analyzer.analyze, print_jpeg))
        series["analyze_no_embeddings"].append(
            timed(analyzer.analyze, print_jpeg, embeddings=False)
        )
        for frame in frames:
            series["avatar"].append(timed(avatar, frame, template))
        print(f"run {run + 1}/{args.runs}", file=sys.stderr, flush=True)

    def figure(name: str) -> dict[str, object]:
        walls, cpus = zip(*series[name], strict=True)
        return {"wall_ms": stats(list(walls)), "cpu_ms": stats(list(cpus))}

    worker_p50 = figure("worker")["wall_ms"]["p50"]  # type: ignore[index]
    analyze_p50 = figure("analyze_no_embeddings")["wall_ms"]["p50"]  # type: ignore[index]
    result = {
        "threads": 1,
        "runs": args.runs,
        "templates": names,
        "print": {
            "width": 1200,
            "height": 1800,
            "faces": len(faces),
            "jpeg_bytes": len(print_jpeg),
        },
        "webcam_frame": {"width": WEBCAM_W, "height": WEBCAM_H, "frames": len(frames)},
        "task_worker": figure("worker"),
        "analyze": figure("analyze"),
        "analyze_no_embeddings": figure("analyze_no_embeddings"),
        "emoji_overhead_over_analysis_ms_p50": round(worker_p50 - analyze_p50, 1),
        "avatar": figure("avatar"),
        "machine": {"cpus": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2)},
        "goals": {"task_worker_p50_ms": 200, "avatar_cpu_p50_ms": 40},
    }
    print(json.dumps(result))  # one line: bench/run.py reads the last line of stdout


if __name__ == "__main__":
    main()
