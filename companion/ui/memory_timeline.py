"""The memories timeline: day headers and one card per memory with its kind badge, painted by a delegate.

A ``QListView`` over a ``QStandardItemModel`` keeps thousands of memories cheap:
nothing is a widget, the delegate paints the visible rows.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from companion.app import memories
from companion.ui import theme
from companion.ui.qt import ModelIndex, Qt, QtCore, QtGui, QtWidgets
from companion.ui.widgets import human_date

ITEM = QtCore.Qt.ItemDataRole.UserRole          # the MemoryItem, or None for a day header
DAY = QtCore.Qt.ItemDataRole.UserRole + 1       # the header text
PAD, BADGE_H = 14, 22


def day_label(when: datetime | None, today: date | None = None) -> str:
    """"Today", "Yesterday", or "Saturday 1 June 2024"."""
    if when is None:
        return "Undated"
    today = today or date.today()
    day = when.date()
    if day == today:
        return "Today"
    if (today - day).days == 1:
        return "Yesterday"
    return human_date(when, with_weekday=True).replace(when.strftime("%a"), when.strftime("%A"), 1)


def build_model(items: list[Any], model: QtGui.QStandardItemModel) -> None:
    """Fill ``model`` with a header per day and a row per memory (items newest first)."""
    model.clear()
    last = None
    for item in items:
        label = day_label(item.memory.time)
        if label != last:
            header = QtGui.QStandardItem(label)
            header.setData(None, ITEM)
            header.setData(label, DAY)
            header.setFlags(Qt.ItemFlag.ItemIsEnabled)
            header.setAccessibleText(label)
            model.appendRow(header)
            last = label
        row = QtGui.QStandardItem(item.memory.content)
        row.setData(item, ITEM)
        row.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
        row.setAccessibleText(f"{theme.KIND_LABELS.get(item.memory.kind, item.memory.kind)}: {item.memory.content}")
        model.appendRow(row)


def meta_line(item: Any) -> str:
    parts = []
    if item.memory.time is not None:
        parts.append(item.memory.time.strftime("%H:%M"))
    if item.place:
        parts.append(item.place)
    if item.people:
        parts.append(", ".join(item.people))
    if item.memory.origin:
        parts.append(memories.imported_from(item.memory))
    return " · ".join(parts)


class MemoryDelegate(QtWidgets.QStyledItemDelegate):
    """Paints a day header, or a rounded card: badge, the memory, and "time · place · people"."""

    def _width(self, option: QtWidgets.QStyleOptionViewItem) -> int:
        return max(200, option.rect.width() - 2 * PAD)

    def sizeHint(self, option: QtWidgets.QStyleOptionViewItem, index: ModelIndex) -> QtCore.QSize:  # noqa: N802
        item = index.data(ITEM)
        width = option.rect.width() or 600
        if item is None:
            return QtCore.QSize(width, 44)
        metrics = QtGui.QFontMetrics(theme.font("body"))
        text = metrics.boundingRect(QtCore.QRect(0, 0, max(200, width - 2 * PAD) - 2 * PAD, 10_000),
                                    int(Qt.TextFlag.TextWordWrap), item.memory.content)
        return QtCore.QSize(width, PAD + BADGE_H + 8 + text.height() + 8 + metrics.height() + PAD + 8)

    def paint(self, painter: QtGui.QPainter, option: QtWidgets.QStyleOptionViewItem,
              index: ModelIndex) -> None:
        tokens = theme.current()
        item = index.data(ITEM)
        rect = option.rect
        painter.save()
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        if item is None:
            painter.setFont(theme.font("heading"))
            painter.setPen(tokens.color("text"))
            painter.drawText(rect.adjusted(PAD, 12, -PAD, 0), int(Qt.AlignmentFlag.AlignLeft
                                                                | Qt.AlignmentFlag.AlignVCenter), index.data(DAY))
            painter.restore()
            return
        card = QtCore.QRectF(rect.adjusted(PAD, 4, -PAD, -4))
        selected = bool(option.state & QtWidgets.QStyle.StateFlag.State_Selected)
        painter.setPen(QtGui.QPen(tokens.color("accent" if selected else "border"), 2 if selected else 1))
        painter.setBrush(tokens.color("surface"))
        painter.drawRoundedRect(card.adjusted(0.5, 0.5, -0.5, -0.5), 10, 10)
        background, foreground = tokens.kind(item.memory.kind)
        badge_font = theme.font("caption", bold=True)
        painter.setFont(badge_font)
        text = theme.KIND_LABELS.get(item.memory.kind, item.memory.kind.title())
        badge = QtCore.QRectF(card.left() + PAD, card.top() + PAD - 4,
                              QtGui.QFontMetrics(badge_font).horizontalAdvance(text) + 16, BADGE_H)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QtGui.QColor(background))
        painter.drawRoundedRect(badge, 6, 6)
        painter.setPen(QtGui.QColor(foreground))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
        body_font = theme.font("body")
        painter.setFont(body_font)
        painter.setPen(tokens.color("text"))
        body = QtCore.QRectF(card.left() + PAD, badge.bottom() + 8, card.width() - 2 * PAD, 10_000)
        bounds = painter.boundingRect(body, int(Qt.TextFlag.TextWordWrap), item.memory.content)
        painter.drawText(body, int(Qt.TextFlag.TextWordWrap), item.memory.content)
        painter.setFont(theme.font("caption"))
        painter.setPen(tokens.color("muted"))
        painter.drawText(QtCore.QRectF(card.left() + PAD, bounds.bottom() + 8, card.width() - 2 * PAD, 24),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop), meta_line(item))
        painter.restore()


class Timeline(QtWidgets.QListView):
    """The list; re-measures its rows when its width changes (wrapped text changes height)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "bare")
        self.model_ = QtGui.QStandardItemModel(self)
        self.setModel(self.model_)
        self.setItemDelegate(MemoryDelegate(self))
        self.setVerticalScrollMode(QtWidgets.QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.setUniformItemSizes(False)
        self.setResizeMode(QtWidgets.QListView.ResizeMode.Adjust)
        self.setWordWrap(True)
        self.setAccessibleName("Memories, newest first")
        self.setSpacing(0)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self.scheduleDelayedItemsLayout()   # wrapped text: heights depend on the width
