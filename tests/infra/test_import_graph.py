"""The CDK app's modules import one another without cycles.

A cycle (components → grants → stacks → components) makes the import order
matter and hides which layer depends on which; type-only imports count too,
since they are how such cycles creep back in.
"""

from __future__ import annotations

import ast
from pathlib import Path

INFRA = Path(__file__).resolve().parents[2] / "infra"


def _module_name(path: Path) -> str:
    parts = path.relative_to(INFRA.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _infra_imports(path: Path) -> set[str]:
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("infra"):
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(a.name for a in node.names if a.name.startswith("infra"))
    return imported


def test_infra_modules_import_each_other_without_cycles() -> None:
    graph = {_module_name(p): _infra_imports(p) for p in INFRA.rglob("*.py")}
    state: dict[str, str] = {}
    cycles: list[list[str]] = []

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                cycles.append([*trail[trail.index(target) :], target])
            elif target not in state:
                visit(target, [*trail, target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles in infra: " + "; ".join(" → ".join(c) for c in cycles)
