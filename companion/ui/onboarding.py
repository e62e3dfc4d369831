"""First run: welcome, choose photo folders, get (or point at) a chat model, then straight into the chat.

Every step can be skipped; skipping marks onboarding done so it does not nag
at each start, and Help ▸ Getting started reopens it. Finishing saves the
choices, starts indexing if asked, and the window opens the chat with its
composer focused: the flow ends with a working chat (with no model, answers
come from the records).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from companion.app import settings as app_settings
from companion.ui import icons, theme
from companion.ui.models_panel import ModelsPanel
from companion.ui.qt import Qt, QtWidgets, Signal, emit
from companion.ui.settings_dialog import FoldersEditor
from companion.ui.widgets import label, repolish
from companion.ui.workers import Worker, WorkerPool

if TYPE_CHECKING:
    from companion.app.services import Services

STEPS = ("Welcome", "Your photos", "A chat model", "Ready")


def _page(name: str, icon_name: str, title: str, text: str, widget: QtWidgets.QWidget | None = None,
          step: int = 0, scroll: bool = False) -> QtWidgets.QWizardPage:
    """A step: a large icon, a title, one or two sentences, then the step's controls."""
    page = QtWidgets.QWizardPage()
    page.setProperty("name", name)
    layout = QtWidgets.QVBoxLayout(page)
    layout.setContentsMargins(32, 24, 32, 8)
    layout.setSpacing(10)
    dots = label(" ".join("●" if i == step else "○" for i in range(len(STEPS))) + f"   Step {step + 1} of {len(STEPS)}",
                 "caption")
    layout.addWidget(dots)
    icon = QtWidgets.QLabel()
    icon.setPixmap(icons.pixmap(icon_name, 48, "accent", page.devicePixelRatioF() or 1.0))
    layout.addWidget(icon)
    layout.addWidget(label(title, "display", wrap=True))
    layout.addWidget(label(text, "muted", wrap=True))
    layout.addSpacing(theme.SPACE["m"])
    if widget is not None and scroll:
        # The model step holds a table, the photo models and, offline, a card: on a small screen it
        # scrolls as a whole instead of squeezing the table to a row.
        area = QtWidgets.QScrollArea()
        area.setWidgetResizable(True)
        area.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        area.setWidget(widget)
        layout.addWidget(area, 1)
    elif widget is not None:
        layout.addWidget(widget, 1)
    else:
        layout.addStretch(1)
    return page


class Onboarding(QtWidgets.QWizard):
    """The getting-started flow.

    Signals:
        completed(bool): settings were saved; True when the user asked to start indexing now.
    """

    completed = Signal(bool)

    def __init__(self, services: Services, workers: WorkerPool, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.workers = workers
        self.setWindowTitle("Welcome to Companion")
        self.setWizardStyle(QtWidgets.QWizard.WizardStyle.ClassicStyle)
        self.setOption(QtWidgets.QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setOption(QtWidgets.QWizard.WizardOption.HaveCustomButton1, True)
        self.setButtonText(QtWidgets.QWizard.WizardButton.CustomButton1, "Skip for now")
        self.setButtonText(QtWidgets.QWizard.WizardButton.NextButton, "Continue")
        self.setButtonText(QtWidgets.QWizard.WizardButton.FinishButton, "Start chatting")
        for which in (QtWidgets.QWizard.WizardButton.NextButton, QtWidgets.QWizard.WizardButton.FinishButton):
            self.button(which).setProperty("role", "primary")
            repolish(self.button(which))   # the wizard made and styled its buttons already: restyle them
        self.customButtonClicked.connect(lambda _which: self.skip())
        self.folders = FoldersEditor(list(services.settings.watched_folders))
        self.models = ModelsPanel(services, workers)
        self.start_indexing = QtWidgets.QCheckBox("Start adding my photos now (it runs in the background)")
        self.start_indexing.setChecked(True)
        ready = QtWidgets.QWidget()
        ready_layout = QtWidgets.QVBoxLayout(ready)
        ready_layout.setContentsMargins(0, 0, 0, 0)
        ready_layout.addWidget(self.start_indexing)
        ready_layout.addWidget(label("Then drop a photo on the window and ask “Who is this?” or "
                                     "“Where did I last see her?”. When a face shows up in several photos, "
                                     "People asks you who it is.", wrap=True))
        ready_layout.addStretch(1)
        self.addPage(_page("Welcome", "assistant", "Hi! I'm Companion.",
                           "I remember the people, pets and things in your photos and what you tell me, and "
                           "answer questions about new photos. Everything stays on this computer: no account, "
                           "no cloud.", None, 0))
        self.addPage(_page("Your photos", "folder", "Where are your photos?",
                           "Choose the folders to look at. I find the dates, places and faces in them, and "
                           "notice new photos while I'm open.", self.folders, 1))
        self.addPage(_page("A chat model", "model", "Pick a chat model",
                           "A model writes the answers. Download one from the list, or add model files you "
                           "already have. Without one I still answer straight from your records.", self.models, 2,
                           scroll=True))
        self.addPage(_page("Ready", "check", "You're all set", "Here is what to try first.", ready, 3))
        self.resize(800, 680)

    def current_name(self) -> str:
        page = self.currentPage()
        return str(page.property("name")) if page is not None else ""

    def accept(self) -> None:  # Finish
        self.save(done=True, start_indexing=self.start_indexing.isChecked())

    def skip(self) -> Worker:
        return self.save(done=True, start_indexing=False, folders=False)

    def save(self, done: bool, start_indexing: bool, folders: bool = True) -> Worker:
        """Save the choices on a worker, then close; ``completed`` tells the window what to do next."""
        wanted = self.folders.folders()

        def job(_cancel: Any) -> None:
            if folders:
                app_settings.update(self.services, watched_folders=wanted, onboarding_done=done)
            else:
                app_settings.update(self.services, onboarding_done=done)

        worker = self.workers.start(job, "save onboarding")
        worker.signals.finished.connect(lambda _r: self._closed(start_indexing and bool(wanted)))
        worker.signals.failed.connect(lambda m: QtWidgets.QMessageBox.warning(self, "Not saved", m))
        return worker

    def _closed(self, start_indexing: bool) -> None:
        self.models.cancel()
        emit(self.completed, start_indexing)
        super().accept()


