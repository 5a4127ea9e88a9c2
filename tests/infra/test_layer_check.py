"""The import check of zip functions (infra.layer_check): what the layer carries,
and that a module needing anything else is caught before it fails in Lambda."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_

from infra.bundling import main_dependencies
from infra.components.functions import package_code
from infra.declarations import FunctionSpec, all_function_specs
from infra.layer_check import import_problems, layer_modules


def test_layer_modules_are_the_main_dependencies_and_what_they_pull_in() -> None:
    modules = layer_modules(main_dependencies())
    assert {
        "fastapi",
        "starlette",
        "pydantic",
        "pydantic_core",
        "boto3",
        "botocore",
        "jwt",
        "sqlalchemy",
        "alembic",
        "psycopg2",
        "argon2",
        "mangum",
        "aws_lambda_powertools",
        "cheese_runtime",
    } <= modules
    assert not {"numpy", "cv2", "onnxruntime", "cheese_ml", "moto", "pytest"} & modules


def _package(root: Path, name: str, module: str, source: str) -> None:
    (root / "functions" / name).mkdir(parents=True, exist_ok=True)
    (root / "functions" / "__init__.py").touch()
    (root / "functions" / name / "__init__.py").touch()
    (root / "functions" / name / f"{module}.py").write_text(source)


def test_zip_functions_importing_what_lambda_lacks_are_reported(tmp_path: Path) -> None:
    _package(tmp_path, "probe", "layer_only", "import fastapi, cheese_runtime.resources\n")
    _package(tmp_path, "probe", "ml", "import numpy\n")
    _package(tmp_path, "probe", "neighbour", "import functions.other.thing\n")
    _package(tmp_path, "other", "thing", "")
    specs = [
        FunctionSpec(name, f"functions.probe.{name}") for name in ("layer_only", "ml", "neighbour")
    ]
    problems = {p.function: p.error for p in import_problems(specs, root=tmp_path)}
    assert problems.keys() == {"ml", "neighbour"}
    assert "numpy is not in the Lambda package" in problems["ml"]
    assert "functions.other is not in the Lambda package" in problems["neighbour"]
    image = FunctionSpec("ml-image", "functions.probe.ml", ml_image=True)
    assert import_problems([image], root=tmp_path) == []


def test_a_declared_shared_module_is_shipped_and_nothing_else_of_its_function(
    tmp_path: Path,
) -> None:
    _package(tmp_path, "probe", "reader", "import functions.other.models\n")
    _package(tmp_path, "probe", "greedy", "import functions.other.logic\n")
    _package(tmp_path, "other", "models", "")
    _package(tmp_path, "other", "logic", "")
    shared = ("functions.other.models",)
    specs = [
        FunctionSpec(name, f"functions.probe.{name}", shared_modules=shared)
        for name in ("reader", "greedy")
    ]
    problems = {p.function: p.error for p in import_problems(specs, root=tmp_path)}
    assert problems.keys() == {"greedy"}
    assert "functions.other.logic is not in the Lambda package" in problems["greedy"]


def test_every_declared_zip_function_imports_from_its_lambda_package() -> None:
    # The video API and its erasure read the photos function's people: without their
    # declared shared module they failed to import in Lambda (a deploy blocker once).
    assert [str(p) for p in import_problems(all_function_specs())] == []


def test_the_zip_asset_holds_the_package_and_the_shared_modules_only(tmp_path: Path) -> None:
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Probe")
    lambda_.Function(
        stack,
        "Video",
        runtime=lambda_.Runtime.PYTHON_3_11,
        handler="functions.video.handler.handler",
        code=package_code("video", ("functions.photos.models",)),
    )
    app.synth()
    (asset,) = [p for p in tmp_path.glob("asset.*") if (p / "functions").is_dir()]
    shipped = {p.relative_to(asset).as_posix() for p in asset.rglob("*.py")}
    assert {
        "functions/__init__.py",
        "functions/video/handler.py",
        "functions/photos/__init__.py",
        "functions/photos/models.py",
    } <= shipped
    assert {p for p in shipped if p.startswith("functions/photos/")} == {
        "functions/photos/__init__.py",
        "functions/photos/models.py",
    }
    assert not any(p.startswith(("functions/diary/", "layers/", "infra/")) for p in shipped)
    # With the bytecode of each module: /var/task is read-only, Lambda cannot write it.
    compiled = {p.relative_to(asset).as_posix() for p in asset.rglob("*.pyc")}
    assert "functions/video/__pycache__/handler.cpython-311.pyc" in compiled
    assert len(compiled) == len(shipped)


def test_the_layer_ships_bytecode_that_lambda_uses_without_checking_the_source(
    tmp_path: Path,
) -> None:
    import subprocess
    import sys

    from infra.bundling import compile_bytecode

    package = tmp_path / "python" / "shipped"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "module.py").write_text("ANSWER = 1\n")
    compile_bytecode(tmp_path / "python")
    # A zip keeps mtimes to two seconds: a pyc that checked them could go stale in Lambda.
    (package / "module.py").write_text("ANSWER = 222\n")
    out = subprocess.run(
        [sys.executable, "-c", "import shipped.module as m; print(m.ANSWER)"],
        cwd=tmp_path / "python",
        env={"PYTHONPATH": str(tmp_path / "python"), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "1"
