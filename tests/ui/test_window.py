"""The main window: keyboard shortcuts, view switching, source cards opening photos and memories."""

from __future__ import annotations

from pathlib import Path

import pytest
import sample_data

from companion.app import concepts
from companion.app.services import Services
from companion.ui.main_window import MainWindow
from companion.ui.qt import QtCore, QtGui


def shortcuts(window: MainWindow) -> dict[str, str]:
    found = {}
    for action in window.findChildren(QtGui.QAction):
        for key in action.shortcuts():
            found[key.toString(QtGui.QKeySequence.SequenceFormat.PortableText)] = action.text()
    return found


def test_keyboard_shortcuts(qtbot, window: MainWindow) -> None:
    keys = shortcuts(window)
    assert keys["Ctrl+O"] == "&Open photo…"
    assert keys["Ctrl+Return"] == "&Send"
    assert keys["Esc"] == "S&top"
    assert keys["Ctrl+,"] == "&Settings…"
    assert [keys[f"Ctrl+{i}"] for i in range(1, 5)] == ["Chat", "People", "Photos", "Memories"]
    assert keys["Ctrl+K"] == "&Search…" and keys["Ctrl+N"] == "&New chat"
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    qtbot.keyClick(window, QtCore.Qt.Key.Key_3, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentWidget() is window.photos
    qtbot.keyClick(window, QtCore.Qt.Key.Key_1, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentWidget() is window.chat
    qtbot.keyClick(window, QtCore.Qt.Key.Key_K, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert window.header.search.hasFocus()


def test_opening_a_photo_source_shows_its_detail(qtbot, window: MainWindow, services: Services,
                                                  tmp_path: Path) -> None:
    ids = sample_data.seed_photos(services, tmp_path, count=2)
    window.chat.open_photo.emit(ids[1])  # what a clicked photo card sends
    assert window.stack.currentWidget() is window.photos
    qtbot.waitUntil(lambda: window.photos.where.text() == "Lisbon, Portugal", timeout=5000)


def test_opening_a_memory_source_selects_it(qtbot, window: MainWindow, services: Services) -> None:
    ids = sample_data.seed_memories(services)
    window.chat.open_memory.emit(ids[2])
    assert window.stack.currentWidget() is window.memories
    qtbot.waitUntil(lambda: (window.memories.selected() or None) is not None
                    and window.memories.selected().id == ids[2], timeout=5000)


def test_reminder_notification_reaches_the_status_bar(qtbot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.notified, timeout=2000) as blocker:
        window.notify("Reminder about Anna", "return her tent")
    assert blocker.args == ["Reminder about Anna", "return her tent"]
    assert "return her tent" in window.statusBar().currentMessage()


def test_main_starts_shows_the_window_and_shuts_down_cleanly(qtbot, companion_home: Path) -> None:
    from companion.ui import app as app_module
    from companion.ui.qt import QtWidgets

    seen: dict[str, object] = {}

    def quit_when_shown() -> None:
        windows = [w for w in QtWidgets.QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        seen["visible"] = bool(windows) and windows[-1].isVisible()
        seen["onboarding"] = bool(windows) and windows[-1].onboarding is not None
        seen["services"] = windows[-1].services if windows else None
        QtWidgets.QApplication.quit()

    QtCore.QTimer.singleShot(200, quit_when_shown)
    assert app_module.main(["--home", str(companion_home)]) == 0
    # quit() leaves Qt's quit-now flag set until the next exec(), which would freeze
    # processEvents-based waits in later tests: run one empty loop to clear it.
    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(0, loop.quit)
    loop.exec()
    assert seen["visible"] and seen["onboarding"]  # first run: onboarding on top of the window
    services = seen["services"]
    assert isinstance(services, Services)
    with pytest.raises(Exception, match="closed"):
        services.store.concepts.list()  # the store was closed at shutdown


def test_a_bad_settings_file_is_shown_and_the_window_does_not_start(qtbot, companion_home: Path) -> None:
    from companion.ui import app as app_module
    from companion.ui.qt import QtWidgets

    settings = companion_home / "settings.toml"
    settings.parent.mkdir(parents=True)
    settings.write_text('schema_version = 4\nidle_unload_seconds = "ten minutes"\n')
    shown: list[str] = []

    def read_the_message() -> None:
        box = QtWidgets.QApplication.activeModalWidget()
        if not isinstance(box, QtWidgets.QMessageBox):
            QtCore.QTimer.singleShot(50, read_the_message)     # not up yet
            return
        shown.append(box.text())
        box.done(0)

    QtCore.QTimer.singleShot(50, read_the_message)
    assert app_module.main(["--home", str(companion_home)]) == 1
    assert len(shown) == 1 and "idle_unload_seconds" in shown[0] and str(settings) in shown[0]
    assert not [w for w in QtWidgets.QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]


def test_a_damaged_store_is_said_when_the_window_opens(qtbot, companion_home: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from companion.ui import app as app_module
    from companion.ui.qt import QtWidgets
    from tests.unit.test_store_integrity import damaged_profile

    damaged_profile()
    said: list[str] = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "critical", lambda _parent, _title, text: said.append(text))
    services = Services.open(companion_home)
    window = MainWindow(services)
    qtbot.addWidget(window)
    with qtbot.waitSignal(app_module.check_store(window, services).signals.failed, timeout=30_000):
        pass
    assert len(said) == 1 and "is damaged" in said[0] and "restore it from a backup" in said[0]
    assert window.workers.shutdown(10_000)
    services.close()


def test_every_control_has_an_accessible_name(qtbot, window: MainWindow) -> None:
    """Screen readers can name every button and field (icon-only buttons included)."""
    from companion.ui.qt import QtWidgets

    for index in range(4):
        window.show_view(index)
        qtbot.wait(50)
    controls = [w for w in window.findChildren(QtWidgets.QAbstractButton) + window.findChildren(QtWidgets.QLineEdit)
                + window.findChildren(QtWidgets.QPlainTextEdit)
                if not isinstance(w.parent(), QtWidgets.QLineEdit) and not w.objectName().startswith("qt_")]
    nameless = [f"{type(w).__name__} {w.objectName()}" for w in controls
                if not (w.accessibleName() or (isinstance(w, QtWidgets.QAbstractButton) and w.text()))]
    assert nameless == []


def test_navigation_shows_counts(qtbot, window: MainWindow, services: Services, tmp_path: Path) -> None:
    sample_data.seed_photos(services, tmp_path, count=3)
    sample_data.seed_memories(services)
    concepts.add_concept(services, "Anna", "person")
    with qtbot.waitSignal(window.counted, timeout=5000):
        window.refresh_counts()
    people, photos, memories = window.sidebar.buttons[1:]
    assert (people.count_label.text(), photos.count_label.text(), memories.count_label.text()) == ("1", "3", "5")
    assert photos.accessibleName() == "Photos, 3"
