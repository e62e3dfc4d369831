"""Importing from the window: a chat (progress, Stop keeps what was saved, importing again continues), a dropped
ChatGPT export, a RAP concept database."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from companion.app.services import Services
from companion.ui.concept_import import import_database
from companion.ui.main_window import MainWindow
from companion.ui.qt import QtCore, QtWidgets
from tests.ui.test_chat import drop
from tests.unit import _exports
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


def test_a_chatgpt_export_dropped_on_the_window_is_imported(qtbot, window: MainWindow, services: Services,
                                                            tmp_path: Path) -> None:
    export = _exports.chatgpt_zip(tmp_path / "chatgpt-export.zip")
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(export))])
    assert drop(window, mime)
    qtbot.waitUntil(lambda: "conversations from chatgpt-export.zip" in window.statusBar().currentMessage(),
                    timeout=60_000)
    assert window.statusBar().currentMessage().startswith("Imported 6 turns into 2 of 2 conversations")
    assert services.store.conversations.count_turns() == 6


def test_a_rap_database_imported_from_the_window_shows_what_it_made(qtbot, window: MainWindow, services: Services,
                                                                    tmp_path: Path) -> None:
    Image.new("RGB", (32, 32), (90, 60, 30)).save(tmp_path / "rex.png")
    database = tmp_path / "database.json"
    database.write_text(json.dumps({"concept_dict": {"<rex>": {"name": "Rex", "image": "rex.png", "category": "dog",
                                                               "info": "<rex> is a dachshund."}}}))
    summaries: list[str] = []
    worker = import_database(window, services, window.workers, database, summaries.append)
    qtbot.waitUntil(lambda: worker.done.is_set() and bool(summaries), timeout=60_000)
    assert summaries == ["database.json: 1 added, 0 updated, 0 unchanged, 0 skipped"]
    report = window.findChild(QtWidgets.QMessageBox, None)
    assert report is not None and "added pet Rex" in report.detailedText()
    assert [c.name for c in services.store.concepts.list()] == ["Rex"]
    report.close()
