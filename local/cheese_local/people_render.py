"""``cheese people DIR``: group the faces of a folder of photos into people and draw them.

Runs the production pieces outside any stack: ``cheese_ml.analyze`` on each
photo, ``clustering.recluster`` on the usable faces, and writes one image
with a row of face crops per person (unclustered faces in a last row), so a
person can see what the grouping did.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
MAX_FACES_PER_ROW = 12


def progress(done: int, total: int, started: float, label: str) -> None:
    width = 30
    filled = int(width * done / total) if total else width
    rate = done / max(time.monotonic() - started, 1e-6)
    eta = (total - done) / rate if rate else 0
    sys.stderr.write(
        f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label[:30]:30} eta {eta:4.0f}s"
    )
    sys.stderr.flush()
    if done == total:
        sys.stderr.write("\n")


def render_people(photo_dir: Path, out: Path) -> dict[str, int]:
    from cheese_ml.analysis import analyze
    from cheese_ml.images import ImageError, decode_image
    from cheese_ml.render import crop_face, face_grid
    from functions.photos.clustering import ClusterParams, FaceRecord, recluster

    paths = sorted(p for p in photo_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise SystemExit(f"no photos in {photo_dir}")
    records: list[FaceRecord] = []
    crops: dict[str, np.ndarray] = {}
    skipped = 0
    started = time.monotonic()
    for done, path in enumerate(paths, start=1):
        try:
            rgb = decode_image(path.read_bytes())
        except ImageError as error:
            sys.stderr.write(f"\nskipping {path.name}: {error.code}\n")
            skipped += 1
            continue
        for index, face in enumerate(analyze(rgb, expressions=False)):
            face_id = f"{path.name}#{index}"
            crops[face_id] = crop_face(rgb, face.box, size=96)
            if face.quality.usable_for_clustering and face.embedding is not None:
                records.append(FaceRecord(face_id, path.name, face.embedding, None))
        progress(done, len(paths), started, path.name)
    counter = iter(range(1, 1_000_000))
    persons = recluster(records, ClusterParams(), lambda: f"person {next(counter)}")
    rows: dict[str, list[str]] = {}
    for face_id, person in sorted(persons.items()):
        rows.setdefault(person or "~unclustered", []).append(face_id)
    unusable = [face_id for face_id in crops if face_id not in persons]
    if unusable:
        rows.setdefault("~too small or blurred", []).extend(unusable)
    ordered = sorted(
        rows.items(), key=lambda item: (item[0].startswith("~"), -len(item[1]), item[0])
    )
    blank = np.full((96, 96, 3), 255, np.uint8)
    tiles, labels = [], []
    for person, face_ids in ordered:
        for start in range(0, len(face_ids), MAX_FACES_PER_ROW):
            members = face_ids[start : start + MAX_FACES_PER_ROW]
            tiles += [crops[f] for f in members] + [blank] * (MAX_FACES_PER_ROW - len(members))
            labels += [person.lstrip("~") if start == 0 else ""] + [""] * (MAX_FACES_PER_ROW - 1)
    grid = face_grid(tiles, columns=MAX_FACES_PER_ROW, labels=labels)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    people = sum(1 for person in rows if not person.startswith("~"))
    return {"photos": len(paths) - skipped, "faces": len(crops), "people": people}
