"""Video anonymisation, us vs deface 1.5.0, on the same clips in the same run.

    .venv/bin/python bench/video_bench.py      # one JSON object on stdout, progress on stderr

Clips (composed from registry clips, see cheese_ml.video_clips): two people side
by side at 960x360 and at 1280x720 (franck kept, the single_face.mp4 man a
stranger), and two face photos moving fast over cap13's man (obama kept, biden
and the man strangers). Both tools run as command-line programs pinned to one
core (`taskset -c 0`, one thread), start-up included. deface keeps nobody and
runs with its defaults plus `--ep CPUExecutionProvider`; it needs opencv-python,
which conflicts with our opencv-python-headless, so it gets its own virtualenv
under ~/.cache/cheese/ (created here, pinned). The independent judge (OpenCV
Haar cascades, not CenterFace) scores both outputs: leaks, flicker, kept faces
untouched (PSNR > 40 dB), audio kept. A detection-threshold sweep (CenterFace
alone) backs VIDEO_DETECT_THRESHOLD.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import av
import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path.home() / ".cache" / "cheese"
DEFACE_VENV = CACHE / "deface-1.5.0-venv"
# deface and the versions its dependencies resolved to on 1 Dec 2026, plus onnxruntime
# for --ep (deface falls back to OpenCV's DNN without it).
DEFACE_PINS = [
    "deface==1.5.0",
    "onnxruntime==1.31.1",
    "opencv-python==5.0.0.93",
    "numpy==2.4.6",
    "imageio==2.38.2",
    "imageio-ffmpeg==0.8.1",
    "scikit-image==0.26.0",
    "scipy==1.17.1",
    "tqdm==4.70.1",
    "pillow==13.0.0",
]
FRANCK_PHOTOS = ("franck_01829.jpg", "franck_02888.jpg", "franck_04117.jpg")
OBAMA_PHOTOS = ("obama2.jpg", "obama3.jpg")
THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5)


def log(message: str) -> None:
    print(f"[video-bench] {message}", file=sys.stderr, flush=True)


def deface_executable() -> Path:
    marker = DEFACE_VENV / ".pins"
    executable = DEFACE_VENV / "bin" / "deface"
    if marker.is_file() and marker.read_text() == "\n".join(DEFACE_PINS) and executable.is_file():
        return executable
    log(f"creating {DEFACE_VENV} with {', '.join(DEFACE_PINS)}")
    shutil.rmtree(DEFACE_VENV, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(DEFACE_VENV)], check=True)
    subprocess.run(
        [
            str(DEFACE_VENV / "bin" / "pip"),
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *DEFACE_PINS,
        ],
        check=True,
    )
    marker.write_text("\n".join(DEFACE_PINS))
    return executable


def one_core_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        CHEESE_ML_THREADS="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1"
    )
    env["PYTHONPATH"] = os.pathsep.join(
        str(ROOT / p) for p in ("layers/runtime", "layers/ml", "local", ".")
    )
    return env


def timed(command: list[str]) -> float:
    started = time.monotonic()
    result = subprocess.run(
        ["taskset", "-c", "0", *command],
        check=False,
        env=one_core_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if result.returncode:
        raise RuntimeError(f"{command[0]} failed: {result.stderr[-2000:]}")
    return time.monotonic() - started


def audio_kept(source: Path, output: Path) -> bool:
    def packets(path: Path) -> list[bytes]:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                return []
            return [bytes(p) for p in container.demux(container.streams.audio[0]) if p.size]

    before = packets(source)
    return bool(before) and packets(output) == before


def scores(verdict, source: Path, output: Path, seconds: float, frames: int) -> dict:
    return {
        "leak_frames": verdict.leak_frames,
        "hidden_face_frames_seen_in_input": verdict.hidden_visible_frames,
        "flicker_frames": verdict.flicker_frames,
        "kept_untouched": None
        if verdict.kept_untouched is None
        else round(verdict.kept_untouched, 4),
        "seconds": round(seconds, 2),
        "fps": round(frames / seconds, 2),
        "audio_kept": audio_kept(source, output),
        "labels": {
            label: {
                "seen_in_input": v.visible_frames,
                "leaks": len(v.leak_frames),
                "flicker": len(v.flicker_frames),
                **({"untouched": v.untouched_frames} if label in verdict.kept else {}),
            }
            for label, v in verdict.labels.items()
        },
    }


def threshold_sweep(clips: dict[str, tuple[Path, object]]) -> dict:
    """CenterFace alone at each threshold: frames where a known face is missed, extra boxes."""
    from cheese_ml.analysis import Analyzer
    from cheese_ml.fixtures import fixture_path
    from cheese_ml.tracking import iou
    from cheese_ml.video_io import read_frames

    analyzer = Analyzer()
    sweep = {
        str(t): {"missed_face_frames": 0, "face_frames": 0, "extra_boxes": 0} for t in THRESHOLDS
    }
    frames_seen = 0
    for name, (path, truth) in clips.items():
        for frame in read_frames(path):
            regions = truth.regions(frame.index)
            faces = {k: r for k, r in regions.items() if k not in ("left", "right", "background")}
            found = analyzer.detect(frame.rgb, threshold=min(THRESHOLDS))
            frames_seen += 1
            for t in THRESHOLDS:
                boxes = [tuple(d.box_xyxy) for d in found if d.score >= t]
                entry = sweep[str(t)]
                # pasted photos: the face is inside its known square
                for region in faces.values():
                    entry["face_frames"] += 1
                    if not any(iou(b, region) > 0.1 for b in boxes):
                        entry["missed_face_frames"] += 1
                if name.startswith("two_people"):  # exactly one face per half
                    for half in ("left", "right"):
                        r = regions[half]
                        inside = [b for b in boxes if r[0] <= (b[0] + b[2]) / 2 < r[2]]
                        entry["face_frames"] += 1
                        entry["missed_face_frames"] += not inside
                        entry["extra_boxes"] += max(0, len(inside) - 1)
    for frame in read_frames(fixture_path("no_face.mp4")):
        found = analyzer.detect(frame.rgb, threshold=min(THRESHOLDS))
        frames_seen += 1
        for t in THRESHOLDS:
            sweep[str(t)]["extra_boxes"] += sum(d.score >= t for d in found)
    return {"frames": frames_seen, "by_threshold": sweep}


def main() -> int:
    sys.path[:0] = [str(ROOT / p) for p in ("layers/ml", "local")]
    from cheese_ml.analysis import Analyzer
    from cheese_ml.fixtures import fixture_path
    from cheese_ml.images import decode_image
    from cheese_ml.models import fetch
    from cheese_ml.video_clips import MovingFace, moving_faces, side_by_side
    from cheese_ml.video_judge import HaarJudge, judge

    fetch(progress=False)
    work = CACHE / "bench-video"
    work.mkdir(parents=True, exist_ok=True)
    analyzer = Analyzer()

    def crop(name: str, side: int = 150) -> np.ndarray:
        rgb = decode_image(fixture_path(name).read_bytes())
        face = max(analyzer.analyze(rgb, expressions=False), key=lambda f: f.box.w)
        cx, cy, half = face.box.x + face.box.w / 2, face.box.y + face.box.h / 2, face.box.w * 0.9
        part = rgb[int(max(0, cy - half)) : int(cy + half), int(max(0, cx - half)) : int(cx + half)]
        return cv2.resize(part, (side, side), interpolation=cv2.INTER_AREA)

    log("composing clips")
    franck, single = fixture_path("franck.mp4"), fixture_path("single_face.mp4")
    clips = {
        "two_people_360p": (
            work / "two_people_360p.mp4",
            side_by_side(franck, single, work / "two_people_360p.mp4", (960, 360), 96),
            {"right"},
            {"left"},
            FRANCK_PHOTOS,
        ),
        "two_people_720p": (
            work / "two_people_720p.mp4",
            side_by_side(franck, single, work / "two_people_720p.mp4", (1280, 720), 120),
            {"right"},
            {"left"},
            FRANCK_PHOTOS,
        ),
        "moving_faces": (
            work / "moving_faces.mp4",
            moving_faces(
                fixture_path("cap13_edit2.mp4"),
                [
                    MovingFace("biden", crop("biden.jpg"), (500, 300), (17, 11)),
                    MovingFace("obama", crop("obama.jpg"), (50, 50), (-13, 9)),
                ],
                work / "moving_faces.mp4",
            ),
            {"biden", "background"},
            {"obama"},
            OBAMA_PHOTOS,
        ),
    }
    deface = deface_executable()
    haar = HaarJudge()
    results: dict[str, dict] = {}
    for name, (source, truth, hidden, kept, photos) in clips.items():
        ours_out, deface_out = work / f"{name}.ours.mp4", work / f"{name}.deface.mp4"
        log(f"{name}: ours")
        keep = ["--keep", *(str(fixture_path(p)) for p in photos)]
        ours_seconds = timed(
            [sys.executable, "-m", "cheese_local.cli", "anonymise", str(source), *keep,
             "--out", str(ours_out), "--style", "mosaic"]
        )  # fmt: skip
        log(f"{name}: deface")
        deface_seconds = timed(
            [str(deface), str(source), "-o", str(deface_out), "--ep", "CPUExecutionProvider"]
        )
        log(f"{name}: judging")
        results[name] = {
            "frames": truth.frames,
            "size": list(truth.size),
            "ours": scores(
                judge(source, ours_out, truth, hidden, kept, haar),
                source,
                ours_out,
                ours_seconds,
                truth.frames,
            ),
            "deface": scores(
                judge(source, deface_out, truth, hidden, kept, haar),
                source,
                deface_out,
                deface_seconds,
                truth.frames,
            ),
        }
    log("threshold sweep")
    sweep = threshold_sweep({name: (c[0], c[1]) for name, c in clips.items()})
    ours_leaks = sum(r["ours"]["leak_frames"] for r in results.values())
    deface_leaks = sum(r["deface"]["leak_frames"] for r in results.values())
    hd = results["two_people_720p"]
    summary = {
        "leaks_ours": ours_leaks,
        "leaks_deface": deface_leaks,
        "leaks_goal_met": ours_leaks == 0 and ours_leaks * 3 <= deface_leaks,
        "flicker_ours": sum(r["ours"]["flicker_frames"] for r in results.values()),
        "flicker_deface": sum(r["deface"]["flicker_frames"] for r in results.values()),
        "kept_untouched_ours": {n: r["ours"]["kept_untouched"] for n, r in results.items()},
        "kept_untouched_deface": {n: r["deface"]["kept_untouched"] for n, r in results.items()},
        "fps_720p_one_core_ours": hd["ours"]["fps"],
        "fps_720p_one_core_deface": hd["deface"]["fps"],
        "speedup_720p": round(hd["ours"]["fps"] / hd["deface"]["fps"], 2),
        "audio_kept_ours": all(r["ours"]["audio_kept"] for r in results.values()),
        "audio_kept_deface": all(r["deface"]["audio_kept"] for r in results.values()),
        "load_average": [round(v, 2) for v in os.getloadavg()],
    }
    print(json.dumps({"summary": summary, "clips": results, "threshold_sweep": sweep}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
