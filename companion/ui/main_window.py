"""The main window: a sidebar of views, menus and shortcuts, indexing in the status bar.

Photos dropped anywhere on the window go to the chat. Indexing runs
``app.library.index`` on a worker; while the window is open the watched folders
are watched too (``app.library.watch``, on the watcher's own thread), and their
batches show in the same status bar. A reminder that fires for a newly indexed
photo becomes a system-tray notification when the platform has a tray (and a
status-bar message always).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from companion.app import chat, library
from companion.core.library.indexing import IndexSummary
from companion.core.types import Progress
from companion.ui import images
from companion.ui.chat_view import ChatView
from companion.ui.memories_view import MemoriesView
from companion.ui.onboarding import Onboarding
from companion.ui.people_view import PeopleView
from companion.ui.photos_view import PhotosView
from companion.ui.qt import QObject, QtCore, QtGui, QtWidgets, Signal, emit
from companion.ui.settings_dialog import SettingsDialog
from companion.ui.workers import Worker, WorkerPool

VIEWS = ("Chat", "People & things", "Photos", "Memories")


def describe(summary: IndexSummary) -> str:
    """One status-bar line a user can read, e.g. "3 new photos, 1 changed, 2 skipped, 4 faces"."""
    parts = [f"{summary.new} new photo{'s' if summary.new != 1 else ''}"]
    for count, label in ((summary.changed, "changed"), (summary.moved, "moved"), (summary.removed, "removed"),
                         (len(summary.skipped), "skipped"), (summary.faces, "faces")):
        if count:
            parts.append(f"{count} {label}")
    return ", ".join(parts)


class WatchBridge(QObject):
    """Carries the folder watcher's callbacks (its own thread) to the GUI thread as signals.

    Signals:
        progress(object): a ``Progress`` of the batch being indexed.
        summary(object): the ``IndexSummary`` of a finished batch.
        status(str): a message such as "watched folder was deleted: ...".
    """

    progress = Signal(object)
    summary = Signal(object)
    status = Signal(str)

    def on_event(self, event: Any) -> None:
        emit(self.summary, event) if isinstance(event, IndexSummary) else emit(self.status, str(event))

    def on_progress(self, progress: Any) -> None:
        emit(self.progress, progress)


class MainWindow(QtWidgets.QMainWindow):
    """Companion's window.

    Signals:
        indexing_finished(object): the index summary (None when cancelled or failed).
        watched(object): the ``IndexSummary`` of a watched-folder batch, after the window showed it.
        notified(str, str): a tray notification was shown (title, message); for tests and logs.
    """

    indexing_finished = Signal(object)
    watched = Signal(object)
    notified = Signal(str, str)

    def __init__(self, services: Any, workers: WorkerPool | None = None) -> None:
        super().__init__()
        self.services = services
        self.workers = workers or WorkerPool(self)
        self.index_worker: Worker | None = None
        self._summary: IndexSummary | None = None
        self.watcher: Any = None
        self.watch_cancel = threading.Event()
        self.watch_bridge = WatchBridge(self)
        self.watch_bridge.progress.connect(self._on_index_progress)
        self.watch_bridge.summary.connect(self._on_watch_summary)
        self.watch_bridge.status.connect(self.show_status)
        self.onboarding: Onboarding | None = None
        self.setWindowTitle("Companion")
        self.setAcceptDrops(True)
        self.resize(1100, 720)

        self.chat = ChatView(services, self.workers)
        self.people = PeopleView(services, self.workers)
        self.photos = PhotosView(services, self.workers)
        self.memories = MemoriesView(services, self.workers)
        self.stack = QtWidgets.QStackedWidget()
        self.nav = QtWidgets.QListWidget()
        self.nav.setFixedWidth(160)
        for name, view in zip(VIEWS, (self.chat, self.people, self.photos, self.memories)):
            self.stack.addWidget(view)
            self.nav.addItem(name)
            if hasattr(view, "status"):
                view.status.connect(self.show_status)
        self.nav.currentRowChanged.connect(self.show_view)
        central = QtWidgets.QWidget()
        row = QtWidgets.QHBoxLayout(central)
        row.addWidget(self.nav)
        row.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.chat.open_photo.connect(self.open_photo)
        self.chat.open_memory.connect(self.open_memory)

        self.index_label = QtWidgets.QLabel()
        self.index_bar = QtWidgets.QProgressBar()
        self.index_bar.setMaximumWidth(220)
        self.index_cancel = QtWidgets.QToolButton(text="Stop indexing")
        self.index_cancel.clicked.connect(self.cancel_indexing)
        for widget in (self.index_label, self.index_bar, self.index_cancel):
            self.statusBar().addPermanentWidget(widget)
            widget.hide()
        self.tray = self._make_tray()
        self._build_menus()
        self.nav.setCurrentRow(0)

    # ---- menus and shortcuts ------------------------------------------------------------

    def _build_menus(self) -> None:
        def action(menu: QtWidgets.QMenu, text: str, slot: Any, shortcut: Any = None) -> QtGui.QAction:
            act = menu.addAction(text)
            act.triggered.connect(slot)
            if shortcut is not None:
                act.setShortcut(QtGui.QKeySequence(shortcut))
            return act

        file_menu = self.menuBar().addMenu("&File")
        action(file_menu, "&Open photo…", self.pick_photo, QtGui.QKeySequence.StandardKey.Open)
        action(file_menu, "&Import chat…", self.pick_chat)
        action(file_menu, "Index &now", lambda: self.start_indexing())
        file_menu.addSeparator()
        action(file_menu, "&Quit", self.close, QtGui.QKeySequence.StandardKey.Quit)
        view_menu = self.menuBar().addMenu("&View")
        for i, name in enumerate(VIEWS):
            action(view_menu, name, lambda _=False, i=i: self.show_view(i), f"Ctrl+{i + 1}")
        chat_menu = self.menuBar().addMenu("&Chat")
        action(chat_menu, "&Send", self.chat.send, "Ctrl+Return")
        action(chat_menu, "S&top", self.chat.stop, "Esc")
        tools = self.menuBar().addMenu("&Tools")
        action(tools, "&Settings…", self.open_settings, "Ctrl+,")
        help_menu = self.menuBar().addMenu("&Help")
        action(help_menu, "&Getting started…", self.open_onboarding)
        # Ctrl+Enter on the keypad is a different key: accept it too.
        QtGui.QShortcut(QtGui.QKeySequence("Ctrl+Enter"), self, self.chat.send)

    def show_view(self, index: int) -> None:
        """Show view ``index`` (and reload it from the store)."""
        if self.nav.currentRow() != index:
            self.nav.setCurrentRow(index)  # comes back here through currentRowChanged
            return
        self.stack.setCurrentIndex(index)
        view = self.stack.currentWidget()
        if view is not self.chat and hasattr(view, "reload"):
            view.reload()

    def show_status(self, message: str) -> None:
        self.statusBar().showMessage(message, 8000)

    # ---- photos in --------------------------------------------------------------------

    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if any(images.is_image(u.toLocalFile()) for u in event.mimeData().urls()) or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:  # noqa: N802 - Qt override
        paths = [u.toLocalFile() for u in event.mimeData().urls() if images.is_image(u.toLocalFile())]
        if paths:
            self.ask_about(paths[0])
            event.acceptProposedAction()
        elif event.mimeData().hasImage():
            self.chat.input.insertFromMimeData(event.mimeData())
            self.show_view(0)
            event.acceptProposedAction()

    def ask_about(self, path: str | Path) -> None:
        self.show_view(0)
        self.chat.attach_image(path)

    def pick_photo(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open a photo", str(Path.home()),
                                                        "Images (*.jpg *.jpeg *.png *.webp *.heic *.heif)")
        if path:
            self.ask_about(path)

    def pick_chat(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Import a chat (JSONL)", str(Path.home()),
                                                        "Chat export (*.jsonl)")
        if path:
            worker = self.workers.start(lambda _c: chat.import_chat(self.services, Path(path)), "import chat")
            worker.signals.finished.connect(lambda r: self.show_status(
                f"Imported {r.turns} messages, learned {r.memories} memories"))
            worker.signals.failed.connect(lambda m: QtWidgets.QMessageBox.warning(self, "Import failed", m))

    def open_photo(self, photo_id: int) -> None:
        self.show_view(2)
        self.photos.show_photo(photo_id)

    def open_memory(self, memory_id: int) -> None:
        self.stack.setCurrentIndex(3)
        self.nav.setCurrentRow(3)
        self.memories.select_memory(memory_id)

    # ---- dialogs ----------------------------------------------------------------------

    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self.services, self.workers, self)
        folders_before = list(self.services.settings.watched_folders)
        dialog.applied.connect(lambda: self._settings_applied(folders_before))
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _settings_applied(self, folders_before: list[str]) -> None:
        self.show_status("Settings saved")
        folders = list(self.services.settings.watched_folders)
        added = [f for f in folders if f not in folders_before]
        if folders != folders_before and self.watcher is not None:
            self.start_watching()
        if added:
            self.start_indexing(added)

    def open_onboarding(self) -> Onboarding:
        self.onboarding = Onboarding(self.services, self.workers, self)
        self.onboarding.completed.connect(self._onboarding_completed)
        self.onboarding.open()
        return self.onboarding

    # ---- indexing ---------------------------------------------------------------------

    def _onboarding_completed(self, start_indexing: bool) -> None:
        self.start_watching()
        if start_indexing:
            self.start_indexing()

    def start_indexing(self, targets: list[str] | None = None) -> Worker | None:
        """Index ``targets`` (default: every watched folder) on a worker, with progress below."""
        if self.index_worker is not None:
            return self.index_worker
        folders = [Path(t) for t in (targets or self.services.settings.watched_folders)]
        if not folders:
            self.show_status("No folders to index: add some in Settings")
            return None
        self.index_worker = worker = self.workers.start(lambda c: library.index(self.services, folders, c), "index")
        worker.signals.progress.connect(self._on_index_progress)
        worker.signals.item.connect(self._on_index_item)
        worker.signals.finished.connect(self._on_index_finished)
        worker.signals.failed.connect(lambda m: self._on_index_finished(None, m))
        self._show_index_widgets("Indexing…")
        return worker

    def cancel_indexing(self) -> None:
        """The status bar's Stop: ends the scan in progress and the watched-folder batch, if any."""
        if self.index_worker is not None:
            self.index_worker.cancel()
        if self.watcher is not None:
            self.watch_cancel.set()   # cleared when that batch's summary arrives

    def _show_index_widgets(self, text: str) -> None:
        if self.index_label.isHidden():
            self.index_bar.setRange(0, 0)
        for widget in (self.index_label, self.index_bar, self.index_cancel):
            widget.show()
        self.index_label.setText(text)

    def _hide_index_widgets(self) -> None:
        for widget in (self.index_label, self.index_bar, self.index_cancel):
            widget.hide()

    def _on_index_progress(self, progress: Progress) -> None:
        if self.index_label.isHidden():
            self._show_index_widgets("")
        if progress.total:
            self.index_bar.setRange(0, progress.total)
            self.index_bar.setValue(progress.done)
        self.index_label.setText(f"Indexing: {progress.done}/{progress.total or '?'} {progress.message}".strip())

    def _on_index_item(self, value: Any) -> None:
        if isinstance(value, IndexSummary):
            self._summary = value

    def _notify_reminders(self, summary: IndexSummary | None) -> None:
        for reminder in summary.reminders if summary is not None else []:
            self.notify(f"Reminder about {reminder.name}", reminder.text())

    def _on_index_finished(self, summary: Any, error: str = "") -> None:
        worker, self.index_worker = self.index_worker, None
        summary, self._summary = summary if summary is not None else self._summary, None
        self._hide_index_widgets()
        if error:
            self.show_status(f"Indexing failed: {error}")
        elif worker is not None and worker.cancelled:
            self.show_status("Indexing stopped")
        else:
            self.show_status(f"Indexing done: {describe(summary)}" if summary is not None else "Indexing done")
            self._notify_reminders(summary)
        self._reload_current_view()
        emit(self.indexing_finished, None if error else summary)

    def _reload_current_view(self) -> None:
        view = self.stack.currentWidget()
        if view is not self.chat and hasattr(view, "reload"):
            view.reload()

    # ---- watched folders --------------------------------------------------------------

    def start_watching(self) -> None:
        """Watch the watched folders while the window is open (restarts after a folder change)."""
        self.stop_watching(wait=False)
        if not self.services.settings.watched_folders:
            return
        self.watch_cancel = threading.Event()
        self.watcher = library.watch(self.services, self.watch_bridge.on_event,
                                     on_progress=self.watch_bridge.on_progress, cancel=self.watch_cancel)

    def stop_watching(self, wait: bool = True) -> None:
        """Stop the watcher; without ``wait`` the join happens on a worker so the window never blocks."""
        watcher, self.watcher = self.watcher, None
        if watcher is None:
            return
        self.watch_cancel.set()
        if wait:
            watcher.stop()
        else:
            self.workers.start(lambda _cancel: watcher.stop(), "stop-watcher")

    def _on_watch_summary(self, summary: IndexSummary) -> None:
        if self.index_worker is None:
            self._hide_index_widgets()
        if summary.cancelled:
            self.watch_cancel.clear()
            self.show_status("Indexing stopped; the rest waits for the next scan")
        elif summary.new or summary.changed or summary.moved or summary.removed or summary.skipped:
            self.show_status(f"Watched folders: {describe(summary)}")
        self._notify_reminders(summary)
        if summary.photos_indexed or summary.removed or summary.moved:
            self._reload_current_view()
        emit(self.watched, summary)

    # ---- tray and shutdown ------------------------------------------------------------

    def _make_tray(self) -> QtWidgets.QSystemTrayIcon | None:
        if not QtWidgets.QSystemTrayIcon.isSystemTrayAvailable():
            return None
        tray = QtWidgets.QSystemTrayIcon(self.windowIcon(), self)
        tray.show()
        return tray

    def notify(self, title: str, message: str) -> None:
        """A desktop notification when there is a tray, and always the status bar."""
        if self.tray is not None and QtWidgets.QSystemTrayIcon.supportsMessages():
            self.tray.showMessage(title, message, QtWidgets.QSystemTrayIcon.MessageIcon.Information, 10_000)
        self.show_status(f"{title}: {message}")
        emit(self.notified, title, message)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.chat.stop()
        self.cancel_indexing()
        super().closeEvent(event)
