"""Does every zip function import with only what it gets in Lambda?

A zip function has the standard library, the runtime layer (pyproject's main
dependencies and ``cheese_runtime``) and ``functions/<its package>``; anything
else (numpy, cv2, cheese_ml... from the ``ml`` extra, or a dev tool) exists
in the local virtualenv but not in Lambda, where the import fails at cold
start. Each handler module is imported in a fresh interpreter that refuses
the installed packages the function will not have. Imports made lazily inside
functions are not seen.

    python -m infra.layer_check      (exit status 1 and the culprits if any)
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from infra.bundling import main_dependencies
from infra.config import REPO_ROOT
from infra.declarations import FunctionSpec, all_function_specs

# The project's own packages that no zip function carries.
PROJECT_PACKAGES_NOT_SHIPPED = {"cheese_ml", "cheese_local", "infra", "tests", "bench"}

# Runs in the child interpreter: argv = module, the shared modules joined by
# commas, then the refused top-level names. Of functions/, only the module's own
# package is shipped, and each shared module with its package's __init__.
_IMPORT_WITHOUT = """
import importlib, importlib.abc, sys
module, shared, refused = sys.argv[1], sys.argv[2], set(sys.argv[3:])
own_package = ".".join(module.split(".")[:2])
shipped = {name for m in filter(None, shared.split(",")) for name in (m, m.rpartition(".")[0])}
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        top = name.partition(".")[0]
        other_function = top == "functions" and name.count(".") and not (
            name == own_package or name.startswith(own_package + ".") or name in shipped)
        if top in refused or other_function:
            raise ModuleNotFoundError(f"{name} is not in the Lambda package", name=name)
sys.meta_path.insert(0, Refuse())
importlib.import_module(module)
"""


def _top_level_names(distribution: importlib.metadata.Distribution) -> set[str]:
    names = set()
    for file in distribution.files or ():
        top = file.parts[0]
        if top.endswith((".dist-info", ".data")) or top in ("..", "__pycache__", "bin"):
            continue
        names.add(top.removesuffix(".py").split(".")[0])
    return names


def layer_modules(requirements: list[str]) -> set[str]:
    """Top-level import names of ``requirements`` and everything they pull in."""
    names = {"cheese_runtime", "functions"}
    pending = [Requirement(r) for r in requirements]
    seen: set[tuple[str, frozenset[str]]] = set()
    while pending:
        requirement = pending.pop()
        key = (canonicalize_name(requirement.name), frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        distribution = importlib.metadata.distribution(requirement.name)
        names |= _top_level_names(distribution)
        for dependency in map(Requirement, distribution.requires or ()):
            environments = [{"extra": extra} for extra in requirement.extras] or [{"extra": ""}]
            if dependency.marker is None or any(
                dependency.marker.evaluate(e) for e in environments
            ):
                pending.append(dependency)
    return names


@dataclass(frozen=True)
class ImportProblem:
    function: str
    module: str
    error: str

    def __str__(self) -> str:
        return f"{self.function} ({self.module}): {self.error}"


def installed_modules() -> set[str]:
    names = set()
    for distribution in importlib.metadata.distributions():
        names |= _top_level_names(distribution)
    return names | PROJECT_PACKAGES_NOT_SHIPPED


def import_problems(specs: list[FunctionSpec], root: Path = REPO_ROOT) -> list[ImportProblem]:
    refused = sorted(installed_modules() - layer_modules(main_dependencies()))
    problems = []
    for spec in specs:
        if spec.ml_image:
            continue
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                _IMPORT_WITHOUT,
                spec.module,
                ",".join(spec.shared_modules),
                *refused,
            ],
            cwd=root,
            capture_output=True,
            text=True,
            env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"},
        )
        if result.returncode:
            error = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed"
            problems.append(ImportProblem(spec.name, spec.module, error))
    return problems


def main() -> int:
    problems = import_problems(all_function_specs())
    for problem in problems:
        print(problem)
    print(json.dumps({"zip_functions_that_cannot_import": len(problems)}), file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
