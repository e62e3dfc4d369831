"""The chat: ask about a photo (dropped, pasted or opened) and watch the answer stream in.

Each answer shows who was recognized, the reminders that fired (set apart) and
cards for the photos and memories it came from; clicking a card opens it.
``app.chat.ask`` runs on a worker; tokens arrive as ``item`` signals.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from companion.app import chat
from companion.ui import images
from companion.ui.qt import QtCore, QtGui, QtWidgets, Signal, emit
from companion.ui.workers import Worker, WorkerPool


def field_of(obj: Any, name: str, default: Any = None) -> Any:
    """Read ``name`` from a dict (answer sources) or an object (index results)."""
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


@dataclass
class _Thumbnails:
    """Source thumbnails loaded by the worker after the answer is done."""

    images: dict[int, QtGui.QImage] = field(default_factory=dict)


class SourceCard(QtWidgets.QToolButton):
    """A clickable card for one source (photo thumbnail with date and place, or a memory snippet)."""

    def __init__(self, source: Any, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        kind = field_of(source, "type", "")
        when = field_of(source, "time", "")
        when = when.strftime("%d %b %Y") if hasattr(when, "strftime") else str(when or "")[:10]
        place = field_of(source, "place", "") or ""
        snippet = (field_of(source, "snippet", "") or "").strip()
        if kind == "photo":
            text = "\n".join(p for p in (when, place) if p) or f"photo {field_of(source, 'id')}"
            self.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            self.setIconSize(QtCore.QSize(96, 96))
            self.setIcon(QtGui.QIcon(images.pixmap(QtGui.QImage(), "📷")))
        else:
            short = snippet if len(snippet) < 70 else snippet[:67] + "…"
            text = f"{kind.title()} · {when}\n{short}" if when else f"{kind.title()}\n{short}"
            self.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.setText(text)
        self.setToolTip(snippet or text)
        self.setAutoRaise(False)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Maximum, QtWidgets.QSizePolicy.Policy.Maximum)

    def set_thumbnail(self, image: QtGui.QImage) -> None:
        if not image.isNull():
            self.setIcon(QtGui.QIcon(QtGui.QPixmap.fromImage(image)))


class MessageView(QtWidgets.QFrame):
    """One turn: the user's question or the assistant's streamed answer with its extras."""

    def __init__(self, role: str, text: str = "", image: Path | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.role = role
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.setBackgroundRole(QtGui.QPalette.ColorRole.Base if role == "assistant"
                               else QtGui.QPalette.ColorRole.AlternateBase)
        self.setAutoFillBackground(True)
        layout = QtWidgets.QVBoxLayout(self)
        header = QtWidgets.QLabel("You" if role == "user" else "Companion")
        font = header.font()
        font.setBold(True)
        header.setFont(font)
        layout.addWidget(header)
        if image is not None:
            preview = QtWidgets.QLabel()
            preview.setPixmap(images.pixmap(images.load_image(image, 240)))
            layout.addWidget(preview)
        self.recognized = QtWidgets.QLabel()
        self.recognized.setObjectName("recognized")
        self.recognized.hide()
        layout.addWidget(self.recognized)
        self.notes = QtWidgets.QVBoxLayout()
        layout.addLayout(self.notes)
        self.body = QtWidgets.QLabel(text)
        self.body.setWordWrap(True)
        self.body.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.body)
        self.reminders = QtWidgets.QVBoxLayout()
        self.reminder_labels: list[QtWidgets.QLabel] = []
        layout.addLayout(self.reminders)
        # Source cards scroll sideways in their own strip, so many sources never make the
        # whole message (and the chat) wider than the window.
        strip = QtWidgets.QWidget()
        self.sources = QtWidgets.QHBoxLayout(strip)
        self.sources.setContentsMargins(0, 0, 0, 0)
        self.sources.addStretch(1)
        self.source_strip = QtWidgets.QScrollArea()
        self.source_strip.setObjectName("sources")
        self.source_strip.setWidget(strip)
        self.source_strip.setWidgetResizable(True)
        self.source_strip.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.source_strip.setVerticalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.source_strip.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Fixed)
        self.source_strip.hide()
        layout.addWidget(self.source_strip)
        self.cards: list[SourceCard] = []

    def append(self, token: str) -> None:
        self.body.setText(self.body.text() + token)

    def set_recognized(self, names: list[str]) -> None:
        self.recognized.setText("Recognized: " + ", ".join(names) if names else "Nobody I know recognized")
        self.recognized.show()

    def add_reminder(self, text: str) -> None:
        # Tooltip palette roles: a distinct, system-chosen colour pair that follows dark mode.
        label = QtWidgets.QLabel(f"🔔 {text}")
        label.setObjectName("reminder")
        label.setWordWrap(True)
        label.setMargin(6)
        label.setFrameShape(QtWidgets.QFrame.Shape.Box)
        label.setBackgroundRole(QtGui.QPalette.ColorRole.ToolTipBase)
        label.setForegroundRole(QtGui.QPalette.ColorRole.ToolTipText)
        label.setAutoFillBackground(True)
        self.reminders.addWidget(label)
        self.reminder_labels.append(label)

    def add_note(self, text: str, kind: str) -> None:
        """A caption ("I see: …") or a notice, in the placeholder colour above the answer."""
        label = QtWidgets.QLabel(f"I see: {text}" if kind == "caption" else text)
        label.setObjectName(kind)
        label.setWordWrap(True)
        label.setForegroundRole(QtGui.QPalette.ColorRole.PlaceholderText)
        self.notes.addWidget(label)

    def add_source(self, card: SourceCard) -> None:
        self.sources.insertWidget(self.sources.count() - 1, card)
        self.cards.append(card)
        self._fit_source_strip()
        self.source_strip.show()

    def _fit_source_strip(self) -> None:
        # As tall as the tallest card plus room for the sideways scroll bar.
        tallest = max(c.sizeHint().height() for c in self.cards)
        self.source_strip.setFixedHeight(tallest + self.source_strip.horizontalScrollBar().sizeHint().height() + 4)


class ChatInput(QtWidgets.QPlainTextEdit):
    """The question box; a pasted or dropped image becomes the attachment, not text.

    Signals:
        image_given(str): path of an image pasted or dropped here.
    """

    image_given = Signal(str)

    def __init__(self, paste_dir: Path, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.paste_dir = paste_dir
        self.setPlaceholderText("Ask about a photo or about anyone you've told me about… (Ctrl+Enter to send)")
        self.setMaximumHeight(90)

    def canInsertFromMimeData(self, source: QtCore.QMimeData) -> bool:  # noqa: N802 - Qt override
        return source.hasImage() or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QtCore.QMimeData) -> None:  # noqa: N802 - Qt override
        paths = [u.toLocalFile() for u in source.urls() if images.is_image(u.toLocalFile())]
        if paths:
            emit(self.image_given, paths[0])
        elif source.hasImage():
            image = QtGui.QImage(source.imageData())
            self.paste_dir.mkdir(parents=True, exist_ok=True)
            path = self.paste_dir / f"pasted-{time.strftime('%Y%m%d-%H%M%S')}.png"
            if image.save(str(path)):
                emit(self.image_given, str(path))
        else:
            super().insertFromMimeData(source)


class ChatView(QtWidgets.QWidget):
    """Conversation with the companion.

    Signals:
        open_photo(int): the user clicked a photo source card.
        open_memory(int): the user clicked a memory source card.
        answer_finished(object): an answer completed (the ``Answer``), or None when stopped.
        status(str): a message for the status bar.
    """

    open_photo = Signal(int)
    open_memory = Signal(int)
    answer_finished = Signal(object)
    status = Signal(str)

    def __init__(self, services: Any, workers: WorkerPool, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.workers = workers
        self.image: Path | None = None
        self._asked: tuple[str, Path | None] = ("", None)   # the last question sent, with its photo
        self.worker: Worker | None = None
        self.current: MessageView | None = None
        self.messages: list[MessageView] = []

        self.scroll = QtWidgets.QScrollArea()
        self.scroll.setWidgetResizable(True)
        holder = QtWidgets.QWidget()
        self.column = QtWidgets.QVBoxLayout(holder)
        self.column.addStretch(1)
        self.scroll.setWidget(holder)
        self.empty = QtWidgets.QLabel("Drop a photo anywhere on this window, paste one, or press Ctrl+O, "
                                      "then ask about it.")
        self.empty.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.empty.setForegroundRole(QtGui.QPalette.ColorRole.PlaceholderText)
        self.column.insertWidget(0, self.empty)

        self.attachment = QtWidgets.QLabel()
        self.clear_attachment_button = QtWidgets.QToolButton(text="✕", toolTip="Remove the photo")
        self.clear_attachment_button.clicked.connect(self.clear_image)
        self.input = ChatInput(services.paths.cache_dir / "pasted")
        self.input.image_given.connect(self.attach_image)
        self.temporary = QtWidgets.QCheckBox("Temporary chat")
        self.temporary.setToolTip("Nothing from this chat is remembered")
        self.send_button = QtWidgets.QPushButton("Send")
        self.send_button.clicked.connect(self.send)
        self.stop_button = QtWidgets.QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        self.stop_button.setEnabled(False)

        attach_row = QtWidgets.QHBoxLayout()
        attach_row.addWidget(self.attachment)
        attach_row.addWidget(self.clear_attachment_button)
        attach_row.addStretch(1)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.temporary)
        buttons.addStretch(1)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.send_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.scroll, 1)
        layout.addLayout(attach_row)
        layout.addWidget(self.input)
        layout.addLayout(buttons)
        self._show_attachment()

    # ---- attachment -------------------------------------------------------------------

    def attach_image(self, path: str | Path) -> None:
        self.image = Path(path)
        self._show_attachment()
        self.input.setFocus()

    def clear_image(self) -> None:
        self.image = None
        self._show_attachment()

    def _show_attachment(self) -> None:
        has = self.image is not None
        self.attachment.setVisible(has)
        self.clear_attachment_button.setVisible(has)
        if has:
            self.attachment.setPixmap(images.pixmap(images.load_image(self.image, 64)))
            self.attachment.setToolTip(str(self.image))

    # ---- asking -----------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.worker is not None

    def send(self) -> None:
        question = self.input.toPlainText().strip()
        if self.busy or not (question or self.image):
            return
        image, temporary = self.image, self.temporary.isChecked()
        self._last_answer: Any = None
        self._asked = (question, image)   # put back in the box if answering fails
        self.empty.hide()
        self._add(MessageView("user", question, image))
        self.current = self._add(MessageView("assistant"))
        self.input.clear()
        self.clear_image()
        self.worker = self.workers.start(lambda cancel: self._job(question, image, temporary, cancel), "answer")
        self.worker.signals.item.connect(self._on_event)
        self.worker.signals.finished.connect(self._on_finished)
        self.worker.signals.failed.connect(self._on_failed)
        self.send_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        emit(self.status, "Thinking…")

    def _job(self, question: str, image: Path | None, temporary: bool, cancel: Any) -> Any:
        # Runs on a worker: stream events, then load the source thumbnails off the GUI thread.
        for event in chat.ask(self.services, question, image=image, temporary=temporary, cancel=cancel):
            yield event
            if event.kind == "done" and event.answer is not None:
                thumbs = _Thumbnails()
                for source in event.answer.sources:
                    if field_of(source, "type") == "photo":
                        photo = self.services.store.photos.get(int(field_of(source, "id")))
                        if photo is not None:
                            thumbs.images[photo.id] = images.photo_thumbnail(photo, 96)
                yield thumbs

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            emit(self.status, "Stopped")

    def _add(self, message: MessageView) -> MessageView:
        self.column.insertWidget(self.column.count() - 1, message)
        self.messages.append(message)
        QtCore.QTimer.singleShot(0, lambda: self.scroll.verticalScrollBar().setValue(
            self.scroll.verticalScrollBar().maximum()))
        return message

    def _on_event(self, event: Any) -> None:
        """One ``AnswerEvent`` (see companion.core.answer.pipeline), or the thumbnails loaded after it."""
        message = self.current
        if message is None:
            return
        if isinstance(event, _Thumbnails):
            for card in message.cards:
                if field_of(card.source, "type") == "photo":
                    card.set_thumbnail(event.images.get(int(field_of(card.source, "id")), QtGui.QImage()))
            return
        kind = event.kind
        if kind == "token":
            message.append(event.text)
        elif kind == "fix":
            message.body.setText(event.text if event.replace else message.body.text() + event.text)
        elif kind == "recognized":
            message.set_recognized([r.name for r in event.recognized])
        elif kind == "reminder":
            message.add_reminder(event.text)
        elif kind in ("caption", "notice"):
            message.add_note(event.text, kind)
        elif kind == "done" and event.answer is not None:
            self._show_answer(message, event.answer)

    def _show_answer(self, message: MessageView, answer: Any) -> None:
        if answer.answer and not message.body.text().strip():
            message.body.setText(answer.answer)  # a non-streaming path still shows its answer
        if message.recognized.isHidden():
            message.set_recognized([r["name"] for r in answer.recognized])
        if not message.reminder_labels:
            for reminder in answer.reminders:
                message.add_reminder(reminder)
        for source in answer.sources:
            card = SourceCard(source)
            card.clicked.connect(lambda _=False, s=source: self._open(s))
            message.add_source(card)
        self._last_answer = answer

    def _open(self, source: Any) -> None:
        kind, ident = field_of(source, "type"), int(field_of(source, "id"))
        if kind == "photo":
            emit(self.open_photo, ident)
        elif kind == "memory":
            emit(self.open_memory, ident)

    def _on_finished(self, _result: Any) -> None:
        stopped = self.worker is not None and self.worker.cancelled
        if stopped and self.current is not None:
            self.current.append(" [stopped]")
        self._reset()
        emit(self.status, "Stopped" if stopped else "Answered")
        emit(self.answer_finished, None if stopped else getattr(self, "_last_answer", None))

    def _on_failed(self, message: str) -> None:
        if self.current is not None:
            self.current.body.setText(f"⚠ {message}")
        question, image = self._asked
        if not self.input.toPlainText().strip():   # nothing typed since: the question goes back in the box
            self.input.setPlainText(question)
            if image is not None and self.image is None:
                self.attach_image(image)
        self._reset()
        emit(self.status, message)
        emit(self.answer_finished, None)

    def _reset(self) -> None:
        self.worker = None
        self.current = None
        self.send_button.setEnabled(True)
        self.stop_button.setEnabled(False)
