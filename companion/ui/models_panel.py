"""The models panel (settings and onboarding): catalog, download with progress and cancel,
add local files, verify, remove, and pick the chat model.

It talks to ``companion.app.models`` (files on disk, no model is loaded
here) on workers.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from companion.app import models as use_cases
from companion.core.types import Progress
from companion.ui.qt import QtCore, QtWidgets, Signal, emit
from companion.ui.workers import Worker, WorkerPool

if TYPE_CHECKING:
    from companion.app.services import Services

NAME = QtCore.Qt.ItemDataRole.UserRole


def human_size(size: float | None) -> str:
    if not size:
        return ""
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


class ModelsPanel(QtWidgets.QWidget):
    """Catalog table plus actions.

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
        self.table = QtWidgets.QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Model", "Size", "Installed", "Licence"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.current = QtWidgets.QLabel()
        self.progress = QtWidgets.QProgressBar()
        self.progress.hide()
        self.message = QtWidgets.QLabel(wordWrap=True)
        self.buttons: dict[str, QtWidgets.QPushButton] = {}
        row = QtWidgets.QHBoxLayout()
        for key, label, slot in (("use", "Use for chat", self.use_selected),
                                 ("download", "Download", self.download_selected),
                                 ("cancel", "Cancel download", self.cancel),
                                 ("local", "Add local files…", self.add_local),
                                 ("verify", "Verify", self.verify_selected),
                                 ("remove", "Remove", self.remove_selected)):
            button = QtWidgets.QPushButton(label)
            button.clicked.connect(slot)
            self.buttons[key] = button
            row.addWidget(button)
        row.addStretch(1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.current)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        self.status.connect(self.message.setText)
        self._show_current()
        self.buttons["cancel"].setEnabled(False)
        self.reload()

    def _show_current(self) -> None:
        name = self.services.settings.model
        self.current.setText(f"Chat model: <b>{name}</b>" if name else "Chat model: <i>none chosen yet</i>")

    def selected_name(self) -> str | None:
        items = self.table.selectedItems()
        return str(items[0].data(NAME)) if items else None

    def reload(self) -> Worker:
        worker = self.workers.start(lambda _c: list(use_cases.list_models(self.services)), "list models")
        worker.signals.finished.connect(self._show)
        worker.signals.failed.connect(self.status)
        return worker

    def _show(self, models: list[Any] | None) -> None:
        models = models or []
        self.table.setRowCount(len(models))
        for r, model in enumerate(models):
            name = model.name
            cells = [name, human_size(model.size), "yes" if model.installed else "", model.license]
            for c, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                item.setData(NAME, name)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()

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
        if not name or self.download_worker is not None:
            return None

        def job(token: Any) -> Any:
            def on_progress(done: int, total: int | None = None) -> None:
                token.report(Progress("download", done, total, name))
            return use_cases.download(self.services, name, progress=on_progress, cancel=token)

        self.download_worker = worker = self.workers.start(job, f"download {name}")
        self.progress.setRange(0, 0)
        self.progress.show()
        self.buttons["download"].setEnabled(False)
        self.buttons["cancel"].setEnabled(True)
        worker.signals.progress.connect(self._on_progress)
        worker.signals.finished.connect(lambda _r: self._download_done("Downloaded" if not worker.cancelled
                                                                       else "Download cancelled", name))
        worker.signals.failed.connect(lambda m: self._download_done(m, ""))
        return worker

    def _on_progress(self, progress: Progress) -> None:
        if progress.total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * progress.done / progress.total))
            self.progress.setFormat(f"{human_size(progress.done)} of {human_size(progress.total)}")

    def _download_done(self, message: str, name: str) -> None:
        self.download_worker = None
        self.progress.hide()
        self.buttons["download"].setEnabled(True)
        self.buttons["cancel"].setEnabled(False)
        emit(self.status, f"{message} {name}".strip())
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
