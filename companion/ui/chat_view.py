"""The chat: ask about a photo (dropped, pasted or opened) and watch the answer stream in.

One conversation per chat (``app.chat.chat_session``) runs on a worker; its
events arrive as ``item`` signals and fill the answer bubble (see
``chat_message``). Thumbnails for sources and faces for avatar chips are made on
the worker after the answer. Ctrl+N starts a new chat, Esc stops an answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from companion.app import chat, concepts, library, people
from companion.app.chat import Caption, Done, Fix, Notice, Recognition, ReminderFired, Token
from companion.core.types import Source
from companion.ui import images, paint
from companion.ui.chat_composer import ChatInput, Composer
from companion.ui.chat_message import MessageView, SourceCard
from companion.ui.qt import Qt, QtCore, QtGui, QtWidgets, Signal, emit
from companion.ui.widgets import EmptyState, button, chip
from companion.ui.workers import Worker, WorkerPool

if TYPE_CHECKING:
    from companion.app.services import Services

SUGGESTIONS = ("Who is this?", "Where did I last see them?", "What was I doing the last time I saw them?")


@dataclass
class _Pictures:
    """Made on the worker after an answer: source thumbnails and faces for people without a box."""

    thumbs: dict[int, QtGui.QImage] = field(default_factory=dict)
    faces: dict[int, QtGui.QImage] = field(default_factory=dict)
    date_notes: dict[int, str] = field(default_factory=dict)   # photo id -> "Date from the file, not the camera"


class ChatView(QtWidgets.QWidget):
    """Conversation with the companion.

    Signals:
        open_photo(int), open_memory(int), open_person(int): a source or a person chip was clicked.
        answer_finished(object): an answer completed (the ``Answer``), or None when stopped.
        wants(str): the empty state asked for a next step: "folder", "model" or "people".
        status(str): a message for the status bar.
    """

    open_photo = Signal(int)
    open_memory = Signal(int)
    open_person = Signal(int)
    answer_finished = Signal(object)
    wants = Signal(str)
    status = Signal(str)

    def __init__(self, services: Services, workers: WorkerPool, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.services, self.workers = services, workers
        self.image: Path | None = None
        self.worker: Worker | None = None
        self.current: MessageView | None = None
        self.question_view: MessageView | None = None
        self.messages: list[MessageView] = []
        # [the chat's session, once made]: made by the first answer's worker (opening it may load the
        # model, seconds of work that must not run on the window's thread); a new chat is a new list.
        self.session: list[Any] = [None]
        self._last: tuple[str, Path | None] | None = None
        self._last_answer: Any = None
        self.counts: library.Counts | None = None

        self.scroll_area = QtWidgets.QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        holder = QtWidgets.QWidget()
        holder.setObjectName("column")
        outer = QtWidgets.QHBoxLayout(holder)
        outer.setContentsMargins(24, 16, 24, 16)
        inner = QtWidgets.QWidget()
        inner.setMaximumWidth(860)
        self.column = QtWidgets.QVBoxLayout(inner)
        self.column.setContentsMargins(0, 0, 0, 0)
        self.column.setSpacing(6)
        self.column.addStretch(1)
        outer.addWidget(inner)
        self.scroll_area.setWidget(holder)
        self.empty = self._build_empty()
        self.column.insertWidget(0, self.empty, 4)   # centred in the free space above the composer
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.scroll_area, 1)
        self.composer = self._build_composer()
        layout.addWidget(self.composer)
        self._show_attachment()
        self.refresh_empty_state()

    # ---- layout pieces ----------------------------------------------------------------

    def _build_empty(self) -> EmptyState:
        empty = EmptyState("chat", "Ask about someone in a photo",
                           "Drop a photo anywhere on this window, paste one or press Ctrl+O, then ask. "
                           "Answers come from your photos and what you've told me; nothing leaves this computer.")
        self.suggestions = []
        row = QtWidgets.QHBoxLayout()
        row.addStretch(1)
        for text in SUGGESTIONS:
            suggestion = chip(text, None, checkable=False)
            suggestion.clicked.connect(lambda _=False, t=text: self._suggest(t))
            row.addWidget(suggestion)
            self.suggestions.append(suggestion)
        row.addStretch(1)
        empty.column.insertLayout(empty.column.count() - 1, row)
        self.setup_folder = empty.add_button(button("Add your photo folder", "folder", "primary",
                                                    lambda: emit(self.wants, "folder")))
        self.setup_model = empty.add_button(button("Get a chat model", "download", "",
                                                   lambda: emit(self.wants, "model")))
        self.setup_people = empty.add_button(button("Name the faces I found", "face", "",
                                                    lambda: emit(self.wants, "people")))
        return empty

    def _build_composer(self) -> Composer:
        composer = Composer(self.services.paths.cache_dir / "pasted")
        self.input, self.attach_button, self.temporary = composer.input, composer.attach_button, composer.temporary
        self.send_button, self.stop_button = composer.send_button, composer.stop_button
        self.attachment, self.attachment_name = composer.attachment, composer.attachment_name
        self.clear_attachment_button = composer.clear_attachment_button
        self.input.image_given.connect(self.attach_image)
        self.attach_button.clicked.connect(self._pick)
        self.temporary.toggled.connect(lambda _on: self._end_session())
        self.send_button.clicked.connect(self.send)
        self.stop_button.clicked.connect(self.stop)
        self.clear_attachment_button.clicked.connect(self.clear_image)
        return composer

    def set_covered(self, covered: bool) -> None:
        """Blank the empty chat while the getting-started flow is open over it.

        The flow's dialog is centred on the window and the chat's column on the content
        beside the sidebar, so the example questions stuck out at the dialog's right edge,
        clipped ("…em?"), behind every step.
        """
        self.empty.setVisible(not covered and not self.messages)

    def set_library(self, counts: library.Counts) -> None:
        self.counts = counts
        self.refresh_empty_state()

    def refresh_empty_state(self) -> None:
        """Offer the next setup step: a photo folder, a chat model, or naming faces."""
        settings = self.services.settings
        self.setup_folder.setVisible(not settings.watched_folders)
        self.setup_model.setVisible(not settings.model)
        self.setup_people.setVisible(bool(self.counts and self.counts.waiting))
        self.setup_people.setText(f"Name {self.counts.waiting} face group{'s' if self.counts.waiting != 1 else ''}"
                                  if self.counts and self.counts.waiting else "Name the faces I found")

    # ---- attachment -------------------------------------------------------------------

    def _suggest(self, text: str) -> None:
        self.input.setPlainText(text)
        self.input.setFocus()

    def _pick(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open a photo", str(Path.home()),
                                                        "Images (*.jpg *.jpeg *.png *.webp *.heic *.heif)")
        if path:
            self.attach_image(path)

    def attach_image(self, path: str | Path) -> None:
        self.image = Path(path)
        self._show_attachment()
        self.input.setFocus()

    def clear_image(self) -> None:
        self.image = None
        self._show_attachment()

    def _show_attachment(self) -> None:
        self.composer.show_attachment(self.image)

    # ---- asking -----------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.worker is not None

    def new_chat(self) -> None:
        """Clear the conversation; the next question starts a new one."""
        self.stop()
        for message in self.messages:
            message.deleteLater()
        self.messages.clear()
        self._end_session()
        self.empty.show()
        self.input.setFocus()

    def _end_session(self) -> None:
        self.session = [None]

    def send(self) -> None:
        question = self.input.toPlainText().strip()
        if self.busy or not (question or self.image):
            return
        image = self.image
        self.input.clear()
        self.clear_image()
        self._ask(question, image)

    def retry(self) -> None:
        if self._last is not None and not self.busy:
            self._ask(*self._last)

    def _ask(self, question: str, image: Path | None) -> None:
        self._last, self._last_answer = (question, image), None
        self.empty.hide()
        self.question_view = self._add(MessageView("user", question, image))
        self.current = self._add(MessageView("assistant"))
        self.current.start_typing()
        self.current.copy_requested.connect(lambda m=self.current: QtGui.QGuiApplication.clipboard().setText(
            m.body.text()))
        self.current.retry_requested.connect(self.retry)
        self.current.person_clicked.connect(lambda cid: emit(self.open_person, cid))
        self.current.action_requested.connect(self._action)
        session, temporary = self.session, self.temporary.isChecked()
        self.worker = self.workers.start(lambda cancel: self._job(session, temporary, question, image, cancel),
                                         "answer")
        self.worker.signals.item.connect(self._on_event)
        self.worker.signals.finished.connect(self._on_finished)
        self.worker.signals.error.connect(self._on_error)
        self.worker.signals.failed.connect(self._on_failed)
        self.send_button.hide()
        self.stop_button.show()
        emit(self.status, "Thinking…")

    def _job(self, session: list[Any], temporary: bool, question: str, image: Path | None, cancel: Any) -> Any:
        # Runs on a worker: open the chat's session if needed, stream events, then make the pictures.
        if session[0] is None:
            session[0] = chat.chat_session(self.services, temporary=temporary)
        without_box: dict[int, Any] = {}
        for event in session[0].send(question, str(image) if image else None, cancel=cancel):
            yield event
            if isinstance(event, Recognition):
                without_box = {r.concept_id: r for r in event.recognized if r.box is None}
            if isinstance(event, Done):
                pictures = _Pictures()
                for source in event.answer.sources:
                    if source.type == "photo":
                        photo = library.photo(self.services, source.id)
                        if photo is not None:
                            pictures.date_notes[photo.id] = library.date_note(photo)
                            pictures.thumbs[photo.id] = paint.rounded(
                                paint.cover(images.photo_thumbnail(photo, 320), 132), 8)
                for concept_id in without_box:
                    concept = concepts.concept(self.services, concept_id)
                    if concept is not None:
                        pictures.faces[concept_id] = images.face_image(people.face_of(self.services, concept), 64)
                yield pictures

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            emit(self.status, "Stopped")

    def _add(self, message: MessageView) -> MessageView:
        self.column.insertWidget(self.column.count() - 1, message)
        self.messages.append(message)
        QtCore.QTimer.singleShot(30, lambda: self.scroll_area.verticalScrollBar().setValue(
            self.scroll_area.verticalScrollBar().maximum()))
        return message

    def _on_event(self, event: Any) -> None:
        """One ``AnswerEvent`` (see companion.core.answer.pipeline), or the pictures made after it."""
        message = self.current
        if message is None:
            return
        if isinstance(event, _Pictures):
            for card in message.cards:
                if card.kind == "photo":
                    photo_id = card.source.id
                    card.set_thumbnail(event.thumbs.get(photo_id, QtGui.QImage()))
                    card.set_date_note(event.date_notes.get(photo_id, ""))
            message.fit_sources()
            for person in message.people:
                face = event.faces.get(person.concept_id) if person.concept_id is not None else None
                if face is not None:
                    person.avatar.set_face(face)
            return
        match event:
            case Token(text=text):
                message.append(text)
            case Fix(text=text, replace=replace):
                message.set_text(text if replace else message.body.text() + text)
            case Recognition():
                self._recognized(message, event)
            case ReminderFired(text=text):
                message.add_reminder(text)
            case Caption(text=text):
                message.add_note(text, "caption")
            case Notice(text=text, action=action):
                message.add_note(text, "notice", action)
            case Done(answer=answer):
                self._show_answer(message, answer)
        self._follow()

    def _recognized(self, message: MessageView, event: Recognition) -> None:
        question = self.question_view
        faces: list[tuple[Any, str | None]] = [(r.box, r.name) for r in event.recognized if r.box is not None]
        faces += [(box, None) for box in event.unknown_boxes]
        if question is not None and faces:
            question.show_faces(faces)
        for r in event.recognized:
            crop = question.face_crop(r.box) if question is not None and r.box is not None else None
            message.add_person(r.name, r.concept_id, crop)

    def _show_answer(self, message: MessageView, answer: Any) -> None:
        if answer.answer and not message.body.text().strip():
            message.set_text(answer.answer)  # a non-streaming path still shows its answer
        if not message.reminder_cards:
            for reminder in answer.reminders:
                message.add_reminder(reminder)
        for source in answer.sources:
            card = SourceCard(source)
            card.clicked.connect(lambda s=source: self._open(s))
            message.add_source(card)
        self._last_answer = answer

    def _follow(self) -> None:
        bar = self.scroll_area.verticalScrollBar()
        if bar.maximum() - bar.value() < 160:  # only when the user has not scrolled up to read
            QtCore.QTimer.singleShot(0, lambda: bar.setValue(bar.maximum()))

    def _open(self, source: Source) -> None:
        if source.type == "photo":
            emit(self.open_photo, source.id)
        elif source.type == "memory":
            emit(self.open_memory, source.id)

    def _on_finished(self, _result: Any) -> None:
        stopped = self.worker is not None and self.worker.cancelled
        if stopped and self.current is not None:
            self.current.set_text(self.current.body.text() + ("\n\n*Stopped.*" if self.current.body.text()
                                                              else "*Stopped.*"))
        if self.current is not None:
            self.current.finish()
        self._reset()
        emit(self.status, "Stopped" if stopped else "Answered")
        emit(self.answer_finished, None if stopped else self._last_answer)

    def _action(self, action: str) -> None:
        """A notice's button: the window's own way to the next step."""
        emit(self.wants, "model")   # get a chat model, choose another, or the photo model: Settings ▸ Models

    def _on_error(self, error: Any) -> None:
        """A failure with a next step (e.g. a crashed model: "Choose another model") gets its button."""
        action = getattr(error, "action", "")
        if self.current is not None and action:
            self.current.add_action(action)

    def _on_failed(self, message: str) -> None:
        if self.current is not None:
            self.current.set_text(f"**Something went wrong.** {message}")
            self.current.finish()
        question, image = self._last or ("", None)
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
        self.stop_button.hide()
        self.send_button.show()


__all__ = ["ChatView", "ChatInput", "MessageView", "SourceCard"]
