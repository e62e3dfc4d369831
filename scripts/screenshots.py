"""Render every view of the window with sample data to PNG, in light and dark, at 1280x800 and 1920x1080.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py --out screenshots/

Two profiles are used. A new user's (empty: the first-run flow and the empty
states that say what to do next) and a seeded one (cards, an imported chat,
memories, generated photos with dates and places, and real portraits grouped by
the real face model, one of them named). In the seeded window a question is
asked about a named person's photo, so the chat shows face boxes, avatar chips,
a reminder, Markdown and sources. Files are named ``VIEW-THEME-WIDTHxHEIGHT.png``.

The states a new user meets when something is missing or offline are shot too: the
onboarding's model step and the onboarding over the window, a model download with
no network (name lookups fail in this process: nothing is sent), the chat's notice
when no chat model is installed, a face group named in place with Undo, and a photo
whose date comes from its file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "ui"))

import sample_data  # noqa: E402  (tests/ui/sample_data.py)

from companion.app import chat, library, reminders  # noqa: E402
from companion.app.services import Services  # noqa: E402
from companion.ui import appearance  # noqa: E402
from companion.ui.app import create_app  # noqa: E402
from companion.ui.main_window import MainWindow  # noqa: E402
from companion.ui.qt import QtCore, QtGui, QtWidgets  # noqa: E402

SIZES = ((1280, 800), (1920, 1080))
THEMES = ("light", "dark")
CHAT = [
    {"time": "2024-05-20T18:02:00+02:00", "role": "user", "text": "Anna and I took Rex to the lake today."},
    {"time": "2024-05-20T18:02:30+02:00", "role": "assistant", "text": "Sounds lovely! How was the water?"},
    {"time": "2024-05-20T18:03:10+02:00", "role": "user",
     "text": "Cold. If Anna shows up in a photo again, remind me to return her tent."},
]


def seed(services: Services, home: Path) -> dict[str, int]:
    """Fill the home with sample data; returns ids the shots need."""
    sample_data.seed_concepts(services)
    history = home / "chat.jsonl"
    history.write_text("\n".join(json.dumps(t) for t in CHAT) + "\n", encoding="utf-8")
    chat.import_chat(services, history)
    for waiting in reminders.waiting(services):     # imported reminders wait for a yes: the user gives it
        reminders.confirm(services, waiting.id)
    sample_data.seed_memories(services)
    ids = sample_data.seed_photos(services, home / "photos", count=24)
    anna, seen = services.store.concepts.by_name("Anna"), services.store.photos.get(ids[1])
    assert anna is not None and seen is not None and seen.place is not None
    for photo_id in (ids[1], ids[4], ids[7]):   # Anna in three photos: the chat and her page cite them
        photo = services.store.photos.get(photo_id)
        services.store.observations.add(anna.id, time=photo.taken_at, place=photo.place.label(), source="face",
                                        kind="sighting", confidence=0.9, photo_id=photo_id)
    sample_data.seed_face_group(services, home / "faces", copies=3)
    hopper = next(g for g in library.face_groups(services, named=False) if "grace_hopper" in services.store.photos.get(
        services.store.faces.get(g.sample_face_ids[0]).photo_id).path)
    grace = library.name_face_group(services, hopper.id, "Grace")
    services.store.concepts.edit(grace.id, info="my aunt, a retired naval officer")
    services.store.triggers.add(grace.id, "ask her about the conference in Lisbon")
    question = next(p for p in services.store.photos.list(concept_id=grace.id, limit=10))
    undated = services.store.photos.get(ids[2])     # no capture date in the file: dated by its mtime
    assert undated is not None
    services.store.photos.upsert(replace(sample_data.record(Path(undated.path), undated.taken_at, undated.place),
                                         taken_at_source="file"))
    return {"grace": grace.id, "anna": anna.id, "photo": ids[1], "question_photo": question.id,
            "group": library.face_groups(services, named=False)[0].id, "undated": ids[2]}


@contextlib.contextmanager
def no_network() -> Iterator[None]:
    """Name lookups fail in this process, as on a machine that is offline (nothing leaves it)."""
    import huggingface_hub.constants as hub

    def offline(*_args: Any, **_kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    lookup, hub_offline = socket.getaddrinfo, hub.HF_HUB_OFFLINE
    socket.getaddrinfo, hub.HF_HUB_OFFLINE = offline, False   # type: ignore[assignment]
    try:
        yield
    finally:
        socket.getaddrinfo, hub.HF_HUB_OFFLINE = lookup, hub_offline  # type: ignore[assignment]


def over(window: MainWindow, dialog: QtWidgets.QWidget) -> QtGui.QPixmap:
    """The window with a dialog centred on it, as a user sees them together (offscreen grabs each alone)."""
    from companion.ui import theme

    shot = window.grab()
    left, top = (window.width() - dialog.width()) // 2, (window.height() - dialog.height()) // 2
    painter = QtGui.QPainter(shot)
    shadow = QtGui.QColor(0, 0, 0, 40)
    for spread in range(1, 10):               # a soft shadow, as a window manager draws one
        shadow.setAlpha(max(2, 28 - 3 * spread))
        painter.setPen(shadow)
        painter.drawRect(left - spread, top - spread + 3, dialog.width() + 2 * spread - 1,
                         dialog.height() + 2 * spread - 1)
    painter.drawPixmap(left, top, dialog.grab())
    painter.setPen(theme.current().color("border"))
    painter.drawRect(left - 1, top - 1, dialog.width() + 1, dialog.height() + 1)
    painter.end()
    return shot


def settle(app: QtWidgets.QApplication, window: MainWindow, ms: int = 300) -> None:
    """Let workers finish and queued signals arrive."""
    deadline = QtCore.QDeadlineTimer(20_000)
    while window.workers.running and not deadline.hasExpired():
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(ms, loop.quit)
    loop.exec()


def ask(app: QtWidgets.QApplication, window: MainWindow, photo_path: str) -> None:
    window.show_view(0)
    window.chat.attach_image(photo_path)
    window.chat.input.setPlainText("Who is this? And when did I last see Anna?")
    window.chat.send()
    while window.chat.busy:
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
    settle(app, window)


def seeded_views(window: MainWindow, ids: dict[str, int]) -> dict[str, Callable[[], QtWidgets.QWidget]]:
    """View name -> a function that shows it and returns the widget to grab."""
    def people() -> QtWidgets.QWidget:
        window.show_view(1)
        window.people.show_grid()
        return window

    def person() -> QtWidgets.QWidget:
        window.open_person(ids["anna"])
        return window

    def group() -> QtWidgets.QWidget:
        window.show_view(1)
        window.people.open_group(ids["group"])
        return window

    def photos() -> QtWidgets.QWidget:
        window.open_photo(ids["question_photo"])
        return window

    def memories() -> QtWidgets.QWidget:
        window.show_view(3)
        return window

    def search() -> QtWidgets.QWidget:
        window.show_view(0)
        window.header.search.setText("Anna")
        window.search.search_now()
        return window

    def settings() -> QtWidgets.QWidget:
        dialog = window.open_settings()
        dialog.folders.add_folder(str(window.services.paths.data_dir))
        return dialog

    def hardware() -> QtWidgets.QWidget:
        dialog = window.open_settings()
        dialog.show_page("Hardware")      # GPU layers, device, idle unload and the face detector
        return dialog

    def chat() -> QtWidgets.QWidget:
        window.header.search.clear()
        window.show_view(0)
        return window

    def models() -> QtWidgets.QWidget:
        dialog = window.open_settings()
        dialog.show_page("Models")
        return dialog

    def privacy() -> QtWidgets.QWidget:
        dialog = window.open_settings()
        dialog.show_page("Privacy")       # conversations, other AI apps over MCP and their activity
        return dialog

    def backup() -> QtWidgets.QWidget:
        dialog = window.open_settings()
        dialog.show_page("Backup")
        return dialog

    def date_guess() -> QtWidgets.QWidget:
        window.header.search.clear()
        window.open_photo(ids["undated"])
        return window

    return {"chat": chat, "people": people, "person": person, "group": group, "photos": photos,
            "memories": memories, "search": search, "settings": settings, "settings-hardware": hardware,
            "settings-privacy": privacy, "settings-backup": backup,
            "settings-models": models, "photo-date-guess": date_guess}


def changing_views(window: MainWindow) -> dict[str, Callable[[], Any]]:
    """Views that change the seeded window (a new chat, a name): shot after the others."""
    def no_model_notice() -> QtWidgets.QWidget:
        """A question without a chat model: the answer from the records and a "Get a chat model" button."""
        window.header.search.clear()
        window.new_chat()
        # the old messages' deleteLater: run now (the real event loop does; this script's nested loops do not)
        QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
        window.chat.temporary.setChecked(True)   # asked once per shot: not remembered, not cited by the next
        window.chat.input.setPlainText("When did I last see Anna?")
        window.chat.send()
        app = QtWidgets.QApplication.instance()
        while window.chat.busy:
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
        return window

    named: dict[str, Any] = {}

    def named_in_place() -> QtWidgets.QWidget:
        """A face group just named in the grid: its tile says "Named Angelina" with Undo, where it was."""
        if "naming" in named:                      # each shot names the same group afresh
            library.undo_naming(window.services, named.pop("naming"))
        window.show_view(0)
        window.show_view(1)
        window.people.show_grid()
        settle(QtWidgets.QApplication.instance(), window)
        group = library.face_groups(window.services, named=False)[0].id
        worker = window.people.name_in_place(group, "Angelina")
        worker.signals.finished.connect(lambda naming: named.__setitem__("naming", naming))
        return window

    return {"chat-no-model-notice": no_model_notice, "people-named-undo": named_in_place}


def empty_views(window: MainWindow) -> dict[str, Callable[[], Any]]:
    def view(index: int) -> Callable[[], QtWidgets.QWidget]:
        return lambda: (window.show_view(index), window)[1]

    def onboarding() -> QtWidgets.QWidget:
        window.show_view(0)                  # a new user's window: the empty chat behind the flow
        wizard = window.open_onboarding()   # a fresh one each time, as Help ▸ Getting started opens it
        wizard.show()
        return wizard

    def onboarding_models() -> QtWidgets.QWidget:
        """The chat-model step: chat models in the table, photo search and faces in rows of their own."""
        wizard = onboarding()
        wizard.next()
        wizard.next()
        return wizard

    def onboarding_over_window() -> QtGui.QPixmap:
        """The first step over the window at the onboarding's own size: nothing of the chat shows around it."""
        wizard = onboarding()
        wizard.resize(800, 680)
        settle(QtWidgets.QApplication.instance(), window)
        return over(window, wizard)

    def offline_download() -> QtWidgets.QWidget:
        """A chat model asked for with no network: the reason, Retry, local files and the folder."""
        dialog = window.open_settings()
        dialog.show_page("Models")
        settle(QtWidgets.QApplication.instance(), window)
        with no_network():
            dialog.models.select("smolvlm-256m")
            dialog.models.download_selected()
            settle(QtWidgets.QApplication.instance(), window)
        return dialog

    return {"first-run-chat": view(0), "first-run-people": view(1), "first-run-photos": view(2),
            "first-run-memories": view(3), "onboarding": onboarding, "onboarding-models": onboarding_models,
            "onboarding-over-window": onboarding_over_window, "download-offline": offline_download}


def close_dialogs(window: MainWindow) -> None:
    for dialog in window.findChildren(QtWidgets.QDialog):
        if dialog.isVisible():
            dialog.close()


def shoot(app: QtWidgets.QApplication, window: MainWindow, views: dict[str, Callable[[], Any]],
          out: Path) -> list[Path]:
    files = []
    for mode in THEMES:
        appearance.install(app, mode)
        for width, height in SIZES:
            window.resize(width, height)
            for name, show in views.items():
                widget = show()
                settle(app, window)
                path = out / f"{name}-{mode}-{width}x{height}.png"
                if isinstance(widget, QtGui.QPixmap):      # composed by the view (a dialog over the window)
                    widget.save(str(path))
                    files.append(path)
                    close_dialogs(window)
                    continue
                if widget is not window:
                    widget.resize(min(width - 200, 980), max(min(height - 120, 640), widget.minimumSizeHint().height()))
                    settle(app, window, 150)
                widget.grab().save(str(path))
                files.append(path)
                if widget is not window:
                    widget.close()
                window.search.hide()
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "screenshots")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    app = create_app([sys.argv[0]])
    files: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="companion-shots-") as tmp:
        for kind in ("empty", "seeded"):
            home = Path(tmp) / kind
            services = Services.open(home)
            ids = seed(services, home) if kind == "seeded" else {}
            window = MainWindow(services)
            window.show()
            settle(app, window)
            if kind == "seeded":
                ask(app, window, services.store.photos.get(ids["question_photo"]).path)
                views = seeded_views(window, ids)
            else:
                window.open_onboarding()
                views = empty_views(window)
            files += shoot(app, window, views, args.out)
            if kind == "seeded":
                files += shoot(app, window, changing_views(window), args.out)
            window.workers.shutdown()
            window.close()
            services.close()
            # Delete the widgets while Qt is alive; left to interpreter exit they crash PySide's teardown.
            window.deleteLater()
            app.processEvents()
            del window
    for file in files:
        print(file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
