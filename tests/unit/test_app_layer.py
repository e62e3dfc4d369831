"""The window and the command line read the library only through the use cases in ``companion.app``.

import-linter stops ``companion.ui`` and ``companion.cli`` from importing ``companion.core.store``,
but a view holding a ``Services`` could still reach ``services.store.photos...`` without importing
anything. This test reads their source and fails on any ``.store`` attribute (or
``getattr(..., "store")``), so each such read has to become a function in ``companion/app``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import companion

PACKAGES = ("ui", "cli")


def store_reads(source: str) -> list[int]:
    """Line numbers where ``source`` reads an attribute called ``store``."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr == "store":
            lines.append(node.lineno)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "hasattr")
              and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and node.args[1].value == "store"):
            lines.append(node.lineno)
    return sorted(lines)


def test_the_check_sees_direct_and_indirect_store_reads() -> None:
    assert store_reads("def f(services):\n    return services.store.photos.count()\n") == [2]
    assert store_reads("x = self.services.store\ny = getattr(services, 'store')\n") == [1, 2]
    assert store_reads("services.settings.model\nlibrary.photo_count(services, 1)\n") == []


def test_ui_and_cli_read_the_store_only_through_the_app_layer() -> None:
    root = Path(companion.__file__).parent
    found = [f"{path.relative_to(root.parent)}:{line}"
             for package in PACKAGES for path in sorted((root / package).rglob("*.py"))
             for line in store_reads(path.read_text(encoding="utf-8"))]
    assert not found, "read these through a use case in companion/app instead: " + ", ".join(found)
