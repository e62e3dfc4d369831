"""Settings › Backup: back the profile up into one file, or restore one (after a confirmation).

Both run on a worker (``app.backup``); the panel shows what happened in one line. Restoring
replaces this profile's people, photos' faces, memories and settings, so it asks first, and
the archive is checked completely before anything is replaced (a damaged archive or one
from a newer Companion changes nothing).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from companion.app import backup as backups
from companion.ui.qt import QtWidgets, Signal, emit
from companion.ui.widgets import button, label
from companion.ui.workers import Worker, WorkerPool

if TYPE_CHECKING:
    from companion.app.services import Services


class BackupPanel(QtWidgets.QWidget):
    """Back up / restore buttons, two options and a status line.

    Signals:
        restored(): the profile was replaced by a backup (the window reloads its views).
    """

    restored = Signal()

    def __init__(self, services: Services, workers: WorkerPool, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.workers = workers
        self.include_models = QtWidgets.QCheckBox("Include the model files (large)")
        self.include_thumbnails = QtWidgets.QCheckBox("Include thumbnails (made again by indexing otherwise)")
        self.status = label("", "muted", wrap=True)
        self.status.setAccessibleName("Backup status")
        self.backup_button = button("Back up…", "download", "primary", self.choose_backup)
        self.restore_button = button("Restore…", "undo", "", self.choose_restore)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.backup_button)
        row.addWidget(self.restore_button)
        row.addStretch(1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(label("One file with your people, faces, memories, reference photos, settings and "
                               "the list of watched folders. Keep it on another disk.", "muted", wrap=True))
        layout.addWidget(self.include_models)
        layout.addWidget(self.include_thumbnails)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addStretch(1)

    def choose_backup(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Back up to", str(Path.home() / "companion-backup.zip"),
                                                        "Companion backup (*.zip)")
        if path:
            self.start_backup(Path(path) if path.lower().endswith(".zip") else Path(path + ".zip"))

    def start_backup(self, target: Path) -> Worker:
        models, thumbnails = self.include_models.isChecked(), self.include_thumbnails.isChecked()

        def job(_cancel: Any) -> backups.BackupReport:
            return backups.backup_profile(self.services, target, include_models=models,
                                          include_thumbnails=thumbnails)

        self._busy("Backing up…")
        worker = self.workers.start(job, "backup")
        worker.signals.finished.connect(lambda report: self._done(
            f"Backed up to {report.path} ({report.files} files, {report.bytes / 1e6:.1f} MB)."))
        worker.signals.failed.connect(self._failed)
        return worker

    def choose_restore(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Restore from", str(Path.home()),
                                                        "Companion backup (*.zip)")
        if path and self.confirm_restore(Path(path)):
            self.start_restore(Path(path))

    def confirm_restore(self, archive: Path) -> bool:
        """Ask before anything is replaced; the archive's date and version are shown when it can be read."""
        try:
            info = backups.inspect(archive)
            made = f"This backup was made on {info.created_at} by Companion {info.companion_version}.\n\n"
        except Exception as exc:  # noqa: BLE001 - shown to the user; restoring it would be refused the same way
            QtWidgets.QMessageBox.warning(self, "Cannot restore", str(exc))
            return False
        answer = QtWidgets.QMessageBox.question(
            self, "Replace this profile?",
            f"{made}Restoring replaces the people, faces, memories and settings in this profile with the "
            "backup's. This cannot be undone. Restore?")
        return answer == QtWidgets.QMessageBox.StandardButton.Yes

    def start_restore(self, archive: Path) -> Worker:
        def job(_cancel: Any) -> backups.RestoreReport:
            return backups.restore_into(self.services, archive)

        self._busy("Restoring…")
        worker = self.workers.start(job, "restore")
        worker.signals.finished.connect(self._restored)
        worker.signals.failed.connect(self._failed)
        return worker

    def _restored(self, report: backups.RestoreReport) -> None:
        missing = (f" Watched folders not on this computer: {', '.join(report.missing_folders)}."
                   if report.missing_folders else "")
        self._done(f"Restored: {report.people} people, {report.photos} photos, {report.memories} memories.{missing}")
        emit(self.restored)

    def _busy(self, text: str) -> None:
        self.status.setText(text)
        self.backup_button.setEnabled(False)
        self.restore_button.setEnabled(False)

    def _done(self, text: str) -> None:
        self.status.setText(text)
        self.backup_button.setEnabled(True)
        self.restore_button.setEnabled(True)

    def _failed(self, message: str) -> None:
        self._done(message)
        QtWidgets.QMessageBox.warning(self, "Backup", message)
