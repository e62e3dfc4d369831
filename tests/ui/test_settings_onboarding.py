"""Settings (watched folders, hardware, privacy) and the first-run onboarding."""

from __future__ import annotations

from pathlib import Path

from companion import config
from companion.app import models
from companion.app.services import Services
from companion.ui.app import open_window
from companion.ui.main_window import MainWindow
from companion.ui.qt import QtWidgets


def saved(services: Services) -> config.Settings:
    return config.load(services.paths.settings_path)


def test_change_watched_folders_and_settings(qtbot, window: MainWindow, services: Services, tmp_path: Path) -> None:
    first, second = tmp_path / "Pictures", tmp_path / "Phone"
    first.mkdir()
    second.mkdir()
    dialog = window.open_settings()
    dialog.folders.add_folder(str(first))
    dialog.folders.add_folder(str(second))
    dialog.folders.add_folder(str(first))  # twice is once
    dialog.auto_layers.setChecked(False)
    dialog.gpu_layers.setValue(12)
    dialog.device.setCurrentText("cpu")
    dialog.remember.setChecked(False)
    assert dialog.face_detector.currentText() == "auto"
    dialog.face_detector.setCurrentText("hog")

    class Running:                      # the face backend in use, built for the old detector
        closed = False

        def close(self) -> None:
            self.closed = True

    running = services.__dict__["face_backend"] = Running()
    with qtbot.waitSignal(dialog.applied, timeout=10_000):
        dialog.apply()
    on_disk = saved(services)
    assert on_disk.watched_folders == [str(first.resolve()), str(second.resolve())]
    assert (on_disk.n_gpu_layers, on_disk.device, on_disk.remember_conversations) == (12, "cpu", False)
    assert on_disk.face_detector == "hog"
    assert running.closed and "face_backend" not in services.__dict__   # the next photo uses HOG

    dialog = window.open_settings()
    assert dialog.folders.folders() == on_disk.watched_folders
    dialog.folders.list.setCurrentRow(0)
    dialog.folders.list.item(0).setSelected(True)
    dialog.folders.remove_selected()
    dialog.auto_layers.setChecked(True)
    with qtbot.waitSignal(dialog.applied, timeout=10_000):
        dialog.apply()
    on_disk = saved(services)
    assert on_disk.watched_folders == [str(second.resolve())]
    assert on_disk.n_gpu_layers is None


def test_first_run_onboarding_saves_folders_and_finishes(qtbot, services: Services, tmp_path: Path) -> None:
    folder = tmp_path / "Photos"
    folder.mkdir()
    assert not services.settings.onboarding_done
    window = open_window(services)
    qtbot.addWidget(window)
    wizard = window.onboarding
    assert wizard is not None and wizard.isVisible()
    wizard.next()
    wizard.folders.add_folder(str(folder))
    wizard.next()
    wizard.next()
    assert wizard.current_name() == "Ready"
    wizard.start_indexing.setChecked(False)
    with qtbot.waitSignal(wizard.completed, timeout=10_000) as blocker:
        wizard.button(QtWidgets.QWizard.WizardButton.FinishButton).click()
    assert blocker.args == [False]
    assert not wizard.isVisible()
    on_disk = saved(services)
    assert on_disk.onboarding_done and on_disk.watched_folders == [str(folder.resolve())]
    # The flow ends in the chat, ready for a first question.
    assert window.stack.currentWidget() is window.chat
    qtbot.waitUntil(lambda: window.focusWidget() is window.chat.input, timeout=2000)
    assert window.chat.empty.isVisibleTo(window) and not window.chat.setup_folder.isVisibleTo(window)
    window.workers.shutdown()


def test_onboarding_can_be_skipped_and_reopened(qtbot, services: Services, tmp_path: Path) -> None:
    window = open_window(services)
    qtbot.addWidget(window)
    wizard = window.onboarding
    assert wizard is not None
    wizard.next()
    wizard.folders.add_folder(str(tmp_path))  # chosen, then skipped: not saved
    with qtbot.waitSignal(wizard.completed, timeout=10_000):
        wizard.button(QtWidgets.QWizard.WizardButton.CustomButton1).click()
    on_disk = saved(services)
    assert on_disk.onboarding_done and on_disk.watched_folders == []

    # A second start does not nag; the Help menu brings it back.
    window2 = open_window(services)
    qtbot.addWidget(window2)
    assert window2.onboarding is None
    action = next(a for m in window2.menuBar().findChildren(QtWidgets.QMenu) for a in m.actions()
                  if a.text() == "&Getting started…")
    action.trigger()
    assert window2.onboarding is not None and window2.onboarding.isVisible()
    window.workers.shutdown()
    window2.workers.shutdown()


def test_nothing_of_the_empty_chat_shows_around_the_onboarding(qtbot, services: Services) -> None:
    """The chat's example questions stuck out clipped ("…em?") at the dialog's edge behind every step."""
    window = open_window(services)
    qtbot.addWidget(window)
    wizard = window.onboarding
    assert wizard is not None and wizard.isVisible()
    behind = [*window.chat.suggestions, window.chat.setup_folder, window.chat.setup_model]
    assert not any(widget.isVisibleTo(window) for widget in behind)
    wizard.reject()                      # closed with its window's close button: the chat comes back
    assert all(chip.isVisibleTo(window) for chip in window.chat.suggestions)
    window.workers.shutdown()


def test_the_model_step_offers_chat_models_and_the_photo_models_apart(qtbot, services: Services) -> None:
    window = open_window(services)
    qtbot.addWidget(window)
    wizard = window.onboarding
    assert wizard is not None
    wizard.next()
    wizard.next()
    assert wizard.current_name() == "A chat model"
    panel = wizard.models
    qtbot.waitUntil(lambda: panel.table.rowCount() > 0 and panel.photo_row("faces") is not None, timeout=5000)
    kinds = {m.kind for m in models.list_models(services) if panel.select(m.name)}
    assert kinds == {"vlm"}                              # only models that write answers in the table
    image, faces = panel.photo_row("image"), panel.photo_row("faces")
    assert image is not None and image.title.text().startswith("Photo search and pets: ")
    assert "600 MB" in image.title.text()
    assert faces is not None and faces.title.text() == "Faces: included"
    window.workers.shutdown()


def test_the_onboarding_continue_button_is_the_primary_one(qtbot, services: Services) -> None:
    from companion.ui import theme

    window = open_window(services)
    qtbot.addWidget(window)
    wizard = window.onboarding
    assert wizard is not None
    qtbot.waitExposed(wizard)
    shot = wizard.button(QtWidgets.QWizard.WizardButton.NextButton).grab().toImage()
    assert shot.pixelColor(shot.width() // 2, 3).name() == theme.current().accent.lower()   # filled with the accent
    window.workers.shutdown()
