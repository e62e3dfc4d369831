"""Only companion/ui/qt.py imports PySide6 (the one Qt gateway)."""

from __future__ import annotations

import ast
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


def test_many_void_calls_and_emits_do_not_exhaust_none_or_true(qtbot) -> None:  # type: ignore[no-untyped-def]
    """PySide6 6.12.0 on Python 3.11 drops a reference to None per void call and to True per emit."""
    from companion.ui.qt import QObject, QtWidgets, Signal, emit

    class Source(QObject):
        value = Signal(object)

    source, got, label = Source(), [], QtWidgets.QLabel()
    source.value.connect(got.append)
    for i in range(300_000):  # more than None's or True's real reference count
        label.setText("x")
        emit(source.value, i)
    assert len(got) == 300_000  # still alive: without the workaround this aborts the interpreter
