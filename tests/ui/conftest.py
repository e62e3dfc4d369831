"""GUI test fixtures: offscreen Qt, real Services on the test's private home, and the window.

``QT_QPA_PLATFORM`` must be set before Qt is imported, so it is set at the top.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path

import pytest

try:
    import PySide6  # noqa: F401
except ImportError:  # the headless job: nothing here can run, collect nothing
    collect_ignore_glob = ["test_*.py"]
    HAVE_QT = False
else:
    HAVE_QT = True

if HAVE_QT:
    from companion.ui.main_window import MainWindow
    from companion.ui.qt import QtWidgets
    from companion.ui.workers import WorkerPool

from companion.app.services import Services


@pytest.fixture()
def services(companion_home: Path) -> Iterator[Services]:
    """Real services on the test's COMPANION_HOME."""
    svc = Services.open(companion_home)
    yield svc
    svc.close()


@pytest.fixture()
def workers(services: Services) -> Iterator[WorkerPool]:
    pool = WorkerPool()
    yield pool
    assert pool.shutdown(10_000), "a worker did not stop"


@pytest.fixture()
def window(qtbot, services: Services) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    win = MainWindow(services)
    qtbot.addWidget(win)
    win.show()
    yield win
    assert win.workers.shutdown(10_000), "a worker did not stop"


@pytest.fixture()
def say_yes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Answer every confirmation with Yes and record the questions asked."""
    asked: list[str] = []

    def question(_parent, _title, text, *args, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(text)
        return QtWidgets.QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QtWidgets.QMessageBox, "question", question)
    return asked
