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

PACKAGES = ("ui", "cli", "mcp")     # every front end: the window, the command line, the MCP server


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


ALLOWED_FROM_CORE = ("companion.core.types", "companion.core.errors")


def core_imports(source: str) -> list[str]:
    """Modules of ``companion.core`` that ``source`` imports (lazily or under TYPE_CHECKING too)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [f"{node.module}.{alias.name}" for alias in node.names] if node.module == "companion.core" else []
            found += names or [node.module]
    return [name for name in found if name == "companion.core" or name.startswith("companion.core.")]


def settings_writes(source: str) -> list[int]:
    """Line numbers where ``source`` changes a settings object in place (``x.settings.model = ...``, appends)."""
    def is_settings(node: ast.expr) -> bool:
        return ((isinstance(node, ast.Attribute) and node.attr == "settings")
                or (isinstance(node, ast.Name) and node.id == "settings"))

    lines = []
    for node in ast.walk(ast.parse(source)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, (ast.AugAssign, ast.AnnAssign)) else []
        for target in targets:
            for part in (target.elts if isinstance(target, ast.Tuple) else [target]):
                if isinstance(part, ast.Attribute) and is_settings(part.value):
                    lines.append(node.lineno)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("append", "remove", "extend", "insert", "clear", "pop")
                and isinstance(node.func.value, ast.Attribute) and is_settings(node.func.value.value)):
            lines.append(node.lineno)
        if isinstance(node, ast.Attribute) and node.attr == "save_settings":
            lines.append(node.lineno)
    return sorted(set(lines))


def front_end_sources() -> list[tuple[str, str]]:
    root = Path(companion.__file__).parent
    return [(str(path.relative_to(root.parent)), path.read_text(encoding="utf-8"))
            for package in PACKAGES for path in sorted((root / package).rglob("*.py"))]


def test_the_checks_see_core_imports_and_settings_writes() -> None:
    assert core_imports("from companion.core.library.indexing import IndexSummary\n"
                        "import companion.core.errors\nfrom companion.core import prompts, types\n"
                        "def f():\n    from companion.core.memory import persona\n") == [
        "companion.core.library.indexing", "companion.core.errors", "companion.core.prompts",
        "companion.core.types", "companion.core.memory"]
    assert settings_writes("services.settings.model = 'x'\nsettings = services.settings\n"
                           "settings.device, settings.appearance = 'cpu', 'dark'\n"
                           "self.services.settings.watched_folders.append(f)\nservices.save_settings()\n"
                           "self.settings = NavButton()\nprint(services.settings.model)\n") == [1, 3, 4, 5]


def test_ui_and_cli_take_from_the_core_only_its_types_and_errors() -> None:
    found = [f"{path}: {name}" for path, source in front_end_sources() for name in core_imports(source)
             if name not in ALLOWED_FROM_CORE]
    assert not found, "take these through companion.app instead: " + ", ".join(found)


def test_ui_and_cli_change_settings_only_through_the_app_layer() -> None:
    found = [f"{path}:{line}" for path, source in front_end_sources() for line in settings_writes(source)]
    assert not found, "change settings with companion.app.settings.update instead: " + ", ".join(found)
