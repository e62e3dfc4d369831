"""Importing a chat from the window: progress while it runs, Stop keeps what was saved, importing again continues."""

from __future__ import annotations

from pathlib import Path

from companion.app.services import Services
from companion.ui.main_window import MainWindow
from companion.ui.qt import QtWidgets
from tests.unit.test_import import conversation, write


def test_an_import_shows_progress_and_says_what_it_did(qtbot, window: MainWindow, services: Services,
                                                       tmp_path: Path) -> None:
    path = write(tmp_path / "chat.jsonl", conversation(300))
    seen: list[int] = []
    worker = window.import_chat(path)
    worker.signals.progress.connect(lambda p: seen.append(p.done))
    qtbot.waitUntil(lambda: worker.done.is_set(), timeout=60_000)
    qtbot.waitUntil(lambda: "Imported 300 turns" in window.statusBar().currentMessage(), timeout=5000)
    assert seen and seen[-1] == 300
    assert window.import_dialog is not None and not window.import_dialog.isVisible()
    assert services.store.conversations.count_turns() == 300


def test_stop_keeps_what_was_saved_and_importing_again_continues(qtbot, window: MainWindow, services: Services,
                                                                tmp_path: Path) -> None:
    path = write(tmp_path / "chat.jsonl", conversation(3000))
    worker = window.import_chat(path)
    dialog = window.import_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.value() > 0, timeout=60_000)      # a batch is in
    stop = dialog.findChild(QtWidgets.QPushButton)
    assert stop.text() == "Stop"
    stop.click()
    qtbot.waitUntil(lambda: worker.done.is_set(), timeout=60_000)
    qtbot.waitUntil(lambda: "stopped" in window.statusBar().currentMessage(), timeout=5000)
    saved = services.store.conversations.count_turns()
    assert 0 < saved < 3000
    again = window.import_chat(path)
    qtbot.waitUntil(lambda: again.done.is_set(), timeout=120_000)
    qtbot.waitUntil(lambda: "(resumed)" in window.statusBar().currentMessage(), timeout=5000)
    assert services.store.conversations.count_turns() == 3000
