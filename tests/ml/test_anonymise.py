"""anonymise(): strangers' faces change visibly and lose identity; the rest stays put."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cheese_ml.analysis import Analyzer, Face
from cheese_ml.anonymise import REGION_GROW_H, REGION_GROW_W, AnimeModelError, anonymise

PHOTO = "sample5.jpg"  # five faces
KEEP = {0, 3}


def inner(face: Face) -> tuple[slice, slice]:
    """The middle 60% of a face box (eyes, nose, mouth)."""
    box = face.box
    return (
        slice(box.y + box.h // 5, box.y + 4 * box.h // 5),
        slice(box.x + box.w // 5, box.x + 4 * box.w // 5),
    )


def outside_all_regions(shape: tuple[int, ...], faces: list[Face]) -> np.ndarray:
    """Pixels farther from every face than its grown, feathered region can reach."""
    mask = np.ones(shape[:2], dtype=bool)
    for face in faces:
        box = face.box
        grow_x = int(box.w * (REGION_GROW_W - 1) / 2 + 0.3 * max(box.w, box.h)) + 2
        grow_y = int(box.h * (REGION_GROW_H - 1) / 2 + 0.3 * max(box.w, box.h)) + 2
        mask[
            max(0, box.y - grow_y) : box.y + box.h + grow_y,
            max(0, box.x - grow_x) : box.x + box.w + grow_x,
        ] = False
    return mask


def identity_similarity(analyzer: Analyzer, before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Cosine similarity of each face's embedding before and after, at the original landmarks."""
    detections = analyzer.detect(before)
    original = analyzer.embed(analyzer.align(before, detections)[0])
    changed = analyzer.embed(analyzer.align(after, detections)[0])
    return (original * changed).sum(axis=1)


@pytest.mark.parametrize("style", ["cartoon", "mosaic", "blur"])
def test_only_strangers_change(
    style: str, analyzer: Analyzer, analysed: dict[str, list[Face]], photos: dict[str, np.ndarray]
) -> None:
    rgb, faces = photos[PHOTO], analysed[PHOTO]
    assert len(faces) == 5
    out = anonymise(rgb, faces, keep=KEEP, style=style)
    assert out.shape == rgb.shape and out.dtype == np.uint8
    difference = np.abs(out.astype(int) - rgb.astype(int))
    for index, face in enumerate(faces):
        region_change = difference[inner(face)].mean()
        if index in KEEP:
            assert region_change == 0, f"kept face {index} changed"
        else:
            assert region_change > 12, f"face {index} barely changed ({region_change:.1f})"
    background = outside_all_regions(rgb.shape, faces)
    assert background.mean() > 0.5
    assert difference[background].max() <= 1

    similarity = identity_similarity(analyzer, rgb, out)
    strangers = [i for i in range(len(faces)) if i not in KEEP]
    assert all(similarity[i] > 0.99 for i in KEEP)
    # Same-person pairs in our photos score 0.77-0.82 (test_analysis.py); anonymised: far below.
    assert similarity[strangers].max() < 0.45, similarity


def test_cartoon_is_the_default_and_keeps_nothing_by_default(
    analysed: dict[str, list[Face]], photos: dict[str, np.ndarray]
) -> None:
    rgb, faces = photos["obama.jpg"], analysed["obama.jpg"]
    out = anonymise(rgb, faces)
    assert np.array_equal(out, anonymise(rgb, faces, keep=set(), style="cartoon"))
    assert np.abs(out[inner(faces[0])].astype(int) - rgb[inner(faces[0])].astype(int)).mean() > 12


def test_bad_arguments(analysed: dict[str, list[Face]], photos: dict[str, np.ndarray]) -> None:
    with pytest.raises(IndexError):
        anonymise(photos["obama.jpg"], analysed["obama.jpg"], keep={3})
    with pytest.raises(ValueError):
        anonymise(photos["obama.jpg"], analysed["obama.jpg"], style="sketch")  # type: ignore[arg-type]


def test_onnx_style_needs_a_configured_model(
    analysed: dict[str, list[Face]], photos: dict[str, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHEESE_ANIME_ONNX", raising=False)
    with pytest.raises(AnimeModelError, match="CHEESE_ANIME_ONNX"):
        anonymise(photos["obama.jpg"], analysed["obama.jpg"], style="onnx")
    monkeypatch.setenv("CHEESE_ANIME_ONNX", "/nonexistent/animeganv3.onnx")
    with pytest.raises(AnimeModelError, match="does not exist"):
        anonymise(photos["obama.jpg"], analysed["obama.jpg"], style="onnx")


def test_onnx_style_runs_an_operator_model(
    analysed: dict[str, list[Face]],
    photos: dict[str, np.ndarray],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The slot's plumbing with a stand-in image-to-image model (colour negative, NHWC,
    dynamic size, [-1,1] like AnimeGAN): AnimeGAN weights cannot be shipped or fetched."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Neg", ["image"], ["styled"])],
        "negative",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, "h", "w", 3])],
        [helper.make_tensor_value_info("styled", TensorProto.FLOAT, [1, "h", "w", 3])],
    )
    model_file = tmp_path / "negative.onnx"
    onnx.save(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8),
        model_file,
    )
    monkeypatch.setenv("CHEESE_ANIME_ONNX", str(model_file))
    rgb, faces = photos["obama.jpg"], analysed["obama.jpg"]
    out = anonymise(rgb, faces, style="onnx")
    centre = inner(faces[0])
    # Inside the face the output is the colour negative (within resize error).
    assert np.abs(out[centre].astype(int) - (255 - rgb[centre].astype(int))).mean() < 12
