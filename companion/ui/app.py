"""Start the GUI: ``companion gui`` and the ``companion-gui`` script call :func:`main`.

Opening :class:`~companion.app.services.Services` only opens the database (no model
is loaded), so it is done before the window shows. On quit, running workers
are cancelled and awaited before the store is closed.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from companion.app.services import Services
from companion.paths import resources_dir
from companion.ui.main_window import MainWindow
from companion.ui.qt import QtCore, QtGui, QtWidgets
from companion.ui.workers import Worker


def create_app(argv: Sequence[str]) -> QtWidgets.QApplication:
    """The QApplication, created once, with high-DPI rounding that keeps fractional scales sharp."""
    existing = QtWidgets.QApplication.instance()
    if isinstance(existing, QtWidgets.QApplication):
        app = existing
    else:   # none yet (a plain QCoreApplication would make this raise: widgets need a QApplication)
        QtGui.QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            QtCore.Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QtWidgets.QApplication(list(argv))
    # Fusion draws the same on every platform, so the style sheet and palette (companion.ui.theme) decide.
    app.setStyle("Fusion")
    app.setApplicationName("Companion")
    app.setOrganizationName("Companion")
    app.setApplicationDisplayName("Companion")
    icon = resources_dir() / "icons" / "companion.svg"
    if icon.is_file():
        app.setWindowIcon(QtGui.QIcon(str(icon)))
    return app


def open_window(services: Services) -> MainWindow:
    """Build and show the window; first run opens the onboarding on top of it.

    Otherwise, once the models are warm, the watched folders are watched and
    scanned once, which picks up photos added while the app was closed.
    """
    window = MainWindow(services)
    window.show()
    check_store(window, services)
    warm_up = start_warm_up(window, services)
    if not services.settings.onboarding_done:
        window.open_onboarding()
    else:
        # finished(None) means the warm-up was cancelled: the app is closing, so do nothing.
        def warmed_up(loaded: object) -> None:
            if loaded is not None:
                catch_up(window)

        warm_up.signals.finished.connect(warmed_up)
        warm_up.signals.failed.connect(lambda _message: catch_up(window))
    return window


def check_store(window: MainWindow, services: Services) -> Worker:
    """Wait (on a worker) for the integrity check the store started when it opened; a damaged store is
    said at once, with what to do, instead of when a write is refused."""
    worker = window.workers.start(lambda _cancel: services.verify_store(), "store check")
    worker.signals.failed.connect(lambda message: QtWidgets.QMessageBox.critical(window, "Companion", message))
    return worker


def start_warm_up(window: MainWindow, services: Services) -> Worker:
    """Load models in the background while the user is still looking at the window."""
    return window.workers.start(lambda _cancel: services.warm_up(), "warm-up")


def catch_up(window: MainWindow) -> None:
    """Watch the watched folders and index what changed in them since the last run."""
    if window.services.settings.watched_folders:
        window.start_watching()
        window.start_indexing()


def shutdown(window: MainWindow, services: Services) -> None:
    """Stop the watcher and the workers (cancel, then wait), then close the store."""
    window.stop_watching()
    if not window.workers.shutdown(10_000):
        logging.getLogger(__name__).warning("some workers did not stop within 10 s")
    services.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the desktop app; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="companion gui", description="Open the Companion window.")
    parser.add_argument("--home", metavar="DIR", help="use DIR for all data (overrides COMPANION_HOME)")
    args, qt_args = parser.parse_known_args(argv)
    app = create_app([sys.argv[0], *qt_args])
    try:
        services = Services.open(args.home)
    except Exception as exc:  # noqa: BLE001 - tell the user why, then exit
        QtWidgets.QMessageBox.critical(None, "Companion cannot start", str(exc))
        return 1
    window = open_window(services)
    try:
        return int(app.exec())
    finally:
        shutdown(window, services)


if __name__ == "__main__":
    sys.exit(main())
