"""First run: choose photo folders, choose (or point at) a model, start indexing.

Every step can be skipped; skipping marks onboarding done so it does not nag
at each start, and Help ▸ Getting started reopens it.
"""

from __future__ import annotations

from typing import Any

from companion.app import library
from companion.ui.models_panel import ModelsPanel
from companion.ui.qt import QtWidgets, Signal, emit
from companion.ui.settings_dialog import FoldersEditor
from companion.ui.workers import Worker, WorkerPool


def _page(title: str, subtitle: str, widget: QtWidgets.QWidget | None = None) -> QtWidgets.QWizardPage:
    page = QtWidgets.QWizardPage()
    page.setTitle(title)
    page.setSubTitle(subtitle)
    layout = QtWidgets.QVBoxLayout(page)
    if widget is not None:
        layout.addWidget(widget)
    return page


class Onboarding(QtWidgets.QWizard):
    """The getting-started wizard.

    Signals:
        completed(bool): settings were saved; True when the user asked to start indexing now.
    """

    completed = Signal(bool)

    def __init__(self, services: Any, workers: WorkerPool, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.workers = workers
        self.setWindowTitle("Getting started")
        self.setWizardStyle(QtWidgets.QWizard.WizardStyle.ClassicStyle)
        self.setOption(QtWidgets.QWizard.WizardOption.HaveCustomButton1, True)
        self.setButtonText(QtWidgets.QWizard.WizardButton.CustomButton1, "Skip for now")
        self.customButtonClicked.connect(lambda _which: self.skip())
        self.folders = FoldersEditor(list(services.settings.watched_folders))
        self.models = ModelsPanel(services, workers)
        self.start_indexing = QtWidgets.QCheckBox("Start indexing my photos now")
        self.start_indexing.setChecked(True)
        welcome = QtWidgets.QLabel(
            "Companion remembers the people, pets and things in your photos and conversations, and "
            "answers questions about new photos. Everything stays on this computer.\n\n"
            "Three short steps: your photo folders, a language model, and a first index.")
        welcome.setWordWrap(True)
        self.addPage(_page("Welcome", "Nothing leaves this machine.", welcome))
        self.addPage(_page("Your photos", "Which folders hold your photos?", self.folders))
        self.addPage(_page("A language model", "Download one from the catalog, or add model files you "
                                               "already have. You can do this later in Settings.", self.models))
        self.addPage(_page("Ready", "Indexing runs in the background; you can use the app meanwhile.",
                           self.start_indexing))
        self.resize(640, 480)

    def accept(self) -> None:  # Finish
        self.save(done=True, start_indexing=self.start_indexing.isChecked())

    def skip(self) -> Worker:
        return self.save(done=True, start_indexing=False, folders=False)

    def save(self, done: bool, start_indexing: bool, folders: bool = True) -> Worker:
        """Save the choices on a worker, then close; ``completed`` tells the window what to do next."""
        wanted = self.folders.folders()

        def job(_cancel: Any) -> None:
            if folders:
                library.set_watched_folders(self.services, wanted)
            self.services.settings.onboarding_done = done
            self.services.save_settings()

        worker = self.workers.start(job, "save onboarding")
        worker.signals.finished.connect(lambda _r: self._closed(start_indexing and bool(wanted)))
        worker.signals.failed.connect(lambda m: QtWidgets.QMessageBox.warning(self, "Not saved", m))
        return worker

    def _closed(self, start_indexing: bool) -> None:
        self.models.cancel()
        emit(self.completed, start_indexing)
        super().accept()
