"""Emoji faces on real photos: every face hidden under the emoji its expression picks,
and avatars drawn without a pixel of the webcam frame."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from cheese_ml import emoji_sets
from cheese_ml.analysis import EXPRESSION_LABELS, Analyzer, Box, Face, FaceQuality
from cheese_ml.emoji import (
    AVATAR_BACKGROUND,
    EmojiTemplate,
    builtin_template,
    covering_problem,
    emoji_faces,
    emoji_photo,
    frame_avatar,
    opaque_core,
    render_avatar,
    render_svg,
)
from cheese_ml.images import ImageError, decode_image, encode_jpeg
from cheese_ml.registry import sha256_of
from tests.ml.conftest import GROUP_PHOTO_FACES

TEMPLATES = sorted(emoji_sets.manifest())
POSED = {"0-f1-su-ph.jpg": "surprise", "0-f15-hao-ph.jpg": "happy", "15-f13-anc-ph.jpg": "angry"}


@pytest.fixture(scope="session")
def templates(model_paths: dict[str, Path]) -> dict[str, EmojiTemplate]:
    # model_paths runs cheese_ml.models.fetch, which fetches the emoji sets too.
    return {name: builtin_template(name) for name in TEMPLATES}


def test_builtin_sets_are_pinned_licensed_and_attributed(
    templates: dict[str, EmojiTemplate],
) -> None:
    assert len(templates) >= 2
    for name, spec in emoji_sets.manifest().items():
        assert [f.expression for f in spec.files] == list(EXPRESSION_LABELS)
        assert all(f.sha256 and len(f.sha256) == 64 for f in spec.files)
        assert "openmoji" not in spec.licence.lower() and "SA" not in spec.licence.split()
        assert spec.title in templates[name].attribution
        for expression, path in emoji_sets.svg_paths(name).items():
            assert sha256_of(path) == spec.files[EXPRESSION_LABELS.index(expression)].sha256
    assert "Twemoji" in templates["twemoji"].attribution
    assert "CC-BY 4.0" in templates["twemoji"].attribution


def test_a_damaged_emoji_file_is_refused_and_fetched_again(
    model_paths: dict[str, Path], tmp_path: Path
) -> None:
    cache = tmp_path / "models"
    source = emoji_sets.set_dir("twemoji")
    (cache / "emoji").mkdir(parents=True)
    target = cache / "emoji" / "twemoji"
    target.mkdir()
    for path in source.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    (target / "happy.svg").write_bytes(b"<svg/>")
    with pytest.raises(emoji_sets.ChecksumError):
        emoji_sets.svg_paths("twemoji", cache)
    paths = emoji_sets.fetch(cache, progress=False)
    assert sha256_of(paths["twemoji"]["happy"]) == sha256_of(source / "happy.svg")


def _covered_everywhere(
    rgb: np.ndarray, faces: list[Face], template: EmojiTemplate
) -> tuple[np.ndarray, list]:
    """Render on the photo and on its negative: inside every box the two must agree, so
    no pixel of the photo is left there; return the rendering on the photo."""
    on_photo, placements = emoji_faces(rgb, faces, template)
    on_negative, _ = emoji_faces(255 - rgb, faces, template)
    for face in faces:
        b = face.box
        inside = (slice(b.y, b.y + b.h), slice(b.x, b.x + b.w))
        assert np.array_equal(on_photo[inside], on_negative[inside]), f"photo shows in {b}"
    return on_photo, placements


@pytest.mark.parametrize("template_name", TEMPLATES)
@pytest.mark.parametrize("photo", [*GROUP_PHOTO_FACES, *POSED])
def test_every_face_box_is_covered_by_the_emoji_chosen_for_it(
    template_name: str,
    photo: str,
    templates: dict[str, EmojiTemplate],
    photos: dict[str, np.ndarray],
    analysed: dict[str, list[Face]],
    analyzer: Analyzer,
) -> None:
    template, rgb, faces = templates[template_name], photos[photo], analysed[photo]
    assert faces
    output, placements = _covered_everywhere(rgb, faces, template)
    for face, placement in zip(faces, placements, strict=True):
        assert placement.expression == max(face.expression, key=face.expression.get)
        # Alone on a blank image, the chosen emoji paints the same pixels at the face centre
        # (a nearer face's emoji may overlap the edge of a box, never its middle here).
        alone, _ = emoji_faces(np.zeros_like(rgb), [face], template)
        b = face.box
        middle = (
            slice(b.y + b.h // 3, b.y + 2 * b.h // 3),
            slice(b.x + b.w // 3, b.x + 2 * b.w // 3),
        )
        assert np.array_equal(output[middle], alone[middle])
    # The face detector no longer finds a face where any face was.
    for detection in analyzer.detect(output):
        x1, y1, x2, y2 = detection.box_xyxy
        centre_x, centre_y = (x1 + x2) / 2, (y1 + y2) / 2
        assert not any(
            f.box.x <= centre_x < f.box.x + f.box.w and f.box.y <= centre_y < f.box.y + f.box.h
            for f in faces
        )


@pytest.mark.parametrize("photo", sorted(POSED))
def test_posed_expressions_get_their_emoji(
    photo: str,
    templates: dict[str, EmojiTemplate],
    photo_paths: dict[str, Path],
    analyzer: Analyzer,
) -> None:
    for template in templates.values():
        result = emoji_photo(photo_paths[photo].read_bytes(), template, analyzer=analyzer)
        (placement,) = result.placements
        assert placement.expression == POSED[photo]
        (face,) = result.faces
        assert face.embedding is None  # emoji faces never compute an identity template
        expected = template.sprite(POSED[photo], placement.side)
        others = [
            template.sprite(label, placement.side)
            for label in EXPRESSION_LABELS
            if label != POSED[photo]
        ]
        # The pasted pixels are the posed expression's emoji, not another one's.
        b = face.box
        centre_y, centre_x = b.y + b.h // 2, b.x + b.w // 2
        patch = result.image[centre_y - 8 : centre_y + 8, centre_x - 8 : centre_x + 8]
        alone, _ = emoji_faces(np.zeros_like(result.image), result.faces, template)
        assert np.array_equal(
            patch, alone[centre_y - 8 : centre_y + 8, centre_x - 8 : centre_x + 8]
        )
        assert all(not np.array_equal(expected, other) for other in others)


@pytest.mark.parametrize("damage", ["tiny", "blurred"])
def test_small_and_low_quality_faces_are_covered_too(
    damage: str,
    templates: dict[str, EmojiTemplate],
    photos: dict[str, np.ndarray],
    analyzer: Analyzer,
) -> None:
    rgb = photos["sample5.jpg"]
    if damage == "tiny":
        rgb = cv2.resize(rgb, None, fx=0.08, fy=0.08, interpolation=cv2.INTER_AREA)
    else:
        rgb = cv2.GaussianBlur(rgb, (0, 0), 8)
    faces = analyzer.analyze(rgb, embeddings=False)
    assert faces
    if damage == "tiny":
        assert max(f.quality.face_size for f in faces) <= 16
    else:
        assert not any(f.quality.usable_for_clustering for f in faces)
    _covered_everywhere(rgb, faces, templates["twemoji"])


def _marker_template() -> EmojiTemplate:
    """An opaque grey disc with a red mark at its top: shows which way it was turned."""
    disc = np.zeros((200, 200, 4), dtype=np.uint8)
    cv2.circle(disc, (100, 100), 90, (128, 128, 128, 255), -1)
    cv2.rectangle(disc, (90, 15), (110, 45), (255, 0, 0, 255), -1)
    return EmojiTemplate.from_rasters("marker", "test", dict.fromkeys(EXPRESSION_LABELS, disc))


def _face(box: Box, roll: float) -> Face:
    return Face(
        box=box,
        landmarks=((0.0, 0.0),) * 5,
        detection_score=0.9,
        quality=FaceQuality(min(box.w, box.h), 100.0, 0.0, 0.0, roll, True),
        embedding=None,
        expression=None,
        smile=None,
    )


@pytest.mark.parametrize("roll", [-30.0, 0.0, 30.0])
def test_the_emoji_turns_with_the_eye_line(roll: float) -> None:
    box = Box(100, 100, 100, 100)
    output, _ = emoji_faces(
        np.zeros((300, 300, 3), np.uint8), [_face(box, roll)], _marker_template()
    )
    red = (output[..., 0] > 200) & (output[..., 1] < 60)
    mark_y, mark_x = np.argwhere(red).mean(axis=0)
    # A positive roll (right eye lower, image y pointing down) turns the head clockwise.
    angle = math.degrees(math.atan2(mark_x - 150, 150 - mark_y))
    assert angle == pytest.approx(roll, abs=3)


def test_a_template_without_opaque_pixels_is_refused() -> None:
    ring = np.zeros((64, 64, 4), dtype=np.uint8)
    ring[..., 3] = 128
    template = EmojiTemplate.from_rasters("ghost", "test", dict.fromkeys(EXPRESSION_LABELS, ring))
    with pytest.raises(ValueError, match="no opaque pixel"):
        template.core("happy")


def test_raster_templates_cover_like_svg_ones(
    templates: dict[str, EmojiTemplate], photos: dict[str, np.ndarray], analyzer: Analyzer
) -> None:
    """A user's PNGs (here the Noto SVGs rendered at 160 px, padded off-centre) work too."""
    noto = {label: emoji_sets.svg_paths("noto")[label].read_bytes() for label in EXPRESSION_LABELS}
    rasters = {}
    for label, svg in noto.items():
        rgba = render_svg(svg, 160)
        rasters[label] = np.pad(rgba, ((30, 0), (0, 50), (0, 0)))  # content not centred
    template = EmojiTemplate.from_rasters("mine", "by me", rasters)
    core = opaque_core(template.sprite("happy", 256))
    assert 0.25 < core.radius < 0.4
    rgb = photos["sample1.jpg"]
    faces = analyzer.analyze(rgb, embeddings=False)
    _covered_everywhere(rgb, faces, template)


def _webcam_frame(rgb: np.ndarray, face: Face) -> np.ndarray:
    """A 320x240 frame with the face filling about 40% of the frame's height."""
    b = face.box
    scale = 240 / (b.h * 2.5)
    small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    centre_x, centre_y = int((b.x + b.w / 2) * scale), int((b.y + b.h / 2) * scale)
    padded = cv2.copyMakeBorder(small, 400, 400, 400, 400, cv2.BORDER_REFLECT)
    return padded[centre_y + 280 : centre_y + 520, centre_x + 240 : centre_x + 560].copy()


def test_the_avatar_keeps_no_pixel_of_the_frame(
    templates: dict[str, EmojiTemplate],
    photos: dict[str, np.ndarray],
    analysed: dict[str, list[Face]],
    analyzer: Analyzer,
) -> None:
    """The same face in two different rooms gives the same avatar, and around the emoji
    the avatar is the plain background, exactly."""
    (face,) = analysed["obama.jpg"]
    frame = _webcam_frame(photos["obama.jpg"], face)
    (in_frame,) = analyzer.analyze(frame, embeddings=False)
    other_room = cv2.resize(photos["free-mountain-vector-01.jpg"], (320, 240))
    b, grow = in_frame.box, int(0.6 * in_frame.box.w)
    keep = (
        slice(max(0, b.y - grow), b.y + b.h + grow),
        slice(max(0, b.x - grow), b.x + b.w + grow),
    )
    moved = other_room.copy()
    moved[keep] = frame[keep]
    assert (moved != frame).any(axis=2).mean() > 0.5  # most of the frame is another room

    template = templates["twemoji"]
    first, first_face = frame_avatar(encode_jpeg(frame, 90), template, analyzer=analyzer)
    second, second_face = frame_avatar(encode_jpeg(moved, 90), template, analyzer=analyzer)
    assert first_face is not None and second_face is not None
    assert np.array_equal(first, second)

    background = np.array(AVATAR_BACKGROUND, dtype=np.uint8)
    plain = (first == background).all(axis=2)
    assert 0.5 < plain.mean() < 0.95  # the emoji is there, the rest is the background
    # The avatar is the emoji over the background, nothing else: drawn on a transparent
    # background and composited over the plain one, it is the same picture.
    emoji_only = render_avatar((320, 240), first_face, template, background=(0, 0, 0, 0))
    assert (first[emoji_only[..., 3] == 0] == background).all()
    alpha = emoji_only[..., 3:4] / 255.0
    composited = emoji_only[..., :3] * alpha + background[:3] * (1 - alpha)
    assert np.abs(composited - first[..., :3]).max() <= 2


def test_no_face_gives_a_plain_avatar(
    templates: dict[str, EmojiTemplate], photos: dict[str, np.ndarray], analyzer: Analyzer
) -> None:
    room = cv2.resize(photos["free-mountain-vector-01.jpg"], (320, 240))
    avatar, face = frame_avatar(room, templates["noto"], analyzer=analyzer)
    assert face is None
    assert avatar.shape == (192, 256, 4)
    assert (avatar == np.array(AVATAR_BACKGROUND, dtype=np.uint8)).all()


def test_emoji_photo_decodes_with_the_hardened_decoder(
    templates: dict[str, EmojiTemplate],
) -> None:
    with pytest.raises(ImageError) as error:
        emoji_photo(b"GIF89a not a photo", templates["twemoji"])
    assert error.value.code == "unsupported_format"


def test_the_cheese_emoji_command_renders_locally(
    templates: dict[str, EmojiTemplate],
    photo_paths: dict[str, Path],
    analyzer: Analyzer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from cheese_local import cli

    out = tmp_path / "out.jpg"
    photo = photo_paths["sample4.jpg"]
    assert cli.main(["emoji", str(photo), "--template", "noto", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "4 faces" in printed and "Noto Emoji" in printed
    rendered = decode_image(out.read_bytes())
    assert rendered.shape == decode_image(photo.read_bytes()).shape
    assert analyzer.detect(rendered) == []
    assert cli.main(["emoji", str(photo), "--template", "nope", "--out", str(out)]) == 2


def test_uploads_that_cannot_cover_a_face_are_named(templates: dict[str, EmojiTemplate]) -> None:
    noto_happy = render_svg(emoji_sets.svg_paths("noto")["happy"].read_bytes(), 300)
    assert covering_problem(noto_happy) is None
    thin_ring = np.zeros((300, 300, 4), dtype=np.uint8)
    cv2.circle(thin_ring, (150, 150), 140, (255, 200, 0, 255), 12)
    assert "too small to cover a face" in str(covering_problem(thin_ring))
    speck = np.zeros((300, 300, 4), dtype=np.uint8)
    speck[140:160, 140:160] = 255
    assert covering_problem(speck) is not None
