"""Only companion/ui/qt.py imports PySide6 (the one Qt gateway)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import companion.ui


def test_only_the_gateway_imports_pyside6() -> None:
    offenders = []
    for path in Path(companion.ui.__file__).parent.glob("*.py"):
        if path.name == "qt.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                       else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}: {m}" for m in modules if m.split(".")[0] in ("PySide6", "shiboken6")]
    assert offenders == []


def test_modules_stay_small() -> None:
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines())
             for p in Path(companion.ui.__file__).parent.glob("*.py")}
    assert max(sizes.values()) <= 400, sizes


def test_modules_emit_through_the_gateway() -> None:
    """Only qt.emit calls ``signal.emit`` (one place for emit quirks such as PySide6 6.12's refcount bug)."""
    offenders = [f"{p.name}:{n}" for p in Path(companion.ui.__file__).parent.glob("*.py") if p.name != "qt.py"
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if ".emit(" in line or ".emit)" in line]
    assert offenders == []


def test_void_calls_and_emits_keep_their_references_to_none_and_true(qtbot) -> None:  # type: ignore[no-untyped-def]
    """The installed binding must not drop references to ``None``/``True``.

    PySide6 6.12.0 on Python 3.11 dropped one per void call (None) and per emit (True) until
    the interpreter aborted hours into a session; pyproject excludes that release. This
    measures the installed binding directly, so any other release with the bug fails here
    (on Python >= 3.12 the singletons are immortal and the counts never move).
    """
    from companion.ui.qt import QObject, QtWidgets, Signal, emit

    class Source(QObject):
        value = Signal(object)

    source, got, label = Source(), [], QtWidgets.QLabel()
    source.value.connect(got.append)
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for i in range(2000):
        label.setText("x")
        emit(source.value, i)
    assert len(got) == 2000
    # The bug loses exactly 2000 of each; ordinary allocations move the counts by far less.
    assert sys.getrefcount(None) > none_before - 200 and sys.getrefcount(True) > true_before - 200
