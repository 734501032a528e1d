"""The layers of ARCHITECTURE.md, enforced: no import goes up a layer or sideways between tools."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "apiward"

# lower number = lower layer; a module may import its own package and any lower layer
LAYERS = {
    "errors": 0,
    "core": 1,
    "config": 2,
    "audit": 3,
    "scan": 3,
    "gateway": 3,
    "inventory": 3,
    "demo": 3,
    "report": 4,
    "cli": 5,
    "dashboard": 5,
}
TOP_LEVEL_OK = {"__init__", "__main__"}


def _unit(module_path: Path) -> str:
    rel = module_path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    """Every apiward import outside `if TYPE_CHECKING:` blocks."""
    out: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import):
                out.extend((child.lineno, a.name) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                out.extend(
                    [(child.lineno, child.module)]
                    if child.module != "apiward"
                    else [(child.lineno, f"apiward.{a.name}") for a in child.names]
                )
            visit(child)

    visit(tree)
    return [(line, name) for line, name in out if name.startswith("apiward.")]


def _violations() -> list[str]:
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        unit = _unit(path)
        if unit in TOP_LEVEL_OK:
            continue
        if unit not in LAYERS:
            problems.append(f"{path}: package {unit!r} is not placed in a layer")
            continue
        for line, name in _imports(ast.parse(path.read_text(), str(path))):
            target = name.split(".")[1]
            if target == unit or target == "__version__":
                continue
            if target not in LAYERS:
                continue
            if LAYERS[target] > LAYERS[unit] or (LAYERS[target] == LAYERS[unit] and target != unit):
                problems.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {unit} imports {name}")
    return problems


def test_no_import_goes_up_or_sideways() -> None:
    assert _violations() == []


def test_the_check_catches_a_wrong_way_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "apiward"
    (fake / "core").mkdir(parents=True)
    (fake / "audit").mkdir()
    (fake / "core" / "bad.py").write_text("from apiward.audit import audit\n")
    (fake / "audit" / "sideways.py").write_text("import apiward.scan.engine\n")
    (fake / "scan").mkdir()
    (fake / "scan" / "engine.py").write_text("")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    found = _violations()
    assert any("core imports apiward.audit" in p for p in found)
    assert any("audit imports apiward.scan.engine" in p for p in found)
