"""Importing a RAP concept database from the window (File > Import concept database…).

The file is chosen here, ``app.concepts.import_rap`` runs on a worker (reference photos become keys
as they do for ``concepts add``: faces are found, which takes a moment), and what became of each
concept is shown in one message: the same lines ``companion concepts import`` prints.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from companion.app import concepts
from companion.ui.qt import QtWidgets
from companion.ui.workers import Worker, WorkerPool

if TYPE_CHECKING:
    from companion.app.services import Services


def pick_database(parent: QtWidgets.QWidget, services: Services, workers: WorkerPool,
                  done: Callable[[str], None]) -> Worker | None:
    """Ask for a ``database.json`` and import it; ``done`` gets the summary line for the status bar."""
    path, _ = QtWidgets.QFileDialog.getOpenFileName(parent, "Import a concept database (RAP)", str(Path.home()),
                                                    "Concept database (*.json);;All files (*)")
    return import_database(parent, services, workers, Path(path), done) if path else None


def import_database(parent: QtWidgets.QWidget, services: Services, workers: WorkerPool, path: Path,
                    done: Callable[[str], None]) -> Worker:
    worker = workers.start(lambda _cancel: concepts.import_rap(services, path), "import concepts")

    def finished(report: object) -> None:
        if not isinstance(report, concepts.RapImportReport):
            return
        summary = (f"{path.name}: {report.count('added')} added, {report.count('updated')} updated, "
                   f"{report.count('unchanged')} unchanged, {report.count('skipped')} skipped")
        lines = [text for line in report.lines for text in concepts.describe_rap_line(line)]
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Information, "Concept database imported",
                                    summary + ".", parent=parent)
        box.setDetailedText("\n".join(lines))
        box.setAccessibleName("Concept import report")
        box.open()
        done(summary)

    worker.signals.finished.connect(finished)
    worker.signals.failed.connect(lambda message: QtWidgets.QMessageBox.warning(parent, "Import failed", message))
    return worker
