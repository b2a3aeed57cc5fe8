"""The import direction of docs/ARCHITECTURE.md, enforced by walking the package with ``ast``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "fleet"

# layer -> layers it may import (besides itself). Lower layers never import higher ones.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "clock": set(),
    "model": {"errors", "clock"},
    "codec": {"model", "errors", "clock"},
    "observe": {"model", "errors", "clock"},
    "device": {"model", "errors", "clock", "observe", "codec"},
    "client": {"device", "observe", "codec", "model", "errors", "clock"},
    "faults": {"client", "device", "observe", "codec", "model", "errors", "clock"},
    "metrics": {"client", "device", "observe", "codec", "model", "errors", "clock"},
    "scenario": {"faults", "client", "device", "observe", "codec", "model", "errors", "clock"},
    "report": {"metrics", "client", "device", "observe", "codec", "model", "errors", "clock"},
    "runner": {
        "scenario",
        "faults",
        "metrics",
        "client",
        "device",
        "observe",
        "codec",
        "model",
        "errors",
        "clock",
    },
}
# server/, testing/ and cli may use anything; nothing in the core may import them.
TOP = {"server", "testing", "cli", "demo"}
AIOCOAP_ALLOWED = {"client", "testing", "server"}


def _layer(module: Path) -> str:
    rel = module.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _imports(module: Path) -> list[tuple[str, int]]:
    tree = ast.parse(module.read_text(), filename=str(module))
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "_objects" not in p.parts)


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(module: Path) -> None:
    layer = _layer(module)
    for name, line in _imports(module):
        root = name.split(".")[0]
        if root == "aiocoap":
            assert layer in AIOCOAP_ALLOWED, f"{module}:{line}: {layer}/ must not import aiocoap"
        if root != "fleet" or name == "fleet":
            continue
        target = name.split(".")[1]
        if layer in TOP or target == layer:
            continue
        assert target not in TOP, f"{module}:{line}: core layer {layer}/ imports {target}/"
        assert target in ALLOWED.get(layer, set()), (
            f"{module}:{line}: {layer}/ may not import {target}/"
            f" (allowed: {sorted(ALLOWED[layer])})"
        )


def test_every_module_has_a_docstring() -> None:
    missing = [
        str(p.relative_to(PACKAGE))
        for p in MODULES
        if ast.get_docstring(ast.parse(p.read_text())) is None
    ]
    assert missing == []


def test_a_forbidden_import_is_detected(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text('"""x"""\nfrom fleet.server import thing\nimport aiocoap\n')
    assert ("fleet.server", 2) in _imports(bad)
    assert ("aiocoap", 3) in _imports(bad)
