"""Direction of imports: hosts -> usd -> core, never back (core has no pxr, Qt or DCC;
usd never imports hosts). Checked on the sources, by the import statements they hold."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(src: Path) -> list[tuple[Path, int, str]]:
    out = []
    for path in sorted(src.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                out.extend((path, node.lineno, a.name) for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                out.extend([(path, node.lineno, node.module)])
            elif (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module"
                  and node.args and isinstance(node.args[0], ast.Constant)
                  and isinstance(node.args[0].value, str)):
                out.append((path, node.lineno, node.args[0].value))
    return out


def _offending(layer: str, forbidden: tuple[str, ...]) -> list[str]:
    src = ROOT / layer / "src"
    return [f"{p.relative_to(ROOT)}:{line} imports {mod}" for p, line, mod in _imports(src)
            if mod.split(".")[0] in forbidden or mod.startswith(forbidden)]


def test_core_imports_neither_usd_nor_hosts_nor_apps() -> None:
    assert _offending("core", ("setpiece.usd", "setpiece.hosts", "pxr", "Qt", "PySide6",
                               "PySide2", "bpy", "maya", "hou", "nuke")) == []


def test_usd_never_imports_hosts() -> None:
    assert _offending("usd", ("setpiece.hosts", "Qt", "PySide6", "PySide2", "bpy", "maya",
                              "hou", "nuke")) == []
