"""Indexing and folder watching for the window: progress in the sidebar, reminders as notifications.

:class:`LibraryActivity` is mixed into the main window; it expects the window's
``services``, ``workers``, ``sidebar``, ``stack``, ``chat``, ``watch_bridge``, ``tray``,
``show_status``, ``refresh_counts`` and signals ``indexing_finished``, ``watched`` and
``notified`` (declared on the class below so the type checker holds the window to them).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from companion.app import library
from companion.app.library import IndexSummary
from companion.core.types import Progress
from companion.ui.qt import QObject, QTimer, QtWidgets, Signal, emit
from companion.ui.widgets import label
from companion.ui.workers import Worker

if TYPE_CHECKING:
    from companion.app.services import Services
    from companion.ui.chat_view import ChatView
    from companion.ui.shell import Sidebar
    from companion.ui.workers import WorkerPool

    # To the type checker the mixin is the window it is mixed into (its Qt methods, and a
    # QObject parent for the tray); at run time it is a plain class, so it shadows nothing.
    _Window = QtWidgets.QMainWindow
else:
    _Window = object


@runtime_checkable
class Reloadable(Protocol):
    """A view that re-reads the store when shown (people, photos, memories; not the chat)."""

    def reload(self) -> Any: ...


def describe(summary: IndexSummary) -> str:
    """One status line a user can read, e.g. "3 new photos, 1 changed, 2 skipped, 4 faces"."""
    parts = [f"{summary.new} new photo{'s' if summary.new != 1 else ''}"]
    for count, name in ((summary.changed, "changed"), (summary.moved, "moved"), (summary.removed, "removed"),
                        (len(summary.skipped), "skipped"), (summary.faces, "faces")):
        if count:
            parts.append(f"{count} {name}")
    if summary.not_photos:
        parts.append(summary.not_photos_text())
    return ", ".join(parts)


class WatchBridge(QObject):
    """Carries the folder watcher's callbacks (its own thread) to the GUI thread as signals."""

    progress = Signal(object)
    summary = Signal(object)
    status = Signal(str)

    def on_event(self, event: Any) -> None:
        emit(self.summary, event) if isinstance(event, IndexSummary) else emit(self.status, str(event))

    def on_progress(self, progress: Any) -> None:
        emit(self.progress, progress)


class LibraryActivity(_Window):
    """Index on demand, watch while open, and tell the user what happened."""

    services: Services
    workers: WorkerPool
    index_worker: Worker | None
    watcher: library.Watching | None
    watch_cancel: threading.Event
    _summary: IndexSummary | None
    _latest_progress: Progress | None
    _progress_pending: bool
    # The window's, declared here only (annotations make no class attributes, so nothing is shadowed).
    sidebar: Sidebar
    stack: QtWidgets.QStackedWidget
    chat: ChatView
    watch_bridge: WatchBridge
    tray: QtWidgets.QSystemTrayIcon | None
    indexing_finished: Signal
    watched: Signal
    notified: Signal

    if TYPE_CHECKING:
        def show_status(self, message: str) -> None: ...

        def refresh_counts(self) -> Worker: ...

    # ---- indexing ---------------------------------------------------------------------

    def _build_index_widgets(self) -> None:
        self.index_label = label("", "caption")   # one line: a new count never re-lays out the sidebar
        self.index_bar = QtWidgets.QProgressBar()
        self.index_bar.setAccessibleName("Indexing progress")
        self.index_cancel = QtWidgets.QPushButton("Stop indexing")
        self.index_cancel.setProperty("role", "flat")
        self.index_cancel.clicked.connect(self.cancel_indexing)
        for widget in (self.index_label, self.index_bar, self.index_cancel):
            self.sidebar.activity_layout.addWidget(widget)
            widget.hide()

    def start_indexing(self, targets: list[str] | None = None) -> Worker | None:
        """Index ``targets`` (default: every watched folder) on a worker, with progress in the sidebar."""
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
        """Stop the scan in progress and the watched-folder batch, if any."""
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
        self._latest_progress = None
        for widget in (self.index_label, self.index_bar, self.index_cancel):
            widget.hide()

    def _on_index_progress(self, progress: Progress) -> None:
        # Progress can come hundreds of times a second; the sidebar shows the latest every 150 ms,
        # so the window thread spends its time (and its turns at the GIL) painting, not relabelling.
        self._latest_progress = progress
        if not getattr(self, "_progress_pending", False):
            self._progress_pending = True
            QTimer.singleShot(0 if self.index_label.isHidden() else 150, self._show_progress)

    def _show_progress(self) -> None:
        self._progress_pending = False
        progress = getattr(self, "_latest_progress", None)
        if progress is None:
            return
        if self.index_label.isHidden():
            self._show_index_widgets("")
        if progress.total:
            self.index_bar.setRange(0, progress.total)
            self.index_bar.setValue(progress.done)
        total = f" of {progress.total:,}" if progress.total else ""
        self.index_label.setText(f"Adding photos: {progress.done:,}{total}")

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
        self.refresh_counts()
        emit(self.indexing_finished, None if error else summary)

    def _reload_current_view(self) -> None:
        view = self.stack.currentWidget()
        if view is not self.chat and isinstance(view, Reloadable):
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
            self.refresh_counts()
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

