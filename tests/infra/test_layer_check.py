"""The import check of zip functions (infra.layer_check): what the layer carries,
and that a module needing anything else is caught before it fails in Lambda."""

from __future__ import annotations

from pathlib import Path

from infra.bundling import main_dependencies
from infra.declarations import FunctionSpec
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
        "psycopg",
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
