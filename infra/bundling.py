"""The shared runtime layer: ``layers/runtime`` plus the project's main dependencies.

Built by a local bundling step (pip downloading manylinux wheels for the Lambda
platform) so that neither deploying nor testing ever needs Docker. Tests skip
bundling altogether through the ``aws:cdk:bundling-stacks`` context key.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, FileSystem, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.config import REPO_ROOT

RUNTIME_SOURCE = REPO_ROOT / "layers" / "runtime"
PYTHON_VERSION = "3.11"
RUNTIME = lambda_.Runtime.PYTHON_3_11
# x86_64 rather than the ~20% cheaper arm64: the ML container functions run
# onnxruntime, which has crashed at start on arm64 Lambda, and one architecture
# for every function keeps the wheels, the layer and local benchmarks alike.
ARCHITECTURE = lambda_.Architecture.X86_64
# The Python 3.11 runtime runs on Amazon Linux 2 (glibc 2.26): manylinux2014
# (glibc 2.17) wheels are the newest that are guaranteed to load there.
PIP_PLATFORM = "manylinux2014_x86_64"
BYTECODE_IGNORES = ("__pycache__", "*.pyc")


def main_dependencies() -> list[str]:
    """The main ``dependencies`` of pyproject.toml (the runtime of every function)."""
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    return list(pyproject["project"]["dependencies"])


@jsii.implements(ILocalBundling)
class PipLayerBundling:
    """Builds the layer directory tree ``python/`` with pip, on the machine running the synth."""

    def __init__(self, requirements: list[str]) -> None:
        self._requirements = requirements

    def try_bundle(self, output_dir: str, options: BundlingOptions) -> bool:
        target = Path(output_dir) / "python"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-compile",
                "--platform",
                PIP_PLATFORM,
                "--implementation",
                "cp",
                "--python-version",
                PYTHON_VERSION,
                "--only-binary=:all:",
                "--target",
                str(target),
                *self._requirements,
            ],
            check=True,
        )
        shutil.copytree(
            RUNTIME_SOURCE / "cheese_runtime",
            target / "cheese_runtime",
            ignore=shutil.ignore_patterns(*BYTECODE_IGNORES),
        )
        compile_bytecode(target)
        return True


def compile_bytecode(tree: Path) -> None:
    """Byte-compile every module of ``tree`` for the Lambda runtime's Python.

    /opt is read-only in Lambda, so a layer without bytecode is compiled from
    source on every cold start (FastAPI, pydantic, SQLAlchemy: hundreds of
    milliseconds). Unchecked-hash pycs are used without comparing the source's
    timestamp, which a zip keeps only to two seconds; the layer never changes
    once published. Compiled by this interpreter, so only for the same minor
    version (the runtime ignores pycs of another one and compiles as before).
    """
    subprocess.run(
        [
            sys.executable,
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            str(tree),
        ],
        check=True,
    )


def runtime_layer(scope: Construct, construct_id: str) -> lambda_.LayerVersion:
    requirements = main_dependencies()
    # Hash what goes in (the layer source and the pinned requirements) rather
    # than pip's output, so an unchanged layer is not republished on each deploy.
    source_hash = FileSystem.fingerprint(str(RUNTIME_SOURCE), exclude=list(BYTECODE_IGNORES))
    asset_hash = hashlib.sha256(
        "\n".join([source_hash, PIP_PLATFORM, PYTHON_VERSION, *requirements]).encode()
    ).hexdigest()
    return lambda_.LayerVersion(
        scope,
        construct_id,
        description="cheese_runtime and the pinned dependencies of every function",
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[ARCHITECTURE],
        code=lambda_.Code.from_asset(
            str(RUNTIME_SOURCE),
            asset_hash_type=AssetHashType.CUSTOM,
            asset_hash=asset_hash,
            bundling=BundlingOptions(
                # Required by the API; never pulled, the local bundling always succeeds or raises.
                image=RUNTIME.bundling_image,
                # jsii calls try_bundle(output_dir, options) with the options struct
                # positionally; its typing spells the struct out as keyword arguments.
                local=PipLayerBundling(requirements),  # type: ignore[arg-type]
            ),
        ),
    )
