"""The manifest and the fetch: pinned, verified, idempotent, clear on mismatch."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cheese_ml import emoji_sets, models, speech_models
from cheese_ml.registry import ChecksumError, sha256_of


def test_every_model_is_pinned_at_both_ends() -> None:
    for spec in models.manifest().values():
        assert spec.source.registry in ("pypi", "npm")
        assert all(f.sha256 and len(f.sha256) == 64 for f in spec.source.files())
        assert spec.sha256 and len(spec.sha256) == 64
        assert spec.licence and spec.contract["input"] and spec.contract["outputs"]


def test_fetched_files_match_the_manifest(model_paths: dict[str, Path]) -> None:
    assert set(model_paths) == set(models.manifest())
    for name, path in model_paths.items():
        assert sha256_of(path) == models.manifest()[name].sha256


def test_fetch_is_idempotent(
    model_paths: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    before = {name: path.stat().st_mtime_ns for name, path in model_paths.items()}
    models.fetch(progress=True)
    log = capsys.readouterr().err
    # One line per model and one per speech model directory (fetched with the models).
    expected = len(model_paths) + len(speech_models.speech_manifest())
    assert log.count("already verified") == expected and "downloading" not in log
    assert {name: path.stat().st_mtime_ns for name, path in model_paths.items()} == before


def copy_cache(model_paths: dict[str, Path], target: Path) -> Path:
    source_dir = next(iter(model_paths.values())).parent
    shutil.copytree(source_dir, target)
    return target


def test_a_damaged_model_is_rebuilt_from_the_verified_source(
    model_paths: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = copy_cache(model_paths, tmp_path / "models")
    damaged = cache / models.manifest()["fer_mini_xception"].file
    damaged.write_bytes(b"not a model")
    paths = models.fetch(cache, progress=True)
    log = capsys.readouterr().err
    assert "downloading" not in log and "converting with keras_hdf5_to_onnx" in log
    assert sha256_of(paths["fer_mini_xception"]) == models.manifest()["fer_mini_xception"].sha256


def test_verify_reports_a_checksum_mismatch_clearly(
    model_paths: dict[str, Path], tmp_path: Path
) -> None:
    cache = copy_cache(model_paths, tmp_path / "models")
    target = cache / models.manifest()["centerface"].file
    target.write_bytes(target.read_bytes()[:-1] + b"\x00")
    with pytest.raises(ChecksumError) as error:
        models.verify_cache(cache, progress=False)
    message = str(error.value)
    assert "centerface" in message and models.manifest()["centerface"].sha256 in message
    assert sha256_of(target) in message
    assert models.main(["verify", "--cache-dir", str(cache), "--quiet"]) == 1


def test_missing_models_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(models.ModelsMissingError, match="cheese models fetch"):
        models.model_path("centerface", tmp_path)


def test_command_line_fetch_and_verify(model_paths: dict[str, Path]) -> None:
    import subprocess
    import sys

    for command in ("fetch", "verify"):
        result = subprocess.run(
            [sys.executable, "-m", "cheese_ml.models", command],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        # One line per model, built-in emoji set and speech model (fetched with the models).
        assert result.stderr.count("verified") == (
            len(model_paths) + len(emoji_sets.manifest()) + len(speech_models.speech_manifest())
        )


def test_speech_model_is_pinned_joined_and_checked(
    model_paths: dict[str, Path], tmp_path: Path
) -> None:
    spec = speech_models.speech_manifest()["whisper_base"]
    assert all(len(f.sha256) == 64 for s in spec.sources for f in s.files)
    directory = speech_models.speech_model_dir("whisper_base")
    joined = directory / spec.joined.file
    assert joined.stat().st_size == spec.joined.size == 145_217_532
    assert sha256_of(joined) == spec.joined.sha256
    assert {p.name for p in directory.iterdir()} >= {
        "model.bin",
        "config.json",
        "tokenizer.json",
        "vocabulary.txt",
    }
    # A changed file in the directory is found by verify, not loaded.
    copy = tmp_path / "models"
    shutil.copytree(directory, copy / spec.dir)
    (copy / spec.dir / "tokenizer.json").write_text("{}")
    with pytest.raises(ChecksumError):
        speech_models.verify_cache(copy, progress=False)
    with pytest.raises(models.ModelsMissingError, match="fetch"):
        speech_models.speech_model_dir("whisper_base", tmp_path / "empty")
