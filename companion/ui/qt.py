"""The one gateway to Qt: every other module imports Qt names from here, never PySide6.

Changing the binding (or working around a binding bug) then touches one file,
as qutebrowser does with its ``qt/`` shims. ``tests/ui/test_gateway.py``
fails if another module imports PySide6 directly.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any, TypeAlias

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal, Slot

__all__ = ["QtCore", "QtGui", "QtWidgets", "Qt", "QObject", "QRunnable", "QThreadPool", "QTimer",
           "Signal", "Slot", "emit", "ModelIndex"]

# What item delegates and models are handed as an index (their overrides must accept both).
ModelIndex: TypeAlias = QtCore.QModelIndex | QtCore.QPersistentModelIndex


def _calls_drop_references() -> bool:
    """True when PySide6 returns ``None``/``True`` without owning a reference to them.

    PySide6 6.12.0 on CPython 3.11 (where ``None`` and ``True`` are not yet
    immortal) does this: every call of a void method (``setText``,
    ``processEvents``…) lowers ``None``'s refcount by one, and every Python-side
    ``emit`` lowers ``True``'s. After enough calls the interpreter aborts with
    "none_dealloc: deallocating None". PySide6 6.11.3 on the same Python does not.
    """
    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(16):
        probe.setObjectName("probe")   # a void method
        probe.ping.emit()
    return (sys.getrefcount(None) <= none_before - 16) or (sys.getrefcount(True) <= true_before - 16)


# WORKAROUND for the PySide6 6.12.0 refcount bug above (seen with Python 3.11.7; fixed by
# Python >= 3.12, whose singletons are immortal, or by PySide6 < 6.12): make the singletons
# effectively immortal, as Python 3.12 does, by giving them a huge reference count. They are
# never freed anyway, so nothing else changes. ``ob_refcnt`` is PyObject's first field.
if sys.version_info < (3, 12) and _calls_drop_references():
    for _singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(_singleton)).value += 1 << 40


def emit(signal: Any, *args: Any) -> None:
    """Emit ``signal`` with ``args``: the one place Python code emits, where emit quirks are handled."""
    signal.emit(*args)
