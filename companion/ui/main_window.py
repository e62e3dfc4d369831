"""The main window: sidebar with counts, header with search-everything, the views, indexing and watching.

Photos dropped anywhere on the window go to the chat; any other file dropped is offered to the chat
import, which tells a ChatGPT or Claude export or JSONL by its content. Indexing runs
``app.library.index`` on a worker; while the window is open the watched folders
are watched too (``app.library.watch``, on the watcher's own thread), with progress
in the sidebar. A reminder that fires for a newly indexed photo becomes a
system-tray notification when the platform has a tray (and a status-bar
message always).
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from companion.app import chat, library, reminders
from companion.app.library import IndexSummary
from companion.core.types import Progress
from companion.ui import appearance, icons, images
from companion.ui.activity import LibraryActivity, WatchBridge
from companion.ui.chat_view import ChatView
from companion.ui.concept_import import pick_database
from companion.ui.memories_view import MemoriesView
from companion.ui.onboarding import Onboarding
from companion.ui.people_view import PeopleView
from companion.ui.photos_view import PhotosView
from companion.ui.qt import QtCore, QtGui, QtWidgets, Signal, emit
from companion.ui.search import SearchPanel
from companion.ui.settings_dialog import SettingsDialog
from companion.ui.shell import Header, Sidebar
from companion.ui.widgets import tool
from companion.ui.workers import Worker, WorkerPool

if TYPE_CHECKING:
    from companion.app.services import Services

VIEWS = ("Chat", "People", "Photos", "Memories")
VIEW_ICONS = ("chat", "people", "photos", "memories")


class MainWindow(LibraryActivity, QtWidgets.QMainWindow):
    """Companion's window.

    Signals:
        indexing_finished(object): the index summary (None when cancelled or failed).
        watched(object): the ``IndexSummary`` of a watched-folder batch, after the window showed it.
        notified(str, str): a tray notification was shown (title, message); for tests and logs.
        counted(object): the navigation counts were refreshed (``app.library.Counts``).
    """

    indexing_finished = Signal(object)
    watched = Signal(object)
    notified = Signal(str, str)
    counted = Signal(object)

    def __init__(self, services: Services, workers: WorkerPool | None = None) -> None:
        super().__init__()
        self.services = services
        self.workers = workers or WorkerPool(self)
        self.index_worker: Worker | None = None
        self.import_dialog: QtWidgets.QProgressDialog | None = None
        self._summary: IndexSummary | None = None
        self.watcher: library.Watching | None = None
        self.watch_cancel = threading.Event()
        self.watch_bridge = WatchBridge(self)
        self.watch_bridge.progress.connect(self._on_index_progress)
        self.watch_bridge.summary.connect(self._on_watch_summary)
        self.watch_bridge.status.connect(self.show_status)
        self.onboarding: Onboarding | None = None
        app = cast(QtWidgets.QApplication, QtWidgets.QApplication.instance())  # widgets exist only under one
        self.theme = appearance.install(app, services.settings.appearance)
        self.setWindowTitle("Companion")
        self.setAcceptDrops(True)
        self.resize(1280, 800)
        self.setMinimumSize(900, 600)

        self.chat = ChatView(services, self.workers)
        self.people = PeopleView(services, self.workers)
        self.photos = PhotosView(services, self.workers)
        self.memories = MemoriesView(services, self.workers)
        self.views = (self.chat, self.people, self.photos, self.memories)
        self.stack = QtWidgets.QStackedWidget()
        for view in self.views:
            self.stack.addWidget(view)
            view.status.connect(self.show_status)
        self.sidebar = Sidebar(list(zip(VIEW_ICONS, VIEWS, strict=True)))
        self.sidebar.selected.connect(self.show_view)
        self.sidebar.settings.clicked.connect(lambda: self.open_settings())
        self.header = Header()
        self.new_chat_button = self.header.add_action(tool("new-chat", "New chat (Ctrl+N)", self.new_chat))
        self.search = SearchPanel(services, self.workers, self.header.search, self)
        self.search.open_person.connect(self.open_person)
        self.search.open_photo.connect(self.open_photo)
        self.search.open_memory.connect(self.open_memory)
        self.search.open_photos_like.connect(self.open_photos_like)
        right = QtWidgets.QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.setSpacing(0)
        right.addWidget(self.header)
        right.addWidget(self.stack, 1)
        central = QtWidgets.QWidget()
        central.setObjectName("page")
        row = QtWidgets.QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.sidebar)
        row.addLayout(right, 1)
        self.setCentralWidget(central)
        self.chat.open_photo.connect(self.open_photo)
        self.chat.open_memory.connect(self.open_memory)
        self.chat.open_person.connect(self.open_person)
        self.chat.wants.connect(self._chat_wants)
        self.people.changed.connect(self.refresh_counts)
        self.memories.changed.connect(self.refresh_counts)
        self.photos.ask_about.connect(self.ask_about)
        self.people.open_photo.connect(self.open_photo)
        self.people.open_memory.connect(self.open_memory)
        self.people.ask.connect(self._ask_text)

        self._build_index_widgets()
        self.tray = self._make_tray()
        self._build_menus()
        manager = appearance.manager()
        if manager is not None:
            manager.changed.connect(self._retheme)   # a method: disconnected when the window goes
        self.show_view(0)
        QtCore.QTimer.singleShot(0, self.refresh_counts)

    # ---- menus and shortcuts ------------------------------------------------------------

    def _build_menus(self) -> None:
        def action(menu: QtWidgets.QMenu, text: str, slot: Any, shortcut: Any = None,
                   icon_name: str | None = None) -> QtGui.QAction:
            act = menu.addAction(text)
            act.triggered.connect(lambda _checked=False: slot())
            if shortcut is not None:
                act.setShortcut(QtGui.QKeySequence(shortcut))
            if icon_name:
                icons.use(act, icon_name)
            self.addAction(act)  # shortcuts work while the menu bar is hidden
            return act

        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        action(file_menu, "&Open photo…", self.pick_photo, QtGui.QKeySequence.StandardKey.Open, "open")
        action(file_menu, "&Import chat…", self.pick_chat)
        action(file_menu, "Import &concept database…",
               lambda: pick_database(self, self.services, self.workers, self._concepts_imported))
        action(file_menu, "Index &now", lambda: self.start_indexing(), None, "index")
        file_menu.addSeparator()
        action(file_menu, "&Quit", self.close, QtGui.QKeySequence.StandardKey.Quit)
        view_menu = bar.addMenu("&View")
        for i, name in enumerate(VIEWS):
            action(view_menu, name, lambda i=i: self.show_view(i), f"Ctrl+{i + 1}", VIEW_ICONS[i])
        action(view_menu, "&Search…", self.focus_search, "Ctrl+K", "search")
        chat_menu = bar.addMenu("&Chat")
        action(chat_menu, "&New chat", self.new_chat, "Ctrl+N", "new-chat")
        action(chat_menu, "&Send", self.chat.send, "Ctrl+Return", "send")
        action(chat_menu, "S&top", self.escape, "Esc", "stop")
        tools = bar.addMenu("&Tools")
        action(tools, "&Settings…", self.open_settings, "Ctrl+,", "settings")
        help_menu = bar.addMenu("&Help")
        action(help_menu, "&Getting started…", self.open_onboarding, None, "info")
        # Ctrl+Enter on the keypad is a different key: accept it too.
        QtGui.QShortcut(QtGui.QKeySequence("Ctrl+Enter"), self, self.chat.send)
        # macOS shows the menu bar at the top of the screen; elsewhere the header's "More" holds it.
        more = QtWidgets.QMenu(self)
        for menu in (file_menu, chat_menu, tools, help_menu):
            more.addActions(menu.actions())
            more.addSeparator()
        self.header.menu_button.setMenu(more)
        if sys.platform != "darwin":
            bar.hide()

    def show_view(self, index: int) -> None:
        """Show view ``index`` (and reload it from the store)."""
        self.sidebar.select(index)
        self.stack.setCurrentIndex(index)
        self.header.title.setText(VIEWS[index])
        self.new_chat_button.setVisible(index == 0)
        self._reload_current_view()

    def _retheme(self, _tokens: object) -> None:
        self.sidebar.retint()

    def focus_search(self) -> None:
        self.header.search.setFocus(QtCore.Qt.FocusReason.ShortcutFocusReason)
        self.header.search.selectAll()

    def escape(self) -> None:
        """Esc: close the search results if open, else stop the answer being written."""
        if self.search.isVisible():
            self.search.hide()
        else:
            self.chat.stop()

    def new_chat(self) -> None:
        self.show_view(0)
        self.chat.new_chat()

    def show_status(self, message: str) -> None:
        self.statusBar().showMessage(message, 8000)

    def refresh_counts(self) -> Worker:
        worker = self.workers.start(lambda _c: library.counts(self.services), "counts")
        worker.signals.finished.connect(self._show_counts)
        return worker

    def _show_counts(self, counts: library.Counts | None) -> None:
        if counts is None:
            return
        for button, value in zip(self.sidebar.buttons[1:], (counts.people, counts.photos, counts.memories),
                                 strict=True):
            button.set_count(value)
        self.people.waiting = counts.waiting
        self.chat.set_library(counts)
        emit(self.counted, counts)

    def _ask_text(self, question: str) -> None:
        self.show_view(0)
        self.chat.input.setPlainText(question)
        self.chat.input.setFocus()

    def _chat_wants(self, what: str) -> None:
        """The chat's empty state asked for a next step: a folder, a model or the people page."""
        if what == "people":
            self.show_view(1)
        else:
            dialog = self.open_settings()
            dialog.show_page("Folders" if what == "folder" else "Models")

    # ---- photos in --------------------------------------------------------------------

    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if any(Path(u.toLocalFile()).is_file() for u in event.mimeData().urls()) or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:  # noqa: N802 - Qt override
        files = [u.toLocalFile() for u in event.mimeData().urls() if Path(u.toLocalFile()).is_file()]
        paths = [f for f in files if images.is_image(f)]
        if paths:
            self.ask_about(paths[0])
            event.acceptProposedAction()
        elif files:     # any other file is offered to the import, which tells a chat export by its content
            self.import_chat(Path(files[0]))
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
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Import chats (ChatGPT, Claude, JSONL)", str(Path.home()),
            "Chat exports (*.zip *.json *.jsonl);;All files (*)")
        if path:
            self.import_chat(Path(path))

    def _concepts_imported(self, summary: str) -> None:
        self.show_status(summary)
        self.people.reload(now=True)
        self.refresh_counts()

    def import_chat(self, path: Path) -> Worker:
        """Import a chat on a worker, with its progress and a Stop button in a small non-modal dialog."""
        worker = self.workers.start(lambda cancel: chat.import_steps(self.services, path, cancel), "import chat")
        dialog = QtWidgets.QProgressDialog(f"Importing {path.name}…", "Stop", 0, 0, self)
        dialog.setAccessibleName("Import progress")
        dialog.setWindowModality(QtCore.Qt.WindowModality.NonModal)
        dialog.setAutoReset(False)
        dialog.setAutoClose(False)
        dialog.setMinimumDuration(400)
        dialog.canceled.connect(worker.cancel)
        self.import_dialog = dialog

        def progress(step: Progress) -> None:
            if step.total:
                dialog.setMaximum(step.total)
                dialog.setValue(step.done)
            dialog.setLabelText(f"Importing {path.name}: {step.done:,} of {step.total:,} messages"
                                if step.total else step.message.capitalize())

        def result(value: object) -> None:
            if isinstance(value, chat.ImportResult):
                waiting = len(reminders.waiting(self.services))
                confirm = (f"; {waiting} reminder{'s' if waiting != 1 else ''} wait for your confirmation on "
                           "the person's page" if waiting else "")
                self.show_status(chat.describe_import(value) + confirm)

        def close_dialog() -> None:
            dialog.canceled.disconnect(worker.cancel)      # closing a progress dialog emits canceled
            dialog.close()

        def finished(_value: object) -> None:
            close_dialog()
            if worker.cancelled:
                self.show_status(f"Import of {path.name} stopped: what was saved stays; import it again to continue")
            self.refresh_counts()

        def failed(message: str) -> None:
            close_dialog()
            QtWidgets.QMessageBox.warning(self, "Import failed", message)
            self.refresh_counts()

        worker.signals.progress.connect(progress)
        worker.signals.item.connect(result)
        worker.signals.finished.connect(finished)
        worker.signals.failed.connect(failed)
        return worker

    def open_photo(self, photo_id: int) -> None:
        self.show_view(2)
        self.photos.show_photo(photo_id)

    def open_photos_like(self, text: str) -> None:
        """The Photos grid with the photos that best match ``text`` (its chip clears it)."""
        self.photos.set_text(text, load=False)
        self.show_view(2)

    def open_memory(self, memory_id: int) -> None:
        self.show_view(3)
        self.memories.select_memory(memory_id)

    def open_person(self, concept_id: int) -> None:
        self.show_view(1)
        self.people.open_person(concept_id)

    # ---- dialogs ----------------------------------------------------------------------

    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self.services, self.workers, self)
        folders_before = list(self.services.settings.watched_folders)
        dialog.applied.connect(lambda: self._settings_applied(folders_before))
        dialog.backup.restored.connect(self._restored)
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _restored(self) -> None:
        """The profile was replaced by a backup: watch its folders, count and chat afresh."""
        self.show_status("Restored from the backup")
        if self.watcher is not None:
            self.start_watching()
        self.refresh_counts()
        self.new_chat()

    def _settings_applied(self, folders_before: list[str]) -> None:
        self.show_status("Settings saved")
        folders = list(self.services.settings.watched_folders)
        added = [f for f in folders if f not in folders_before]
        if folders != folders_before and self.watcher is not None:
            self.start_watching()
        if added:
            self.start_indexing(added)
        self.chat.refresh_empty_state()

    def open_onboarding(self) -> Onboarding:
        self.onboarding = Onboarding(self.services, self.workers, self)
        self.onboarding.completed.connect(self._onboarding_completed)
        self.onboarding.finished.connect(lambda _result: self.chat.set_covered(False))  # finished, skipped or closed
        self.chat.set_covered(True)
        self.onboarding.open()
        return self.onboarding

    def _onboarding_completed(self, start_indexing: bool) -> None:
        self.start_watching()
        if start_indexing:
            self.start_indexing()
        self.show_view(0)        # the flow ends in the chat, ready for a first question
        self.chat.refresh_empty_state()
        QtCore.QTimer.singleShot(0, self._focus_chat_input)  # after the dialog closed

    def _focus_chat_input(self) -> None:
        self.activateWindow()
        self.chat.input.setFocus()

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self.search.isVisible():
            self.search.place()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.chat.stop()
        self.cancel_indexing()
        super().closeEvent(event)
