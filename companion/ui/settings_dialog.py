"""Settings: appearance (light, dark or the system's), watched folders, models, hardware (GPU layers,
device, idle unload, face detector), privacy (``privacy_page.py``: conversations, other AI apps over MCP),
backup and restore (``ui/backup_panel.py``).

Changes are staged in the widgets and applied together on Save, on a worker
(saving settings and registering folders touch the disk). The appearance is
previewed at once and put back on Cancel. Models have their own panel, whose
actions take effect immediately.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from companion.app import settings as app_settings
from companion.app.settings import APPEARANCES, DEVICES, FACE_DETECTORS, Appearance
from companion.ui import appearance, icons
from companion.ui.backup_panel import BackupPanel
from companion.ui.models_panel import ModelsPanel
from companion.ui.privacy_page import PrivacyPage
from companion.ui.qt import QtCore, QtWidgets, Signal, emit
from companion.ui.widgets import button, label
from companion.ui.workers import Worker, WorkerPool

if TYPE_CHECKING:
    from companion.app.services import Services

PAGES = (("Appearance", "appearance"), ("Folders", "folder"), ("Models", "model"), ("Hardware", "hardware"),
         ("Privacy", "privacy"), ("Backup", "download"))


class FoldersEditor(QtWidgets.QWidget):
    """A list of folders with add and remove; used by settings and onboarding."""

    def __init__(self, folders: list[str], parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QtWidgets.QListWidget()
        self.list.addItems(folders)
        self.list.setAccessibleName("Watched folders")
        add = button("Add folder…", "folder", "primary", self._pick)
        remove = button("Remove", "forget", "", self.remove_selected)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(label("Photos in these folders are indexed, and new ones are noticed while "
                               "Companion is open.", "muted", wrap=True))
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)

    def folders(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def add_folder(self, path: str) -> None:
        path = str(Path(path).expanduser().resolve())
        if path not in self.folders():
            self.list.addItem(path)

    def remove_selected(self) -> None:
        for item in self.list.selectedItems():
            self.list.takeItem(self.list.row(item))

    def _pick(self) -> None:
        path = QtWidgets.QFileDialog.getExistingDirectory(self, "Folder with photos", str(Path.home()))
        if path:
            self.add_folder(path)


class SettingsDialog(QtWidgets.QDialog):
    """All user settings in tabs.

    Signals:
        applied(): settings were saved (folders may have changed: the window may re-index).
        failed(str): saving failed.
    """

    applied = Signal()
    failed = Signal(str)

    def __init__(self, services: Services, workers: WorkerPool, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.services = services
        self.workers = workers
        settings = services.settings
        self.folders = FoldersEditor(list(settings.watched_folders))
        self.models = ModelsPanel(services, workers)
        self.backup = BackupPanel(services, workers)     # backup and restore act at once, not on Save

        self.auto_layers = QtWidgets.QCheckBox("Choose automatically")
        self.gpu_layers = QtWidgets.QSpinBox()
        self.gpu_layers.setRange(-1, 999)
        self.gpu_layers.setSpecialValueText("all")  # -1: every layer on the GPU (llama.cpp convention)
        self.auto_layers.setChecked(settings.n_gpu_layers is None)
        self.gpu_layers.setValue(settings.n_gpu_layers if settings.n_gpu_layers is not None else 0)
        self.gpu_layers.setEnabled(settings.n_gpu_layers is not None)
        self.auto_layers.toggled.connect(lambda on: self.gpu_layers.setEnabled(not on))
        self.device = QtWidgets.QComboBox()
        self.device.addItems(list(DEVICES))
        self.device.setCurrentText(settings.device)
        self.idle_unload = QtWidgets.QSpinBox()
        self.idle_unload.setRange(0, 24 * 3600)
        self.idle_unload.setSuffix(" s")
        self.idle_unload.setSpecialValueText("never")
        self.idle_unload.setValue(settings.idle_unload_seconds)
        self.face_detector = QtWidgets.QComboBox()     # "auto": the fastest that works (companion doctor says which)
        self.face_detector.addItems(list(FACE_DETECTORS))
        self.face_detector.setCurrentText(settings.face_detector)
        self.face_detector.setAccessibleName("Face detector")
        hardware = QtWidgets.QWidget()
        form = QtWidgets.QFormLayout(hardware)
        form.addRow("GPU layers", self.auto_layers)
        form.addRow("", self.gpu_layers)
        form.addRow("Device", self.device)
        form.addRow("Unload models after idle", self.idle_unload)
        form.addRow("Face detector", self.face_detector)

        privacy = self.privacy = PrivacyPage(services, workers)
        self.remember = privacy.remember

        self.before = settings.appearance
        self.previewed = False
        self.appearance = QtWidgets.QButtonGroup(self)
        looks = QtWidgets.QWidget()
        looks_layout = QtWidgets.QVBoxLayout(looks)
        looks_layout.addWidget(label("Choose how Companion looks.", "muted"))
        for mode, text, icon_name in (("system", "Same as the system", "system"), ("light", "Light", "sun"),
                                      ("dark", "Dark", "moon")):
            choice = QtWidgets.QRadioButton(text)
            icons.use(choice, icon_name)
            choice.setProperty("mode", mode)
            choice.setChecked(mode == settings.appearance)
            choice.setAccessibleName(f"Appearance: {text}")
            self.appearance.addButton(choice)
            looks_layout.addWidget(choice)
        looks_layout.addStretch(1)
        self.appearance.buttonToggled.connect(self._appearance_toggled)

        self.nav = QtWidgets.QListWidget()
        self.nav.setObjectName("settingsNav")
        self.nav.setFixedWidth(180)
        self.nav.setAccessibleName("Settings sections")
        self.nav.setIconSize(QtCore.QSize(18, 18))
        self.stack = QtWidgets.QStackedWidget()
        for (name, icon_name), page in zip(PAGES, (looks, self.folders, self.models, hardware, privacy,
                                                                   self.backup), strict=True):
            item = QtWidgets.QListWidgetItem(icons.icon(icon_name), name)
            item.setSizeHint(QtCore.QSize(0, 38))   # the row as tall as its rounded highlight (the style pads 8 px)
            self.nav.addItem(item)
            holder = QtWidgets.QWidget()
            holder_layout = QtWidgets.QVBoxLayout(holder)
            holder_layout.setContentsMargins(20, 4, 8, 4)
            holder_layout.addWidget(label(name, "title"))
            holder_layout.addWidget(page, 1)
            self.stack.addWidget(holder)
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.nav.setCurrentRow(0)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Save
                                             | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Save).setProperty("role", "primary")
        buttons.accepted.connect(self.apply)
        buttons.rejected.connect(self.reject)
        body = QtWidgets.QHBoxLayout()
        body.addWidget(self.nav)
        body.addWidget(self.stack, 1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.addLayout(body, 1)
        layout.addWidget(buttons)
        self.resize(820, 540)

    def show_page(self, name: str) -> None:
        """Open the dialog at a section ("Folders", "Models", ...)."""
        names = [n for n, _icon in PAGES]
        if name in names:
            self.nav.setCurrentRow(names.index(name))

    def chosen_appearance(self) -> Appearance:
        checked = self.appearance.checkedButton()
        mode = checked.property("mode") if checked is not None else None
        return next((a for a in APPEARANCES if a == mode), "system")

    def _appearance_toggled(self, button: QtWidgets.QAbstractButton, on: bool) -> None:
        if on:
            self.preview_appearance(button.property("mode"))

    def preview_appearance(self, mode: str) -> None:
        manager = appearance.manager()
        if manager is not None:
            self.previewed = True
            manager.set_mode(mode)

    def apply(self) -> Worker:
        """Save everything on a worker; the dialog closes when it is saved."""
        folders = self.folders.folders()
        layers = None if self.auto_layers.isChecked() else self.gpu_layers.value()
        device, idle = DEVICES[self.device.currentIndex()], self.idle_unload.value()
        remember = self.remember.isChecked()
        allow_writes, write_clients = self.privacy.allow_writes.isChecked(), self.privacy.write_client_names()
        detector = FACE_DETECTORS[self.face_detector.currentIndex()]
        appearance = self.chosen_appearance()
        self.before = appearance  # saved: Cancel no longer puts the old look back

        def job(_cancel: Any) -> None:
            app_settings.update(self.services, watched_folders=folders, n_gpu_layers=layers, device=device,
                                idle_unload_seconds=idle, remember_conversations=remember, appearance=appearance,
                                face_detector=detector, mcp_allow_writes=allow_writes,
                                mcp_write_clients=write_clients)

        worker = self.workers.start(job, "save settings")
        def saved(_result: object) -> None:
            emit(self.applied)
            self.accept()

        worker.signals.finished.connect(saved)
        worker.signals.failed.connect(self._failed)
        return worker

    def _failed(self, message: str) -> None:
        emit(self.failed, message)
        QtWidgets.QMessageBox.warning(self, "Settings not saved", message)

    def done(self, result: int) -> None:
        self.models.cancel()  # a running download stops with the dialog
        if result != QtWidgets.QDialog.DialogCode.Accepted and self.previewed:
            self.preview_appearance(self.before)   # a previewed look is undone by Cancel
        super().done(result)
