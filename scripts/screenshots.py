"""Render each main view of the GUI with sample data to PNG files (for review and docs).

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py --out screenshots/

A temporary home is seeded through Services (concept cards, an imported chat,
memories, generated photos and a face group of real portraits); each view is
shown, given time to load on its workers, and grabbed with ``QWidget.grab()``.
``--dark`` also renders the main views with a dark palette to check that
nothing hard-codes light colours.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "ui"))

import sample_data  # noqa: E402  (tests/ui/sample_data.py)

from companion.app import chat  # noqa: E402
from companion.app.services import Services  # noqa: E402
from companion.ui.app import create_app  # noqa: E402
from companion.ui.main_window import MainWindow  # noqa: E402
from companion.ui.qt import QtCore, QtGui, QtWidgets  # noqa: E402

CHAT = [
    {"time": "2024-05-20T18:02:00+02:00", "role": "user", "text": "Anna and I took Rex to the lake today."},
    {"time": "2024-05-20T18:02:30+02:00", "role": "assistant", "text": "Sounds lovely! How was the water?"},
    {"time": "2024-05-20T18:03:10+02:00", "role": "user",
     "text": "Cold. If Anna shows up in a photo again, remind me to return her tent."},
]


def seed(services: Services, home: Path) -> list[str]:
    """Fill the home with sample data; returns notes about what could not be seeded."""
    notes = []
    sample_data.seed_concepts(services)
    history = home / "chat.jsonl"
    history.write_text("\n".join(json.dumps(t) for t in CHAT) + "\n", encoding="utf-8")
    try:
        result = chat.import_chat(services, history)
        notes.append(f"imported chat: {result.turns} turns, {result.memories} memories learned")
    except (ImportError, AttributeError) as exc:  # memory extraction not in this build yet
        notes.append(f"chat turns stored, memory extraction unavailable: {exc}")
    sample_data.seed_memories(services)
    ids = sample_data.seed_photos(services, home / "photos", count=12)
    anna, seen = services.store.concepts.by_name("Anna"), services.store.photos.get(ids[1])
    if anna is not None and seen is not None:  # Anna seen in a photo: the chat can cite it
        services.store.observations.add(anna.id, time=seen.taken_at, place=seen.place.label() if seen.place else "",
                                        source="face", kind="sighting", confidence=0.9, photo_id=seen.id)
    sample_data.seed_face_group(services, home / "faces", copies=3)
    return notes


def settle(app: QtWidgets.QApplication, window: MainWindow, ms: int = 400) -> None:
    """Let workers finish and queued signals arrive."""
    deadline = QtCore.QDeadlineTimer(10_000)
    while window.workers.running and not deadline.hasExpired():
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(ms, loop.quit)
    loop.exec()


def dark_palette() -> QtGui.QPalette:
    palette = QtGui.QPalette()
    roles = QtGui.QPalette.ColorRole
    for role, color in ((roles.Window, "#2b2b2b"), (roles.WindowText, "#e6e6e6"), (roles.Base, "#1e1e1e"),
                        (roles.AlternateBase, "#333333"), (roles.Text, "#e6e6e6"), (roles.Button, "#3a3a3a"),
                        (roles.ButtonText, "#e6e6e6"), (roles.Highlight, "#3d6fb4"), (roles.Mid, "#555555"),
                        (roles.HighlightedText, "#ffffff"), (roles.ToolTipBase, "#4a4220"),
                        (roles.ToolTipText, "#f5e9b8"), (roles.PlaceholderText, "#9a9a9a")):
        palette.setColor(role, QtGui.QColor(color))
    for role in (roles.ButtonText, roles.WindowText, roles.Text):
        palette.setColor(QtGui.QPalette.ColorGroup.Disabled, role, QtGui.QColor("#777777"))
    return palette


def shoot(window: MainWindow, app: QtWidgets.QApplication, out: Path, suffix: str = "") -> list[Path]:
    files = []
    services = window.services
    window.chat.attach_image(services.store.photos.list(limit=12)[-1].path)
    window.chat.input.setPlainText("When did I last see Anna?")
    window.chat.send()
    while window.chat.busy:
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
    for index, name in enumerate(("chat", "people", "photos", "memories")):
        window.show_view(index)
        settle(app, window)
        if name == "photos" and window.photos.grid.count():
            window.photos.grid.setCurrentRow(0)
            settle(app, window)
        if name == "people" and window.people.groups.faces.count():
            window.people.groups.faces.item(0).setSelected(True)
        files.append(out / f"{name}{suffix}.png")
        window.grab().save(str(files[-1]))
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "screenshots")
    parser.add_argument("--dark", action="store_true", help="also render with a dark palette")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    app = create_app([sys.argv[0]])
    app.setStyle("Fusion")
    with tempfile.TemporaryDirectory(prefix="companion-shots-") as tmp:
        home = Path(tmp)
        services = Services.open(home)
        for note in seed(services, home):
            print(note)
        window = MainWindow(services)
        window.resize(1200, 780)
        window.show()
        files = shoot(window, app, args.out)
        settings = window.open_settings()
        settings.folders.add_folder(str(home / "photos"))
        settle(app, window)
        files.append(args.out / "settings.png")
        settings.grab().save(str(files[-1]))
        settings.reject()
        wizard = window.open_onboarding()
        wizard.next()
        wizard.folders.add_folder(str(home / "photos"))
        settle(app, window)
        files.append(args.out / "onboarding.png")
        wizard.grab().save(str(files[-1]))
        wizard.reject()
        if args.dark:
            app.setPalette(dark_palette())
            files += shoot(window, app, args.out, "-dark")
        window.workers.shutdown()
        window.close()
        services.close()
        # Delete the widgets while Qt is alive; left to interpreter exit they crash PySide's teardown.
        window.deleteLater()
        app.processEvents()
        del window, settings, wizard
    for file in files:
        print(file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
