"""The built-in emoji sets: pinned registry packages fetched into the model cache.

Each set (`emoji_sets.json` beside this module) names one permissively
licensed package at a pinned version and one SVG per expression, with the
sha256 of every file we keep and the attribution to show. `fetch()` runs as
part of `cheese_ml.models.fetch` (so `make models` and the Lambda image build
get the sets too) and writes `<models cache>/emoji/<set>/<expression>.svg`;
nothing here renders or imports OpenCV (see `cheese_ml.emoji`).

Two source formats:
- `svg_files`: the package holds one SVG file per emoji (`member`).
- `iconify_json`: the package holds an Iconify JSON collection (`member`,
  itself pinned); each emoji is an `icon` whose body is wrapped in an
  `<svg>` element with the collection's view box, byte-deterministically.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cheese_ml.models import default_cache_dir
from cheese_ml.registry import (
    ChecksumError,
    download,
    extract_member,
    log,
    partial_path,
    verify,
)

MANIFEST_PATH = Path(__file__).with_name("emoji_sets.json")
EXPRESSIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


class EmojiSetMissingError(RuntimeError):
    """An emoji set's files are not in the cache directory (fetch has not run there)."""


@dataclass(frozen=True)
class EmojiFile:
    expression: str
    name: str  # what the emoji is ("angry face U+1F620")
    sha256: str | None  # of the SVG file we keep
    member: str | None = None  # svg_files: path inside the archive
    icon: str | None = None  # iconify_json: icon name in the collection


@dataclass(frozen=True)
class EmojiSetSpec:
    name: str
    title: str
    registry: str
    package: str
    version: str
    format: str  # "svg_files" or "iconify_json"
    collection_member: str | None  # iconify_json: the collection file inside the archive
    collection_sha256: str | None
    licence: str
    attribution: str
    files: tuple[EmojiFile, ...]  # in EXPRESSIONS order


@cache
def manifest() -> dict[str, EmojiSetSpec]:
    """The emoji sets named in emoji_sets.json, by name."""
    raw: dict[str, Any] = json.loads(MANIFEST_PATH.read_text())
    sets = {}
    for name, entry in raw["sets"].items():
        source = entry["source"]
        if set(entry["emoji"]) != set(EXPRESSIONS):
            raise ValueError(f"emoji set {name} must have exactly the expressions {EXPRESSIONS}")
        sets[name] = EmojiSetSpec(
            name=name,
            title=entry["title"],
            registry=source["registry"],
            package=source["package"],
            version=source["version"],
            format=source["format"],
            collection_member=source.get("member"),
            collection_sha256=source.get("sha256"),
            licence=entry["licence"],
            attribution=entry["attribution"],
            files=tuple(
                EmojiFile(expression, **entry["emoji"][expression]) for expression in EXPRESSIONS
            ),
        )
    return sets


def set_dir(name: str, cache_dir: Path | None = None) -> Path:
    return (cache_dir or default_cache_dir()) / "emoji" / name


def svg_paths(name: str, cache_dir: Path | None = None) -> dict[str, Path]:
    """expression -> the verified SVG of set `name`; raises EmojiSetMissingError if not fetched."""
    spec = manifest()[name]
    paths = {f.expression: set_dir(name, cache_dir) / f"{f.expression}.svg" for f in spec.files}
    for emoji_file in spec.files:
        path = paths[emoji_file.expression]
        if not path.is_file():
            raise EmojiSetMissingError(
                f"emoji set {name} not found at {path.parent}: run `cheese models fetch` "
                "(or `python -m cheese_ml.models fetch`)"
            )
        verify(path, emoji_file.sha256, f"emoji {name}/{emoji_file.expression}")
    return paths


def iconify_svg(collection: dict[str, Any], icon: str) -> bytes:
    """One icon of an Iconify JSON collection as a standalone SVG document."""
    entry = collection["icons"][icon]
    left = entry.get("left", collection.get("left", 0))
    top = entry.get("top", collection.get("top", 0))
    width = entry.get("width", collection.get("width", 16))
    height = entry.get("height", collection.get("height", 16))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="{left} {top} {width} {height}">{entry["body"]}</svg>'
    ).encode()


def _is_verified(path: Path, expected: str | None) -> bool:
    if expected is None or not path.is_file():
        return False
    try:
        verify(path, expected, str(path))
    except ChecksumError:
        return False
    return True


def _write_verified(
    target: Path, data: bytes, expected: str | None, what: str, progress: bool
) -> None:
    partial = partial_path(target)
    partial.write_bytes(data)
    try:
        actual = verify(partial, expected, what)
    except ChecksumError:
        partial.unlink()
        raise
    partial.replace(target)
    if expected is None:
        log(f"{what}: WARNING not pinned; sha256 {actual}", progress)


def _fetch_set(spec: EmojiSetSpec, target_dir: Path, work_dir: Path, progress: bool) -> None:
    log(
        f"emoji set {spec.name}: downloading {spec.registry} {spec.package} {spec.version}",
        progress,
    )
    archive = download(spec.registry, spec.package, spec.version, work_dir)  # type: ignore[arg-type]
    target_dir.mkdir(parents=True, exist_ok=True)
    if spec.format == "svg_files":
        for emoji_file in spec.files:
            target = target_dir / f"{emoji_file.expression}.svg"
            extract_member(archive, str(emoji_file.member), target)
            try:
                verify(target, emoji_file.sha256, f"emoji {spec.name}/{emoji_file.expression}")
            except ChecksumError:
                target.unlink()
                raise
    elif spec.format == "iconify_json":
        collection_path = extract_member(
            archive, str(spec.collection_member), work_dir / "collection.json"
        )
        verify(collection_path, spec.collection_sha256, f"emoji set {spec.name} collection")
        collection = json.loads(collection_path.read_text())
        for emoji_file in spec.files:
            _write_verified(
                target_dir / f"{emoji_file.expression}.svg",
                iconify_svg(collection, str(emoji_file.icon)),
                emoji_file.sha256,
                f"emoji {spec.name}/{emoji_file.expression}",
                progress,
            )
    else:
        raise ValueError(f"emoji set {spec.name}: unknown source format {spec.format!r}")


def fetch(cache_dir: Path | None = None, progress: bool = True) -> dict[str, dict[str, Path]]:
    """Download and verify every emoji set; return set -> expression -> SVG path.

    Idempotent: a set whose files all match their pins is not downloaded again.
    """
    paths = {}
    with tempfile.TemporaryDirectory(prefix="cheese-emoji-") as work:
        for index, spec in enumerate(manifest().values()):
            target_dir = set_dir(spec.name, cache_dir)
            if all(_is_verified(target_dir / f"{f.expression}.svg", f.sha256) for f in spec.files):
                log(f"emoji set {spec.name}: {len(spec.files)} files verified", progress)
            else:
                _fetch_set(spec, target_dir, Path(work) / str(index), progress)
                log(f"emoji set {spec.name}: ready at {target_dir}", progress)
            paths[spec.name] = svg_paths(spec.name, cache_dir)
    return paths


def verify_cache(
    cache_dir: Path | None = None, progress: bool = True
) -> dict[str, dict[str, Path]]:
    """Check that every emoji set is present with its pinned hashes, without downloading."""
    paths = {}
    for name in manifest():
        paths[name] = svg_paths(name, cache_dir)
        log(f"emoji set {name}: {set_dir(name, cache_dir)} verified", progress)
    return paths
