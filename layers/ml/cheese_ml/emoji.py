"""Emoji faces: each face's expression picks an emoji that is pasted over it.

    template = builtin_template("twemoji")
    result = emoji_photo(jpeg_bytes, template)         # analysis + paste, one call
    out = emoji_faces(rgb, faces, template)             # paste over faces analysed elsewhere
    avatar = render_avatar((320, 240), face, template)  # RGBA; takes no pixel of the frame

A template is seven emoji, one per expression, each an SVG document (the
built-in sets, rendered with resvg at the size a face needs) or an RGBA
raster (users' uploads). Every emoji is measured once for its *opaque core*:
the largest disc of fully opaque pixels (a distance transform of its alpha).
The emoji is scaled so that this disc, centred on the face box, has a radius
of `margin` times the box's half-diagonal, so it covers every pixel of the box
at any rotation; it is rotated by the eye-line roll and alpha-blended with
premultiplied alpha (inside the core the photo's pixels are fully replaced).
Faces are pasted smallest first, so nearer (larger) faces' emoji lie on top.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import resvg_py

from cheese_ml.analysis import EXPRESSION_LABELS, Analyzer, Face, as_rgb, default_analyzer
from cheese_ml.emoji_sets import manifest as emoji_set_manifest
from cheese_ml.emoji_sets import svg_paths
from cheese_ml.images import decode_image

# Radius of the emoji's opaque disc over the face box's half-diagonal: 1.0 just covers
# the box's corners; a little more also hides the hairline and chin around the box.
DEFAULT_MARGIN = 1.05
# Added to the needed radius, in pixels, so the resampled and rotated emoji's soft
# edge never reaches the box even for tiny faces.
EDGE_SLACK_PX = 1.5
# SVGs are rendered at the smallest of these sides that is at least the face's
# need, once per process, then reduced to the exact size (resvg costs ~40 ms at
# 600 px, a reduction well under 1 ms).
SVG_RENDER_SIDES = (64, 128, 256, 512, 1024)
# The opaque core is measured on the emoji at this side.
CORE_REFERENCE_SIDE = 256
SPRITE_CACHE_SIZE = 128  # (expression, side) sprites kept per template
# Avatars: the frame's aspect ratio, this many pixels on the longer side.
AVATAR_SIDE = 256
AVATAR_BACKGROUND = (236, 239, 241, 255)  # a plain light grey, opaque (RGBA)
# An avatar shows where the face is, not how it jitters: its emoji's position and
# side snap to this many avatar pixels and its turn to this many degrees, so
# consecutive frames of a still member give the same avatar (and one broadcast).
AVATAR_GRID_PX = 8
AVATAR_ANGLE_STEP = 5.0


@dataclass(frozen=True)
class EmojiCore:
    """The largest fully opaque disc of an emoji, as fractions of the emoji's side."""

    centre_x: float
    centre_y: float
    radius: float


@dataclass(frozen=True)
class Placement:
    """Where one face's emoji goes: its core centre at (centre_x, centre_y) of the
    output, `side` pixels square, turned `angle` degrees clockwise (the face's roll)."""

    face_index: int
    expression: str
    centre_x: float
    centre_y: float
    side: int
    angle: float


@dataclass(frozen=True)
class EmojiPhoto:
    image: np.ndarray  # RGB uint8, the photo with every face covered
    faces: list[Face]
    placements: list[Placement]  # one per face, in the order of `faces`


def _premultiplied(rgba: np.ndarray) -> np.ndarray:
    alpha = rgba[..., 3:4].astype(np.uint16)
    colour = (rgba[..., :3].astype(np.uint16) * alpha + 127) // 255
    return np.concatenate([colour.astype(np.uint8), rgba[..., 3:4]], axis=2)


def _square(rgba: np.ndarray) -> np.ndarray:
    """Pad a raster to a square, centred, with transparent pixels."""
    height, width = rgba.shape[:2]
    side = max(height, width)
    if height == width:
        return rgba
    out = np.zeros((side, side, 4), dtype=np.uint8)
    top, left = (side - height) // 2, (side - width) // 2
    out[top : top + height, left : left + width] = rgba
    return out


def render_svg(svg: bytes, side: int) -> np.ndarray:
    """An SVG document rendered with resvg to a side x side straight-alpha RGBA array."""
    png = resvg_py.svg_to_bytes(
        svg_string=svg.decode(), width=side, height=side, skip_system_fonts=True
    )
    bgra = cv2.imdecode(np.frombuffer(png, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if bgra is None or bgra.ndim != 3 or bgra.shape[2] != 4:
        raise ValueError("resvg did not return an RGBA image")
    return cv2.cvtColor(bgra, cv2.COLOR_BGRA2RGBA)


def opaque_core(rgba: np.ndarray) -> EmojiCore:
    """The largest disc of fully opaque pixels (alpha 255) of a square RGBA emoji."""
    side = rgba.shape[0]
    opaque = np.pad((rgba[..., 3] == 255).astype(np.uint8), 1)  # the border counts as outside
    distance = cv2.distanceTransform(opaque, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    row, column = np.unravel_index(int(np.argmax(distance)), distance.shape)
    # distance is to the nearest non-opaque pixel centre; one pixel less is safely inside.
    radius = max(0.0, float(distance[row, column]) - 1.0)
    return EmojiCore((column - 1 + 0.5) / side, (row - 1 + 0.5) / side, radius / side)


# An uploaded emoji must have a fully opaque disc at least this big (radius over the
# image's longer side): the emoji is scaled until that disc covers the face, so a
# mostly transparent picture would either not cover it or grow absurdly large.
MIN_UPLOAD_CORE_RADIUS = 0.2


def covering_problem(rgba: np.ndarray) -> str | None:
    """Why an uploaded RGBA emoji cannot cover a face (None when it can)."""
    square = _premultiplied(_square(rgba))
    reference = cv2.resize(
        square, (CORE_REFERENCE_SIDE, CORE_REFERENCE_SIDE), interpolation=cv2.INTER_AREA
    )
    radius = opaque_core(reference).radius
    if radius < MIN_UPLOAD_CORE_RADIUS:
        return (
            f"its fully opaque area is too small to cover a face (a disc of radius "
            f"{radius:.2f} of its side; at least {MIN_UPLOAD_CORE_RADIUS} is needed)"
        )
    return None


class EmojiTemplate:
    """Seven emoji, one per expression in EXPRESSION_LABELS, with their attribution.

    Build with `from_svgs` (rendered at the size each face needs) or
    `from_rasters` (RGBA uint8 arrays, e.g. decoded uploads). Sprites
    (premultiplied RGBA at a given side) are cached; instances are thread-safe.
    """

    def __init__(
        self,
        name: str,
        attribution: str,
        *,
        svgs: Mapping[str, bytes] | None = None,
        rasters: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        sources = svgs if svgs is not None else rasters
        if (svgs is None) == (rasters is None) or sources is None:
            raise ValueError("give either svgs or rasters")
        if set(sources) != set(EXPRESSION_LABELS):
            raise ValueError(f"a template needs exactly one emoji for each of {EXPRESSION_LABELS}")
        self.name = name
        self.attribution = attribution
        self._svgs = dict(svgs) if svgs is not None else None
        self._rasters = (
            {label: _premultiplied(_square(rgba)) for label, rgba in rasters.items()}
            if rasters is not None
            else None
        )
        self._masters: dict[tuple[str, int], np.ndarray] = {}
        self._sprites: OrderedDict[tuple[str, int], np.ndarray] = OrderedDict()
        self._cores: dict[str, EmojiCore] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_svgs(cls, name: str, attribution: str, svgs: Mapping[str, bytes]) -> EmojiTemplate:
        return cls(name, attribution, svgs=svgs)

    @classmethod
    def from_rasters(
        cls, name: str, attribution: str, rasters: Mapping[str, np.ndarray]
    ) -> EmojiTemplate:
        for label, rgba in rasters.items():
            if rgba.dtype != np.uint8 or rgba.ndim != 3 or rgba.shape[2] != 4:
                raise ValueError(f"emoji {label}: expected RGBA uint8, got {rgba.shape}")
        return cls(name, attribution, rasters=rasters)

    def _master(self, expression: str, side: int) -> np.ndarray:
        """A premultiplied sprite at least `side` pixels, rendered or stored once."""
        if self._rasters is not None:
            return self._rasters[expression]
        render_side = next((s for s in SVG_RENDER_SIDES if s >= side), side)
        key = (expression, render_side)
        master = self._masters.get(key)
        if master is None:
            assert self._svgs is not None
            master = _premultiplied(render_svg(self._svgs[expression], render_side))
            self._masters[key] = master
        return master

    def sprite(self, expression: str, side: int) -> np.ndarray:
        """The emoji for `expression` as premultiplied RGBA uint8 (side, side, 4)."""
        key = (expression, side)
        with self._lock:
            sprite = self._sprites.get(key)
            if sprite is not None:
                self._sprites.move_to_end(key)
                return sprite
            master = self._master(expression, side)
            if master.shape[0] == side:
                sprite = master
            else:
                shrinking = master.shape[0] > side
                sprite = cv2.resize(
                    master,
                    (side, side),
                    interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC,
                )
            self._sprites[key] = sprite
            if len(self._sprites) > SPRITE_CACHE_SIZE:
                self._sprites.popitem(last=False)
            return sprite

    def core(self, expression: str) -> EmojiCore:
        """The emoji's opaque core (measured once, at CORE_REFERENCE_SIDE)."""
        core = self._cores.get(expression)
        if core is None:
            core = opaque_core(self.sprite(expression, CORE_REFERENCE_SIDE))
            if core.radius <= 0:
                raise ValueError(f"emoji {expression} of template {self.name} has no opaque pixel")
            self._cores[expression] = core
        return core


@cache
def builtin_template(name: str, cache_dir: Path | None = None) -> EmojiTemplate:
    """A built-in emoji set (`cheese_ml.emoji_sets`) as a template, loaded once per process."""
    spec = emoji_set_manifest()[name]
    paths = svg_paths(name, cache_dir)
    return EmojiTemplate.from_svgs(
        name, spec.attribution, {label: path.read_bytes() for label, path in paths.items()}
    )


def dominant_expression(face: Face) -> str:
    """The most probable expression of the face (neutral when none was computed)."""
    if not face.expression:
        return "neutral"
    return max(face.expression.items(), key=lambda item: item[1])[0]


def place(
    face: Face,
    template: EmojiTemplate,
    *,
    face_index: int = 0,
    margin: float = DEFAULT_MARGIN,
    scale: float = 1.0,
) -> Placement:
    """Where the face's emoji goes (in an output `scale` times the analysed image)."""
    expression = dominant_expression(face)
    core = template.core(expression)
    box = face.box
    needed_radius = margin * math.hypot(box.w, box.h) * scale / 2 + EDGE_SLACK_PX
    side = max(2, math.ceil(needed_radius / core.radius))
    return Placement(
        face_index=face_index,
        expression=expression,
        centre_x=(box.x + box.w / 2) * scale,
        centre_y=(box.y + box.h / 2) * scale,
        side=side,
        angle=face.quality.roll,
    )


def _paste(canvas: np.ndarray, sprite: np.ndarray, core: EmojiCore, placement: Placement) -> None:
    """Blend a premultiplied sprite into `canvas` (same channel count) in place."""
    side = sprite.shape[0]
    core_x, core_y = core.centre_x * side, core.centre_y * side
    # Rotate about the core centre (OpenCV's positive angle is counter-clockwise on
    # screen, the roll is clockwise), then move the core centre onto the face.
    matrix = np.asarray(
        cv2.getRotationMatrix2D((core_x, core_y), -placement.angle, 1.0), dtype=np.float64
    )
    matrix[:, 2] += (placement.centre_x - core_x, placement.centre_y - core_y)
    corners = matrix @ np.array([[0, side, 0, side], [0, 0, side, side], [1, 1, 1, 1]], float)
    height, width = canvas.shape[:2]
    x1, y1 = max(0, math.floor(corners[0].min())), max(0, math.floor(corners[1].min()))
    x2, y2 = min(width, math.ceil(corners[0].max())), min(height, math.ceil(corners[1].max()))
    if x2 <= x1 or y2 <= y1:
        return
    matrix[:, 2] -= (x1, y1)
    warped = cv2.warpAffine(
        sprite,
        matrix,
        (x2 - x1, y2 - y1),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0, 0),
    )
    roi = canvas[y1:y2, x1:x2]
    channels = canvas.shape[2]
    # Premultiplied "over": sprite + canvas x (1 - alpha), in saturating uint8 OpenCV
    # arithmetic (4x faster than float numpy); where alpha is 255 the canvas term is 0,
    # so the emoji's pixels replace the photo's exactly.
    keep = cv2.merge([cv2.bitwise_not(cv2.extractChannel(warped, 3))] * channels)
    colour = warped if channels == 4 else cv2.cvtColor(warped, cv2.COLOR_RGBA2RGB)
    roi[:] = cv2.add(cv2.multiply(roi, keep, scale=1 / 255), colour)


def _paste_all(
    canvas: np.ndarray, placements: Sequence[Placement], template: EmojiTemplate
) -> None:
    for placement in sorted(placements, key=lambda p: p.side):  # nearer faces on top
        sprite = template.sprite(placement.expression, placement.side)
        _paste(canvas, sprite, template.core(placement.expression), placement)


def emoji_faces(
    image: np.ndarray,
    faces: Sequence[Face],
    template: EmojiTemplate,
    *,
    margin: float = DEFAULT_MARGIN,
) -> tuple[np.ndarray, list[Placement]]:
    """A copy of the RGB image with every face covered by its expression's emoji.

    Every face is covered, however small or blurred: a face the detector found
    is a person who may not want to be seen.
    """
    output = as_rgb(image).copy()
    placements = [
        place(face, template, face_index=index, margin=margin) for index, face in enumerate(faces)
    ]
    _paste_all(output, placements, template)
    return output, placements


def emoji_photo(
    image: bytes | np.ndarray,
    template: EmojiTemplate,
    *,
    analyzer: Analyzer | None = None,
    margin: float = DEFAULT_MARGIN,
) -> EmojiPhoto:
    """Analyse a photo (expressions only: no identity embedding is computed) and cover its faces."""
    rgb = decode_image(image) if isinstance(image, bytes | bytearray) else as_rgb(image)
    faces = (analyzer or default_analyzer()).analyze(rgb, embeddings=False)
    output, placements = emoji_faces(rgb, faces, template, margin=margin)
    return EmojiPhoto(output, faces, placements)


def avatar_size(frame_size: tuple[int, int], side: int = AVATAR_SIDE) -> tuple[int, int]:
    """(width, height) of the avatar of a frame of `frame_size` (width, height)."""
    width, height = frame_size
    scale = side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def render_avatar(
    frame_size: tuple[int, int],
    face: Face | None,
    template: EmojiTemplate,
    *,
    side: int = AVATAR_SIDE,
    background: tuple[int, int, int, int] = AVATAR_BACKGROUND,
    margin: float = DEFAULT_MARGIN,
) -> np.ndarray:
    """The avatar (RGBA uint8, straight alpha): a plain background with the face's emoji
    where the face is in the frame, at its size and roll.

    It is drawn from the face's geometry and expression alone; no pixel of the
    frame is an input, so nothing of the room can appear in it. No face: the
    plain background.
    """
    width, height = avatar_size(frame_size, side)
    red, green, blue, alpha = background
    canvas = np.empty((height, width, 4), dtype=np.uint8)
    canvas[:] = _premultiplied(np.array([[[red, green, blue, alpha]]], dtype=np.uint8))[0, 0]
    if face is not None:
        scale = width / frame_size[0]
        placement = place(face, template, margin=margin, scale=scale)
        grid = AVATAR_GRID_PX
        placement = Placement(
            0,
            placement.expression,
            round(placement.centre_x / grid) * grid,
            round(placement.centre_y / grid) * grid,
            math.ceil(placement.side / grid) * grid,
            round(placement.angle / AVATAR_ANGLE_STEP) * AVATAR_ANGLE_STEP,
        )
        _paste_all(canvas, [placement], template)
    if alpha == 255:
        return canvas
    opaque = canvas[..., 3:4].astype(np.float32)
    colour = np.where(opaque > 0, canvas[..., :3] * 255.0 / np.maximum(opaque, 1) + 0.5, 0)
    return np.concatenate([np.clip(colour, 0, 255).astype(np.uint8), canvas[..., 3:4]], axis=2)


def main_face(faces: Sequence[Face]) -> Face | None:
    """The face a webcam frame is about: the largest one."""
    return max(faces, key=lambda face: face.box.w * face.box.h, default=None)


def frame_avatar(
    frame: bytes | np.ndarray,
    template: EmojiTemplate,
    *,
    analyzer: Analyzer | None = None,
    side: int = AVATAR_SIDE,
    background: tuple[int, int, int, int] = AVATAR_BACKGROUND,
) -> tuple[np.ndarray, Face | None]:
    """Analyse a webcam frame (expressions only) and draw its main face's avatar."""
    rgb = decode_image(frame) if isinstance(frame, bytes | bytearray) else as_rgb(frame)
    face = main_face((analyzer or default_analyzer()).analyze(rgb, embeddings=False))
    height, width = rgb.shape[:2]
    return render_avatar((width, height), face, template, side=side, background=background), face
