"""Small building blocks of the design: labels by role, chips, avatars, empty states, a flow layout.

Each takes its look from the style sheet (a ``role`` property) or the theme
tokens, never from a colour of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from companion.ui import appearance, icons, paint, theme
from companion.ui.qt import Qt, QtCore, QtGui, QtWidgets, Signal, emit


def repolish(widget: QtWidgets.QWidget) -> None:
    """Make a changed ``role``/``kind`` property take effect."""
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def label(text: str = "", role: str = "body", *, wrap: bool = False, selectable: bool = False) -> QtWidgets.QLabel:
    """A QLabel with a type-scale or colour role (display, title, heading, caption, muted...)."""
    result = QtWidgets.QLabel(text)
    result.setProperty("role", role)
    result.setWordWrap(wrap)
    if selectable:
        result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return result


def button(text: str, icon_name: str | None = None, role: str = "", slot: Callable[[], object] | None = None,
           tip: str = "") -> QtWidgets.QPushButton:
    """A push button with an optional themed icon; ``role`` primary, danger, flat, chip or nav."""
    result = QtWidgets.QPushButton(text)
    if role:
        result.setProperty("role", role)
    if icon_name:
        icons.use(result, icon_name, "on_accent" if role == "primary" else "danger" if role == "danger" else "text")
    if slot is not None:
        result.clicked.connect(lambda _checked=False: slot())
    result.setAccessibleName(text.replace("&", "") or tip)
    if tip:
        result.setToolTip(tip)
    result.setCursor(Qt.CursorShape.PointingHandCursor)
    return result


def tool(icon_name: str, tip: str, slot: Callable[[], object] | None = None, role: str = "text",
         size: int = 18) -> QtWidgets.QToolButton:
    """An icon-only button; the tooltip doubles as its accessible name."""
    result = QtWidgets.QToolButton()
    icons.use(result, icon_name, role)
    result.setIconSize(QtCore.QSize(size, size))
    result.setToolTip(tip)
    result.setAccessibleName(tip)
    result.setCursor(Qt.CursorShape.PointingHandCursor)
    if slot is not None:
        result.clicked.connect(lambda _checked=False: slot())
    return result


def chip(text: str, icon_name: str | None = None, checkable: bool = True) -> QtWidgets.QPushButton:
    result = button(text, icon_name, "chip")
    result.setCheckable(checkable)
    return result


def badge(kind: str) -> QtWidgets.QLabel:
    """A memory-kind badge in plain words ("Fact", "Moment", "Habit", "About you")."""
    result = label(theme.KIND_LABELS.get(kind, kind.title()), "badge")
    result.setProperty("kind", kind)
    result.setAccessibleName(f"kind: {result.text()}")
    return result


def frame(role: str, parent: QtWidgets.QWidget | None = None) -> QtWidgets.QFrame:
    result = QtWidgets.QFrame(parent)
    result.setProperty("role", role)
    return result


class Avatar(QtWidgets.QLabel):
    """A round face (or initials) of a fixed size, redrawn sharp for the screen's pixel ratio."""

    def __init__(self, side: int, name: str = "", parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.side, self.name, self.image = side, name, QtGui.QImage()
        self.setFixedSize(side, side)
        self.setAccessibleName(f"{name} (face)" if name else "face")
        self._draw()

    def set_face(self, image: QtGui.QImage, name: str | None = None) -> None:
        self.image = image
        if name is not None:
            self.name = name
        self._draw()

    def _draw(self) -> None:
        ratio = self.devicePixelRatioF() or 1.0
        self.setPixmap(QtGui.QPixmap.fromImage(paint.avatar(self.image, self.side, self.name, ratio)))


class AvatarChip(QtWidgets.QFrame):
    """A recognised person as a chip: their face crop and name. Clicking it emits ``clicked``."""

    clicked = Signal()

    def __init__(self, name: str, image: QtGui.QImage | None = None, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "source")
        self.name = name
        self.concept_id: int | None = None   # whose chip, once known (the chat sets it)
        self.avatar = Avatar(26, name)
        if image is not None:
            self.avatar.set_face(image)
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(3, 3, 12, 3)
        row.setSpacing(theme.SPACE["s"])
        row.addWidget(self.avatar)
        row.addWidget(label(name, "body"))
        self.setAccessibleName(f"Recognised: {name}")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setStyleSheet("QFrame { border-radius: 16px; }")  # a pill; colours still come from the role

    def mouseReleaseEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802 - Qt override
        emit(self.clicked)
        super().mouseReleaseEvent(event)


class ClickableCard(QtWidgets.QFrame):
    """A card (``role`` card by default) that acts as a button: click or Enter/Space emits ``clicked``."""

    clicked = Signal()

    def __init__(self, accessible_name: str, role: str = "card", parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", role)
        self.setAccessibleName(accessible_name)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def mouseReleaseEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.button() == Qt.MouseButton.LeftButton:
            emit(self.clicked)
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            emit(self.clicked)
        else:
            super().keyPressEvent(event)


class EmptyState(QtWidgets.QWidget):
    """A large icon, a title, one sentence and the next step as buttons (what a new user should do)."""

    def __init__(self, icon_name: str, title: str, text: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.icon = QtWidgets.QLabel()
        self.icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._icon_name = icon_name
        self.title = label(title, "title")
        self.text = label(text, "muted", wrap=True)
        for item in (self.title, self.text):
            item.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text.setFixedWidth(460)
        # A centred, wrapped label gets one line's height from its layout: give it what its words need.
        self.text.setMinimumHeight(self.text.heightForWidth(460))
        self.buttons = QtWidgets.QHBoxLayout()
        self.buttons.setSpacing(theme.SPACE["s"])
        self.buttons.addStretch(1)
        self.buttons.addStretch(1)
        self.column = column = QtWidgets.QVBoxLayout(self)   # callers may insert rows above the buttons
        column.addStretch(1)
        column.addWidget(self.icon)
        column.addSpacing(theme.SPACE["s"])
        column.addWidget(self.title)
        column.addWidget(self.text, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addSpacing(theme.SPACE["m"])
        column.addLayout(self.buttons)
        column.addStretch(1)
        self.retint()
        manager = appearance.manager()
        if manager is not None:
            manager.changed.connect(self.retint)   # a method: disconnected when this widget goes

    def retint(self, _tokens: object = None) -> None:
        self.icon.setPixmap(icons.pixmap(self._icon_name, 52, "muted", self.devicePixelRatioF() or 1.0))

    def add_button(self, widget: QtWidgets.QPushButton) -> QtWidgets.QPushButton:
        self.buttons.insertWidget(self.buttons.count() - 1, widget)
        return widget


class FlowLayout(QtWidgets.QLayout):
    """Lays children out left to right, wrapping to new lines (Qt's Flow Layout example)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None, spacing: int = 8) -> None:
        super().__init__(parent)
        self._items: list[QtWidgets.QLayoutItem] = []
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QtWidgets.QLayoutItem) -> None:  # noqa: N802 - Qt override
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QtWidgets.QLayoutItem | None:  # noqa: N802 - Qt override
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QtWidgets.QLayoutItem | None:  # noqa: N802 - Qt override
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 - Qt override
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt override
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt override
        return self._place(QtCore.QRect(0, 0, width, 0), apply=False)

    def setGeometry(self, rect: QtCore.QRect) -> None:  # noqa: N802 - Qt override
        super().setGeometry(rect)
        self._place(rect, apply=True)

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 - Qt override
        return self.minimumSize()

    def minimumSize(self) -> QtCore.QSize:  # noqa: N802 - Qt override
        size = QtCore.QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        return size

    def clear(self) -> None:
        while self._items:
            widget = self._items.pop().widget()
            if widget is not None:
                widget.deleteLater()

    def _place(self, rect: QtCore.QRect, apply: bool) -> int:
        x, y, line = rect.x(), rect.y(), 0
        for item in self._items:
            widget = item.widget()
            if widget is not None and widget.isHidden():
                continue
            hint = item.sizeHint()
            if x + hint.width() > rect.right() + 1 and line > 0:
                x, y, line = rect.x(), y + line + self._spacing, 0
            if apply:
                item.setGeometry(QtCore.QRect(QtCore.QPoint(x, y), hint))
            x += hint.width() + self._spacing
            line = max(line, hint.height())
        return y + line - rect.y()


def human_count(n: int) -> str:
    """3412 -> "3,412"."""
    return f"{n:,}"


def human_date(when: object, with_weekday: bool = False) -> str:
    """A date as people write it: "23 May 2024" (or "Thu 23 May 2024")."""
    if not isinstance(when, date):   # datetime is a date too
        return str(when or "")[:10]
    text = f"{when.day} {when.strftime('%B %Y')}"
    return f"{when.strftime('%a')} {text}" if with_weekday else text


def clear_layout(layout: QtWidgets.QLayout) -> None:
    """Empty ``layout``: its widgets are deleted, its nested layouts emptied the same way."""
    while layout.count():
        item = layout.takeAt(0)
        if item is None:
            break
        widget, inner = item.widget(), item.layout()
        if widget is not None:
            widget.deleteLater()
        elif inner is not None:
            clear_layout(inner)


def date_place(when: object, place: str) -> str:
    """"23 May 2024 · Lisbon" — the city only, which is what people say."""
    city = (place or "").split(",")[0].strip()
    return " · ".join(p for p in (human_date(when), city) if p)
