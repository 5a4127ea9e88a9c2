"""`cheese people DIR` draws the people it finds in a folder of real photos."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2

from cheese_local.cli import main


def test_people_of_a_folder_are_rendered_to_an_image(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    from cheese_ml.fixtures import fixture_path

    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg"):
        shutil.copy(fixture_path(name), photos / name)
    (photos / "notes.txt").write_text("not a photo")
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff truncated")
    out = tmp_path / "people.png"
    assert main(["people", str(photos), "--out", str(out)]) == 0
    summary = capsys.readouterr().out
    assert "4 photos, 4 faces, 1 people" in summary
    image = cv2.imread(str(out))
    assert (
        image is not None and image.shape[0] >= 96 * 2
    )  # a row for him, a row for the unclustered face
