"""Settings › Backup: back up from the window, and restore after a confirmation that can be declined."""

from __future__ import annotations

from pathlib import Path

import pytest

from companion.app import concepts
from companion.app.services import Services
from companion.ui.main_window import MainWindow
from companion.ui.qt import QtWidgets


def test_back_up_then_restore_from_settings_asks_first(qtbot, window: MainWindow, services: Services,  # type: ignore[no-untyped-def]
                                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    concepts.add_concept(services, "Anna", "person")
    dialog = window.open_settings()
    dialog.show_page("Backup")
    panel = dialog.backup
    archive = tmp_path / "window.zip"
    with qtbot.waitSignal(panel.start_backup(archive).signals.finished, timeout=20_000):
        pass
    assert archive.is_file() and "Backed up to" in panel.status.text()

    concepts.add_concept(services, "Ben", "person")
    answers = [QtWidgets.QMessageBox.StandardButton.No]
    asked: list[str] = []

    def question(_parent: object, _title: str, text: str, *args: object) -> object:
        asked.append(text)
        return answers.pop(0)

    monkeypatch.setattr(QtWidgets.QMessageBox, "question", question)
    assert not panel.confirm_restore(archive)                       # declined: nothing happens
    assert {c.name for c in services.store.concepts.list()} == {"Anna", "Ben"}
    answers.append(QtWidgets.QMessageBox.StandardButton.Yes)
    assert panel.confirm_restore(archive) and "replaces" in asked[-1]
    with qtbot.waitSignal(panel.restored, timeout=20_000):
        panel.start_restore(archive)
    assert {c.name for c in services.store.concepts.list()} == {"Anna"}   # the window's own store, reopened
    assert "Restored: 1 people" in panel.status.text()
