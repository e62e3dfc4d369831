"""People: "Is this Matt?": faces close to someone you named, but not clearly theirs, one at a time.

A strip above the People grid (a ``notice`` card, as design.md's notices are): the face, the
question, **Yes** / **No** / **Later**. Yes makes the face that person's (a sighting and a key),
No means it is never asked again for that person, Later moves to the next question. Nothing
becomes a sighting until the user says yes (``app.people.accept_suggestion``); the view runs the
answers on workers and reloads.
"""

from __future__ import annotations

from typing import Any

from companion.ui import theme
from companion.ui.qt import QtGui, QtWidgets, Signal, emit
from companion.ui.widgets import Avatar, button, label

FACE_PX = 64


class SuggestionsBar(QtWidgets.QFrame):
    """Shows open suggestions one at a time.

    Signals:
        accepted(int, int): (face id, concept id): "Yes, this is them".
        rejected(int, int): (face id, concept id): "No".
    """

    accepted = Signal(int, int)
    rejected = Signal(int, int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "notice")
        self.items: list[tuple[Any, QtGui.QImage]] = []     # (app.people.Suggestion, face crop)
        self.index = 0
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(12, 8, 12, 8)
        row.setSpacing(theme.SPACE["m"])
        self.face = Avatar(FACE_PX)
        row.addWidget(self.face)
        text = QtWidgets.QVBoxLayout()
        text.setSpacing(2)
        self.question = label("", "heading")
        self.hint = label("", "caption")
        text.addWidget(self.question)
        text.addWidget(self.hint)
        row.addLayout(text, 1)
        self.yes = button("Yes", None, "primary", self._accept)
        self.no = button("No", None, "", self._reject)
        self.later = button("Later", None, "flat", self._next)
        for widget in (self.yes, self.no, self.later):
            row.addWidget(widget)
        self.setAccessibleName("Is this someone you know?")
        self.hide()

    def show_suggestions(self, items: list[tuple[Any, QtGui.QImage]]) -> None:
        self.items, self.index = list(items), 0
        self._show_current()

    def current(self) -> Any | None:
        return self.items[self.index][0] if 0 <= self.index < len(self.items) else None

    def _show_current(self) -> None:
        suggestion = self.current()
        if suggestion is None:
            self.hide()
            return
        image = self.items[self.index][1]
        self.face.set_face(image, suggestion.concept.name)
        self.question.setText(f"Is this {suggestion.concept.name}?")
        left = len(self.items) - self.index - 1
        self.hint.setText(f"This face looks like {suggestion.concept.name}, but not enough to be sure without you."
                          + (f" {left} more to check." if left else ""))
        self.yes.setAccessibleName(f"Yes, this is {suggestion.concept.name}")
        self.no.setAccessibleName(f"No, this is not {suggestion.concept.name}")
        self.show()

    def _accept(self) -> None:
        suggestion = self.current()
        if suggestion is not None:
            emit(self.accepted, suggestion.face_id, suggestion.concept.id)
            self._next()

    def _reject(self) -> None:
        suggestion = self.current()
        if suggestion is not None:
            emit(self.rejected, suggestion.face_id, suggestion.concept.id)
            self._next()

    def _next(self) -> None:
        self.index += 1
        self._show_current()
