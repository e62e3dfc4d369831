"""Watched folders while the window is open: new photos appear, and a person's reminder pops up."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageOps
from skimage import data

from companion.app import concepts, library
from companion.app.services import Services
from companion.ui.main_window import MainWindow


def _astronaut(path: Path, mirrored: bool = False) -> Path:
    image = Image.fromarray(data.astronaut())
    (ImageOps.mirror(image) if mirrored else image).save(path, quality=90)
    return path


@pytest.fixture()
def watched(qtbot, window: MainWindow, services: Services, tmp_path: Path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "Pictures"
    folder.mkdir()
    library.add_watched_folder(services, folder)
    window.start_watching()
    yield folder
    window.stop_watching()


def test_a_photo_copied_into_a_watched_folder_shows_up_in_the_status_bar(qtbot, window: MainWindow,
                                                                         services: Services, watched: Path,
                                                                         tmp_path: Path) -> None:
    source = tmp_path / "camera.jpg"
    Image.new("RGB", (640, 480), (30, 120, 200)).save(source)
    with qtbot.waitSignal(window.watched, timeout=20_000) as blocker:
        shutil.copy(source, watched / "beach.jpg")
    assert blocker.args[0].new == 1
    assert "Watched folders: 1 new photo" in window.statusBar().currentMessage()
    assert services.store.photos.by_path(str(watched / "beach.jpg")) is not None


def test_watching_restarts_on_the_new_folders_after_settings_change(qtbot, window: MainWindow,
                                                                    services: Services, watched: Path,
                                                                    tmp_path: Path) -> None:
    other = tmp_path / "Phone"
    other.mkdir()
    before = list(services.settings.watched_folders)
    services.settings.watched_folders = [str(other)]
    window._settings_applied(before)                # what the Settings dialog's "applied" does
    assert window.watcher is not None and window.watcher.folders == [str(other)]
    Image.new("RGB", (320, 240), (200, 60, 60)).save(other / "new.png")
    # Whichever gets it first (the scan of the added folder or the watcher), it is indexed once.
    qtbot.waitUntil(lambda: services.store.photos.by_path(str(other / "new.png")) is not None, timeout=20_000)
    qtbot.waitUntil(lambda: window.index_worker is None, timeout=20_000)
    assert services.store.photos.count() == 1


@pytest.mark.models
def test_a_reminder_fires_when_the_person_shows_up_in_a_new_photo(qtbot, window: MainWindow, services: Services,
                                                                  watched: Path, tmp_path: Path) -> None:
    reference = _astronaut(tmp_path / "eileen.jpg")
    eileen = concepts.add_concept(services, "Eileen", "person", images=[reference])
    services.store.triggers.add(eileen.id, "give her back the telescope", "SKS")
    notes: list[tuple[str, str]] = []
    window.notified.connect(lambda title, message: notes.append((title, message)))
    with qtbot.waitSignal(window.watched, timeout=60_000) as blocker:
        _astronaut(watched / "launch-day.jpg", mirrored=True)      # a new photo of her
    summary = blocker.args[0]
    assert [r.name for r in summary.reminders] == ["Eileen"]
    assert notes and notes[0][0] == "Reminder about Eileen" and "give her back the telescope" in notes[0][1]
    assert "give her back the telescope" in window.statusBar().currentMessage()


def test_opening_the_window_catches_up_on_photos_added_while_it_was_closed(qtbot, services: Services,
                                                                           tmp_path: Path) -> None:
    from companion.ui import app

    folder = tmp_path / "Pictures"
    folder.mkdir()
    Image.new("RGB", (400, 300), (90, 160, 90)).save(folder / "while-closed.jpg")
    library.add_watched_folder(services, folder)
    services.settings.onboarding_done = True
    window = app.open_window(services)
    qtbot.addWidget(window)
    try:
        qtbot.waitUntil(lambda: services.store.photos.by_path(str(folder / "while-closed.jpg")) is not None,
                        timeout=60_000)
        assert window.watcher is not None and window.watcher.folders == [str(folder)]
        assert window.onboarding is None
    finally:
        window.stop_watching()
        assert window.workers.shutdown(10_000)
