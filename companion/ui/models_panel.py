"""The models panel (settings and onboarding): chat models in a table, the models that read
photos in rows of their own, downloads with progress and cancel, and an offline state.

Chat models (``app.models.chat_models``: the one that suits this computer is marked)
can be downloaded, added from local files, verified, removed and chosen for the chat.
Below them, one row per job a photo model does ("Photo search and pets", "Faces";
``app.models.image_models``), downloaded with
the same progress and checksum. A download that cannot reach its server says so in one
sentence within seconds, with Retry, "Add files I already have" and the folder the
files belong in as a link that opens it. Everything runs on workers; no model is
loaded here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from companion.app import models as use_cases
from companion.core.types import Progress
from companion.ui.model_rows import OfflineCard, PhotoModelRow, human_size, photo_rows
from companion.ui.qt import QtCore, QtWidgets, Signal, emit
from companion.ui.widgets import clear_layout, label
from companion.ui.workers import Worker, WorkerPool

if TYPE_CHECKING:
    from companion.app.services import Services

NAME = QtCore.Qt.ItemDataRole.UserRole
COLUMNS = ("Model", "Size", "On this computer", "Licence")
CONNECTING = "Connecting to the download server…"


class ModelsPanel(QtWidgets.QWidget):
    """Chat models in a table, photo models in rows, and the download state.

    Signals:
        chosen(str): the user picked this model as the chat model (settings not yet saved).
        status(str): what the last action did.
    """

    chosen = Signal(str)
    status = Signal(str)

    def __init__(self, services: Services, workers: WorkerPool, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.workers = workers
        self.download_worker: Worker | None = None
        self.downloading = ""
        self.rows: dict[str, use_cases.ChatModelChoice] = {}
        self.sources: dict[str, str] = {}      # model name -> "huggingface" | "local" | ...
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)   # fixed modes: the layout holds
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAccessibleName("Chat models")
        self.table.setWordWrap(False)            # one line a model: long titles are elided, the tooltip has more
        # Tall enough for every row: a scroll bar that came and went with the offline card would
        # narrow the columns under the user's eyes.
        self.table.setSizeAdjustPolicy(QtWidgets.QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents)
        self.table.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Minimum)
        self.table.itemSelectionChanged.connect(self._enable)
        self.current = QtWidgets.QLabel()
        self.progress = QtWidgets.QProgressBar()
        self.progress.hide()
        self.progress_text = label("", "caption")
        self.progress_text.hide()
        self.offline = OfflineCard()
        self.offline.retry.connect(self.retry)
        self.offline.add_files.connect(self.add_local)
        self.message = label("", wrap=True)
        self.message.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        self.message.setMinimumWidth(1)
        self.buttons: dict[str, QtWidgets.QPushButton] = {}
        row = QtWidgets.QHBoxLayout()
        for key, text, slot in (("use", "Use for chat", self.use_selected),
                                ("download", "Download", self.download_selected),
                                ("cancel", "Cancel download", self.cancel),
                                ("local", "Add files I already have…", self.add_local),
                                ("verify", "Verify", self.verify_selected),
                                ("remove", "Remove", self.remove_selected)):
            widget = QtWidgets.QPushButton(text)
            widget.clicked.connect(slot)
            self.buttons[key] = widget
            row.addWidget(widget)
        row.addStretch(1)
        self.photo_rows = QtWidgets.QVBoxLayout()
        self.photo_rows.setSpacing(6)
        self.photo_title = label("For your photos", "heading")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.current)
        layout.addWidget(self.table)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_text)
        layout.addWidget(self.offline)
        layout.addWidget(self.message)
        layout.addSpacing(6)
        layout.addWidget(self.photo_title)
        layout.addLayout(self.photo_rows)
        layout.addStretch(1)
        self.status.connect(self.message.setText)
        self._show_current()
        self._enable()
        self.reload()

    def _show_current(self) -> None:
        name = self.services.settings.model
        self.current.setText(f"Chat model: <b>{name}</b>" if name else "Chat model: <i>none chosen yet</i>")

    def selected_name(self) -> str | None:
        items = self.table.selectedItems()
        return str(items[0].data(NAME)) if items else None

    def select(self, name: str) -> bool:
        """Select the chat model ``name`` in the table; False when it is not listed."""
        for r in range(self.table.rowCount()):
            item = self.table.item(r, 0)
            if item is not None and item.data(NAME) == name:
                self.table.selectRow(r)
                return True
        return False

    def reload(self) -> Worker:
        def job(_c: Any) -> Any:
            sources = {m.name: m.source for m in use_cases.list_models(self.services)}
            return use_cases.chat_models(self.services), sources, use_cases.image_models(self.services)

        worker = self.workers.start(job, "list models")
        worker.signals.finished.connect(self._show)
        worker.signals.failed.connect(self.status)
        return worker

    def _show(self, result: tuple[list[use_cases.ChatModelChoice], dict[str, str],
                                  list[use_cases.ImageModelChoice]] | None) -> None:
        if result is None:
            return
        chat_models, self.sources, image_models = result
        chosen = self.selected_name()
        self.rows = {m.name: m for m in chat_models}
        self.table.setRowCount(len(chat_models))
        for r, model in enumerate(chat_models):
            title = model.title or model.name
            here = "installed" if model.installed else "recommended" if model.recommended else \
                "needs more memory" if not model.fits else ""
            cells = [title, human_size(model.size_mb << 20), here, model.license]
            for c, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                item.setData(NAME, model.name)
                item.setToolTip(" ".join(x for x in (model.speed.capitalize(), model.note) if x) or model.name)
                if not model.fits:
                    item.setForeground(self.palette().placeholderText())   # too big for this computer
                self.table.setItem(r, c, item)
        if chosen:
            self.select(chosen)
        clear_layout(self.photo_rows)
        made = photo_rows(image_models)
        for photo_row in made:
            photo_row.download.connect(self.download)
            self.photo_rows.addWidget(photo_row)
        self.photo_title.setVisible(bool(made))
        self._enable()

    def photo_row(self, role: str) -> PhotoModelRow | None:
        for i in range(self.photo_rows.count()):
            item = self.photo_rows.itemAt(i)
            widget = item.widget() if item is not None else None
            if isinstance(widget, PhotoModelRow) and widget.role == role and not widget.isHidden():
                return widget
        return None

    def _enable(self) -> None:
        """Offer what makes sense for the selected chat model."""
        model = self.rows.get(self.selected_name() or "")
        busy = self.download_worker is not None
        installed = bool(model and model.installed)
        self.buttons["use"].setEnabled(installed)
        source = self.sources.get(model.name, "") if model else ""
        self.buttons["download"].setEnabled(bool(model and not installed and source == "huggingface") and not busy)
        self.buttons["cancel"].setEnabled(busy)
        self.buttons["verify"].setEnabled(installed)
        self.buttons["remove"].setEnabled(bool(model and (installed or source == "local")))

    # ---- actions ----------------------------------------------------------------------

    def use_selected(self) -> None:
        name = self.selected_name()
        if name:
            worker = self.workers.start(lambda _c: use_cases.choose(self.services, name), "choose model")

            def chosen(_result: object) -> None:
                self._show_current()
                emit(self.chosen, name)

            worker.signals.finished.connect(chosen)
            worker.signals.failed.connect(self.status)

    def download_selected(self) -> Worker | None:
        name = self.selected_name()
        return self.download(name) if name else None

    def retry(self) -> Worker | None:
        return self.download(self.downloading) if self.downloading else None

    def download(self, name: str) -> Worker | None:
        """Fetch a catalog model (a chat or a photo model), with progress, cancel and the offline state."""
        if self.download_worker is not None:
            return None

        def job(token: Any) -> Any:
            def on_progress(done: int, total: int | None = None) -> None:
                token.report(Progress("download", done, total, name))
            return use_cases.download(self.services, name, progress=on_progress, cancel=token)

        self.downloading = name
        self.download_worker = worker = self.workers.start(job, f"download {name}")
        self.offline.hide()
        self.message.clear()
        self.progress.setRange(0, 0)
        self.progress.show()
        self.progress_text.setText(CONNECTING)
        self.progress_text.show()
        self._enable()
        worker.signals.progress.connect(self._on_progress)
        worker.signals.finished.connect(lambda _r: self._download_done("Download cancelled" if worker.cancelled
                                                                       else f"Downloaded {name}"))
        worker.signals.error.connect(self._download_error)
        worker.signals.failed.connect(self._download_failed)
        return worker

    def _on_progress(self, progress: Progress) -> None:
        if progress.total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * progress.done / progress.total))
            self.progress_text.setText(f"{human_size(progress.done)} of {human_size(progress.total)}")

    def _download_error(self, error: Any) -> None:
        """A typed failure; the server could not be reached: the offline state, which keeps the model for Retry."""
        if getattr(error, "action", "") == "retry_download" and hasattr(error, "folder"):
            chat_model = self.downloading in self.rows       # local files can stand in for a chat model
            self.offline.show_problem(error.window_text(), error.folder, list(error.files), can_add=chat_model)

    def _download_failed(self, message: str) -> None:
        cancelled = self.download_worker is not None and self.download_worker.cancelled
        if self.offline.isVisible():
            message = ""                                      # the card says it, with what to do
        self._download_done("Download cancelled" if cancelled else message)

    def _download_done(self, message: str) -> None:
        self.download_worker = None
        self.progress.hide()
        self.progress_text.hide()
        if not self.offline.isVisible():
            self.downloading = ""
        emit(self.status, message)
        self._enable()
        self.reload()

    def cancel(self) -> None:
        if self.download_worker is not None:
            self.download_worker.cancel()

    def add_local(self) -> None:
        files, _ = QtWidgets.QFileDialog.getOpenFileNames(self, "Model files (GGUF, and mmproj for vision)",
                                                          str(Path.home()), "GGUF models (*.gguf)")
        if files:
            name, ok = QtWidgets.QInputDialog.getText(self, "Name", "A name for this model:",
                                                      text=Path(files[0]).stem)
            if ok and name.strip():
                self.offline.hide()
                self._run(lambda: use_cases.add_local(self.services, name.strip(), [Path(f) for f in files]),
                          f"Added {name.strip()}")

    def verify_selected(self) -> None:
        name = self.selected_name()
        if name:
            self._run(lambda: use_cases.verify(self.services, name), f"{name} verified: files are intact")

    def remove_selected(self) -> None:
        name = self.selected_name()
        if name and QtWidgets.QMessageBox.question(self, "Remove model", f"Delete the files of {name}?") \
                == QtWidgets.QMessageBox.StandardButton.Yes:
            self._run(lambda: use_cases.remove(self.services, name), f"Removed {name}")

    def _run(self, action: Any, done_message: str) -> Worker:
        worker = self.workers.start(lambda _c: action(), "models")
        def done(_result: object) -> None:
            emit(self.status, done_message)
            self.reload()

        worker.signals.finished.connect(done)
        worker.signals.failed.connect(self.status)
        return worker
