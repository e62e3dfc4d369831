"""One chat turn as bubbles: the question (with its photo, faces boxed and named) or the streamed answer.

An answer shows recognised people as avatar chips, reminders as a highlighted
card, the text as Markdown (with three pulsing dots until the first words
arrive), its sources as a sideways strip of photo thumbnails and memory cards,
and Copy / Retry under it. No internal ids are shown anywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from companion.core.types import Source
from companion.ui import icons, images, paint, theme
from companion.ui.qt import Qt, QtCore, QtGui, QtWidgets, Signal, emit
from companion.ui.widgets import AvatarChip, FlowLayout, button, date_place, frame, label, tool

BUBBLE_MAX = 680
# A notice's or an error's next step (core.errors.ACTIONS) as the window's own button: words and icon.
ACTION_BUTTONS = {"get_chat_model": ("Get a chat model", "download"),
                  "choose_model": ("Choose another model", "model"),
                  "get_photo_model": ("Get the photo model", "download")}


class TypingDots(QtWidgets.QWidget):
    """Three dots that pulse while the answer is on its way."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.phase = 0
        self.timer = QtCore.QTimer(self, interval=160)
        self.timer.timeout.connect(self._step)
        self.setFixedSize(44, 18)
        self.setAccessibleName("Companion is writing")

    def start(self) -> None:
        self.show()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        self.hide()

    def _step(self) -> None:
        self.phase = (self.phase + 1) % 6
        self.update()

    def paintEvent(self, _event: QtGui.QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QtGui.QPainter(self)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        for i in range(3):
            colour = theme.current().color("muted")
            colour.setAlphaF(1.0 if (self.phase // 2) == i else 0.35)
            painter.setBrush(colour)
            painter.drawEllipse(QtCore.QPointF(8 + i * 14, 9), 4, 4)
        painter.end()


class SourceCard(QtWidgets.QFrame):
    """A clickable source: a photo thumbnail with "23 May 2024 · Lisbon", or a memory / something you said."""

    clicked = Signal()

    def __init__(self, source: Source, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "source")
        self.source = source
        self.kind = source.type
        when, place = source.time, source.place
        snippet = " ".join(source.snippet.split())
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 8)
        layout.setSpacing(6)
        self.caption = date_place(when, place)
        if self.kind == "photo":
            self.thumb = QtWidgets.QLabel()
            self.thumb.setFixedSize(132, 132)
            self.thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.thumb.setPixmap(icons.pixmap("photo", 32, "muted", self.devicePixelRatioF() or 1.0))
            layout.addWidget(self.thumb)
            text = label(self.caption or "A photo", "caption")
            self.setFixedWidth(146)
            self.setAccessibleName(f"Photo, {self.caption}" if self.caption else "Photo")
            self.setToolTip("Open this photo")
        else:
            heading = "Memory" if self.kind == "memory" else f"{source.speaker} said" if source.speaker else "You said"
            top = QtWidgets.QHBoxLayout()
            icon = QtWidgets.QLabel()
            icon.setPixmap(icons.pixmap("memories" if self.kind == "memory" else "chat", 16, "accent",
                                        self.devicePixelRatioF() or 1.0))
            top.addWidget(icon)
            top.addWidget(label(heading, "caption"), 1)
            layout.setContentsMargins(12, 10, 12, 10)
            layout.addLayout(top)
            short = snippet if len(snippet) < 110 else snippet[:107].rstrip() + "…"
            body = label(short, wrap=True)
            body.setMinimumHeight(40)
            layout.addWidget(body, 1)
            text = label(self.caption, "caption")
            self.setFixedWidth(232)
            self.setAccessibleName(f"{heading}: {short}")
            self.setToolTip(snippet)
        layout.addWidget(text)
        self.text_label = text
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def text(self) -> str:
        """Everything the card says, as a user would read it."""
        return "\n".join(w.text() for w in self.findChildren(QtWidgets.QLabel) if w.text())

    def set_date_note(self, note: str) -> None:
        """Say that the photo's date is a guess ("Date from the file, not the camera") under its date."""
        if self.kind != "photo" or not note:
            return
        self.text_label.setText(f"{self.caption}\n{note}" if self.caption else note)
        self.text_label.setWordWrap(True)
        self.setToolTip(f"Open this photo ({note[:1].lower() + note[1:]})")
        self.setAccessibleName(f"Photo, {self.caption}, {note}")

    def set_thumbnail(self, image: QtGui.QImage) -> None:
        if self.kind == "photo" and not image.isNull():
            self.thumb.setPixmap(QtGui.QPixmap.fromImage(image))

    def mouseReleaseEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.button() == Qt.MouseButton.LeftButton:
            emit(self.clicked)
        super().mouseReleaseEvent(event)

    def click(self) -> None:
        emit(self.clicked)


class ReminderCard(QtWidgets.QFrame):
    """A reminder that fired for this question, set apart from the answer by its role's style."""

    def __init__(self, words: QtWidgets.QLabel, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "reminder")
        self._words = words

    def text(self) -> str:
        """What the reminder says."""
        return self._words.text()


class MessageView(QtWidgets.QWidget):
    """One turn: the user's question bubble or the assistant's answer bubble with its extras.

    Signals:
        copy_requested(), retry_requested(): the buttons under an answer.
        person_clicked(int): an avatar chip (concept id).
        action_requested(str): a notice's button ("get_chat_model", "choose_model", ...).
    """

    copy_requested = Signal()
    retry_requested = Signal()
    person_clicked = Signal(int)
    action_requested = Signal(str)

    def __init__(self, role: str, text: str = "", image: Path | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.role = role
        self.image_path = image
        self.photo = QtGui.QImage()
        self.photo_width = 0
        self.bubble = frame("bubble-user" if role == "user" else "bubble-assistant")
        self.bubble.setMaximumWidth(BUBBLE_MAX)
        self.column = QtWidgets.QVBoxLayout(self.bubble)
        self.column.setContentsMargins(16, 12, 16, 12)
        self.column.setSpacing(10)
        self.preview = QtWidgets.QLabel()
        self.preview.setAccessibleName("The photo you asked about")
        self.preview.hide()
        self.column.addWidget(self.preview)
        if image is not None:
            self._load_photo(image)
        self.chips_holder = QtWidgets.QWidget()
        self.chips = FlowLayout(self.chips_holder, 6)
        self.chips_holder.hide()
        self.column.addWidget(self.chips_holder)
        self.people: list[AvatarChip] = []
        self.notes = QtWidgets.QVBoxLayout()
        self.column.addLayout(self.notes)
        self.reminders = QtWidgets.QVBoxLayout()
        self.reminder_cards: list[ReminderCard] = []
        self.column.addLayout(self.reminders)
        self.body = QtWidgets.QLabel(text)
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.MarkdownText if role == "assistant" else Qt.TextFormat.PlainText)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                          | Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.body.setAccessibleName("Your question" if role == "user" else "Answer")
        self.body.setVisible(bool(text) or role == "assistant")
        if role == "user" and text:
            # A wrapped label gets the narrowest width its layout allows: a short question came out
            # one word per line. As wide as its longest line, up to the bubble's limit.
            widest = max(self.body.fontMetrics().horizontalAdvance(line) for line in text.splitlines() or [text])
            self.body.setMinimumWidth(min(widest + 4, BUBBLE_MAX - 32))
        self.column.addWidget(self.body)
        self.actions_row = QtWidgets.QHBoxLayout()     # an error's next step, as a button (add_action)
        self.column.addLayout(self.actions_row)
        self.typing = TypingDots()
        self.typing.hide()
        self.column.addWidget(self.typing)
        self._build_sources()
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(0, 4, 0, 4)
        row.setSpacing(10)
        if role == "user":
            row.addStretch(1)
            row.addWidget(self.bubble)
        else:
            self.avatar = QtWidgets.QLabel()
            self.avatar.setPixmap(icons.pixmap("assistant", 22, "accent", self.devicePixelRatioF() or 1.0))
            self.avatar.setFixedSize(30, 30)
            self.avatar.setAlignment(Qt.AlignmentFlag.AlignCenter)
            side = QtWidgets.QVBoxLayout()
            side.addWidget(self.avatar)
            side.addStretch(1)
            row.addLayout(side)
            holder = QtWidgets.QVBoxLayout()
            holder.setSpacing(2)
            holder.addWidget(self.bubble)
            self.answer_actions = QtWidgets.QWidget()
            actions = QtWidgets.QHBoxLayout(self.answer_actions)
            actions.setContentsMargins(6, 0, 0, 0)
            self.copy_button = tool("copy", "Copy the answer", lambda: emit(self.copy_requested), "muted", 16)
            self.retry_button = tool("retry", "Ask again", lambda: emit(self.retry_requested), "muted", 16)
            actions.addWidget(self.copy_button)
            actions.addWidget(self.retry_button)
            actions.addStretch(1)
            self.answer_actions.hide()
            holder.addWidget(self.answer_actions)
            row.addLayout(holder, 1)

    # ---- the question photo -----------------------------------------------------------

    def _load_photo(self, path: Path) -> None:
        self.photo = images.load_image(path, 640)
        self.photo_width = images.full_size(path).width()
        self._show_photo([])

    def _show_photo(self, faces: list[tuple[Any, str | None]]) -> None:
        if self.photo.isNull():
            return
        shaped = paint.photo_preview(self.photo, self.photo_width, faces, 300, self.devicePixelRatioF() or 1.0)
        self.preview.setPixmap(QtGui.QPixmap.fromImage(shaped))
        self.preview.show()

    def show_faces(self, faces: list[tuple[Any, str | None]]) -> None:
        """Outline each face on the question photo with its name (None: "Who is this?")."""
        self._show_photo(faces)

    def face_crop(self, box: Any) -> QtGui.QImage:
        return paint.face_crop(self.photo, self.photo_width, box)

    # ---- the answer -------------------------------------------------------------------

    def _build_sources(self) -> None:
        strip = QtWidgets.QWidget()
        self.sources = QtWidgets.QHBoxLayout(strip)
        self.sources.setContentsMargins(0, 0, 0, 0)
        self.sources.setSpacing(8)
        self.sources.addStretch(1)
        self.source_strip = QtWidgets.QScrollArea()
        self.source_strip.setObjectName("sources")
        self.source_strip.setWidget(strip)
        self.source_strip.setWidgetResizable(True)
        self.source_strip.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.source_strip.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.source_strip.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Fixed)
        self.sources_title = label("Sources", "caption")
        self.sources_title.hide()
        self.source_strip.hide()
        self.column.addWidget(self.sources_title)
        self.column.addWidget(self.source_strip)
        self.cards: list[SourceCard] = []

    def start_typing(self) -> None:
        self.body.hide()
        self.typing.start()

    def append(self, token: str) -> None:
        self.set_text(self.body.text() + token)

    def set_text(self, text: str) -> None:
        if text:
            self.typing.stop()
            self.body.show()
        self.body.setText(text)

    def finish(self) -> None:
        self.typing.stop()
        self.body.setVisible(bool(self.body.text()))
        if self.role == "assistant":
            self.answer_actions.show()

    def add_person(self, name: str, concept_id: int | None, face: QtGui.QImage | None) -> AvatarChip:
        chip = AvatarChip(name, face)
        chip.concept_id = concept_id
        if concept_id is not None:
            chip.clicked.connect(lambda cid=concept_id: emit(self.person_clicked, cid))
        self.chips.addWidget(chip)
        self.people.append(chip)
        self.chips_holder.show()
        return chip

    @property
    def recognized_names(self) -> list[str]:
        return [chip.name for chip in self.people]

    def add_reminder(self, text: str) -> ReminderCard:
        words = label(text, wrap=True)
        card = ReminderCard(words)
        card.setAccessibleName(f"Reminder: {text}")
        row = QtWidgets.QHBoxLayout(card)
        row.setContentsMargins(12, 10, 12, 10)
        bell = QtWidgets.QLabel()
        bell.setPixmap(icons.pixmap("reminder", 20, "warn_text", self.devicePixelRatioF() or 1.0))
        row.addWidget(bell, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(words, 1)
        self.reminders.addWidget(card)
        self.reminder_cards.append(card)
        return card

    def add_note(self, text: str, kind: str, action: str = "") -> QtWidgets.QFrame | None:
        """The caption ("I see: …") in small muted text, or a notice as a soft card with the
        window's own button for ``action`` (never a command to type: the command line has its own words)."""
        if kind == "caption":
            note = label(f"I see: {text}", "caption", wrap=True)
            note.setObjectName("caption")
            self.notes.addWidget(note)
            return None
        card = frame("notice")
        card.setObjectName(kind)
        row = QtWidgets.QHBoxLayout(card)
        row.setContentsMargins(12, 8, 12, 8)
        icon = QtWidgets.QLabel()
        icon.setPixmap(icons.pixmap("info", 18, "accent_text", self.devicePixelRatioF() or 1.0))
        row.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(label(text, wrap=True), 1)
        if action in ACTION_BUTTONS:
            words, icon_name = ACTION_BUTTONS[action]
            step = button(words, icon_name, "primary", lambda: emit(self.action_requested, action))
            step.setObjectName("notice-action")
            row.addWidget(step, 0, Qt.AlignmentFlag.AlignVCenter)
        self.notes.addWidget(card)
        return card

    def notices(self) -> list[QtWidgets.QFrame]:
        """The notice cards, in order."""
        return self.findChildren(QtWidgets.QFrame, "notice")

    def add_action(self, action: str) -> QtWidgets.QPushButton | None:
        """A button under the answer for ``action`` (an error's next step); None for an unknown action."""
        if action not in ACTION_BUTTONS:
            return None
        words, icon_name = ACTION_BUTTONS[action]
        widget = button(words, icon_name, "", lambda: emit(self.action_requested, action))
        self.actions_row.addWidget(widget)
        self.actions_row.addStretch(1)
        return widget

    def add_source(self, card: SourceCard) -> None:
        self.sources.insertWidget(self.sources.count() - 1, card)
        self.cards.append(card)
        self.fit_sources()
        self.sources_title.show()
        self.source_strip.show()

    def fit_sources(self) -> None:
        """The strip as tall as its tallest card (a card grows when its date turns out to be a guess)."""
        if self.cards:
            tallest = max(max(c.sizeHint().height(), c.heightForWidth(c.width()) if c.hasHeightForWidth() else 0)
                          for c in self.cards)
            self.source_strip.setFixedHeight(tallest + self.source_strip.horizontalScrollBar().sizeHint().height() + 4)

    def visible_text(self) -> str:
        """Everything this message shows in words (what a user reads; used to check no ids leak)."""
        return "\n".join(w.text() for w in self.findChildren(QtWidgets.QLabel)
                         if w.isVisibleTo(self) and w.text())
