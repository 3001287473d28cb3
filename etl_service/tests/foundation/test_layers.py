"""Lower layers never import upper ones: the dependency rule of the package, checked."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

PACKAGE = Path(__file__).resolve().parents[2]

LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "redact", "faults", "settings", "plugins", "shutdown", "snapshot", "src.models"),
    (
        "src.adapters",
        "aws.s3",
        "aws.session",
        "aws.ecs",
        "aws.rds",
        "aws.lake_formation",
        "aws.glue.api",
        "aws.glue.deploy",
        "aws.glue.local",
        "aws.glue.local_dq",
        "aws.glue.types",
    ),
    ("src.transforms", "aws.glue.dqdl"),
    ("src.db",),
    ("engines",),
    ("sinks",),
    ("pipelines",),
    ("report",),
    ("cli", "aws.glue"),
)
"""From the bottom up; a module may import its own layer and the ones below."""


def _layer(module: str) -> int | None:
    name = module.removeprefix("etl_service.")
    for index, prefixes in enumerate(LAYERS):
        if any(name == p or name.startswith(p + ".") for p in prefixes):
            return index
    return None


def _is_main_guard(node: ast.AST) -> bool:
    """``if __name__ == "__main__":``: a ``python -m`` entry point may call the CLI."""
    return (
        isinstance(node, ast.If)
        and isinstance(node.test, ast.Compare)
        and isinstance(node.test.left, ast.Name)
        and node.test.left.id == "__name__"
    )


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    body = [node for node in tree.body if not _is_main_guard(node)]
    found = []
    for node in (inner for top in body for inner in ast.walk(top)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
    return [m for m in found if m.startswith("etl_service.")]


def test_no_module_imports_a_layer_above_its_own() -> None:
    violations = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(relative.parts)
        own = _layer(module)
        if own is None or "tests" in relative.parts:
            continue
        for imported in _imports(path):
            theirs = _layer(imported)
            if theirs is not None and theirs > own:
                violations.append(f"{module} imports {imported}")
    assert violations == []


def test_every_source_module_belongs_to_a_layer() -> None:
    unplaced = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[0] in {"tests", "__init__", "__main__", "aws"} or not path.read_text().strip():
            continue
        if parts[-1] == "__init__" and not _imports(path):
            continue
        if _layer(".".join(parts)) is None:
            unplaced.append(".".join(parts))
    assert unplaced == []
