"""The People grid: round faces with names, "Who is this?" groups first, named inline; drag one onto another to merge.

One ``QListView`` over a ``QStandardItemModel``: section headers span the
width, tiles are painted by :class:`PeopleDelegate`. Clicking a face opens it,
clicking "Who is this?" edits the name in place (with the names already
known offered as you type), Ctrl/Cmd-click selects several for merging, and
dragging a group onto another group or a person merges them.

A group named in place keeps its tile where it is ("Named Angelina · Undo")
until the page is left: were the grid to reflow at once, the next group would
slide under the pointer and a quick second click would name the wrong person.
"""

from __future__ import annotations

from typing import Any

from companion.ui import paint, theme
from companion.ui.qt import ModelIndex, Qt, QtCore, QtGui, QtWidgets, Signal, emit

KIND = QtCore.Qt.ItemDataRole.UserRole        # "header" | "group" | "person" | "named" (a group named in place)
IDENT = KIND + 1                              # cluster id or concept id ("named": the group's id when named)
SUBTITLE = KIND + 2                           # "3 photos", "Pet", a header's hint
FACE = KIND + 3                               # QImage of the face (null: initials)
NAMING = KIND + 4                             # "named": the app's Naming once saved (None while saving)
AVATAR, TILE_W, TILE_H, HEADER_H = 108, 140, 172, 62


def header_item(title: str, hint: str) -> QtGui.QStandardItem:
    item = QtGui.QStandardItem(title)
    item.setData("header", KIND)
    item.setData(hint, SUBTITLE)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled)
    item.setAccessibleText(title)
    return item


def tile_item(kind: str, ident: int, name: str, subtitle: str) -> QtGui.QStandardItem:
    item = QtGui.QStandardItem(name)
    item.setData(kind, KIND)
    item.setData(ident, IDENT)
    item.setData(subtitle, SUBTITLE)
    item.setData(QtGui.QImage(), FACE)
    flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDropEnabled
    if kind == "group":
        flags |= Qt.ItemFlag.ItemIsEditable | Qt.ItemFlag.ItemIsDragEnabled
    item.setFlags(flags)
    item.setAccessibleText(f"{name or 'Who is this?'}, {subtitle}")
    item.setToolTip("Click the name to say who this is; drag onto another face to merge" if kind == "group"
                    else f"Open {name}")
    return item


class PeopleDelegate(QtWidgets.QStyledItemDelegate):
    """Paints headers and round-face tiles; edits a group's name in place."""

    def __init__(self, view: "PeopleGrid") -> None:
        super().__init__(view)
        self.view = view
        self.names: list[str] = []

    def sizeHint(self, option: QtWidgets.QStyleOptionViewItem, index: ModelIndex) -> QtCore.QSize:  # noqa: N802
        if index.data(KIND) == "header":
            return QtCore.QSize(max(200, self.view.viewport().width() - 8), HEADER_H)
        return QtCore.QSize(TILE_W, TILE_H)

    @staticmethod
    def name_rect(rect: QtCore.QRect) -> QtCore.QRect:
        return QtCore.QRect(rect.left() + 6, rect.top() + AVATAR + 14, rect.width() - 12, 26)

    def paint(self, painter: QtGui.QPainter, option: QtWidgets.QStyleOptionViewItem,
              index: ModelIndex) -> None:
        tokens, rect, kind = theme.current(), option.rect, index.data(KIND)
        painter.save()
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        if kind == "header":
            painter.setFont(theme.font("heading"))
            painter.setPen(tokens.color("text"))
            bottom_left = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom)
            painter.drawText(rect.adjusted(4, 8, 0, -24), bottom_left,
                             index.data(Qt.ItemDataRole.DisplayRole))
            painter.setFont(theme.font("caption"))
            painter.setPen(tokens.color("muted"))
            painter.drawText(rect.adjusted(4, 38, 0, 0), int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop),
                             index.data(SUBTITLE))
            painter.restore()
            return
        ratio = self.view.devicePixelRatioF() or 1.0
        name = index.data(Qt.ItemDataRole.DisplayRole) or ""
        circle = QtCore.QRect(rect.left() + (rect.width() - AVATAR) // 2, rect.top() + 6, AVATAR, AVATAR)
        painter.drawImage(circle, paint.avatar(index.data(FACE), AVATAR, name, ratio))
        selected = bool(option.state & QtWidgets.QStyle.StateFlag.State_Selected)
        hovered = bool(option.state & QtWidgets.QStyle.StateFlag.State_MouseOver)
        if selected or hovered:
            painter.setPen(QtGui.QPen(tokens.color("accent" if selected else "border"), 3))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(QtCore.QRectF(circle).adjusted(-3, -3, 3, 3))
        if selected:
            badge = QtCore.QRectF(circle.right() - 24, circle.top() + 2, 24, 24)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(tokens.color("accent"))
            painter.drawEllipse(badge)
            painter.setPen(QtGui.QPen(tokens.color("on_accent"), 2.5))
            painter.drawPolyline([badge.center() + QtCore.QPointF(-6, 0), badge.center() + QtCore.QPointF(-1.5, 4.5),
                                  badge.center() + QtCore.QPointF(6, -4)])
        text_rect = self.name_rect(rect)
        font = theme.font("body", bold=True)
        painter.setFont(font)
        if kind == "named":
            self._paint_named(painter, text_rect, name, index.data(NAMING) is not None)
            painter.restore()
            return
        if kind == "group":
            painter.setPen(tokens.color("accent"))
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter, "Who is this?")
        else:
            painter.setPen(tokens.color("text"))
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter,
                             QtGui.QFontMetrics(font).elidedText(name, Qt.TextElideMode.ElideRight, text_rect.width()))
        painter.setFont(theme.font("caption"))
        painter.setPen(tokens.color("muted"))
        painter.drawText(text_rect.translated(0, 20), Qt.AlignmentFlag.AlignCenter, index.data(SUBTITLE) or "")
        painter.restore()

    @staticmethod
    def undo_rect(rect: QtCore.QRect) -> QtCore.QRect:
        """Where a tile named in place shows "Undo" (under the name)."""
        return PeopleDelegate.name_rect(rect).translated(0, 20).adjusted(30, 0, -30, 0)

    def _paint_named(self, painter: QtGui.QPainter, text_rect: QtCore.QRect, name: str, saved: bool) -> None:
        """ "Named Angelina" and, once it is saved, "Undo" under it, in place of "Who is this?"."""
        tokens = theme.current()
        font = theme.font("body", bold=True)
        painter.setFont(font)
        painter.setPen(tokens.color("text"))
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter, QtGui.QFontMetrics(font).elidedText(
            f"Named {name}", Qt.TextElideMode.ElideRight, text_rect.width()))
        caption = theme.font("caption")
        caption.setUnderline(saved)
        painter.setFont(caption)
        painter.setPen(tokens.color("accent" if saved else "muted"))
        painter.drawText(text_rect.translated(0, 20), Qt.AlignmentFlag.AlignCenter, "Undo" if saved else "Saving…")

    # ---- inline naming ----------------------------------------------------------------

    # Qt takes a null editor as "not editable" (headers, named people); PySide's stub says QWidget.
    def createEditor(self, parent: QtWidgets.QWidget,  # type: ignore[override]  # noqa: N802
                     _option: QtWidgets.QStyleOptionViewItem, index: ModelIndex) -> QtWidgets.QWidget | None:
        if index.data(KIND) != "group":
            return None
        editor = QtWidgets.QLineEdit(parent)
        editor.setProperty("role", "inline")
        editor.setPlaceholderText("Who is this?")
        editor.setAccessibleName("Name for this face group")
        editor.setAlignment(Qt.AlignmentFlag.AlignCenter)
        completer = QtWidgets.QCompleter(self.names, editor)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        editor.setCompleter(completer)
        return editor

    def setEditorData(self, editor: QtWidgets.QWidget, _index: ModelIndex) -> None:  # noqa: N802
        # Qt calls this again whenever the tile's data changes (its face crop arriving): only the
        # first call may clear the field, or it wipes what the user is typing.
        if isinstance(editor, QtWidgets.QLineEdit) and not editor.property("started"):
            editor.setProperty("started", True)
            editor.setText("")

    def updateEditorGeometry(self, editor: QtWidgets.QWidget, option: QtWidgets.QStyleOptionViewItem,  # noqa: N802
                             _index: ModelIndex) -> None:
        editor.setGeometry(self.name_rect(option.rect).adjusted(-2, -2, 2, 4))

    def setModelData(self, editor: QtWidgets.QWidget, _model: QtCore.QAbstractItemModel,  # noqa: N802
                     index: ModelIndex) -> None:
        name = " ".join(editor.text().split()) if isinstance(editor, QtWidgets.QLineEdit) else ""
        if name:
            emit(self.view.named, int(index.data(IDENT)), name)


class PeopleGrid(QtWidgets.QListView):
    """The grid view.

    Signals:
        named(int, str): a face group was given a name inline (cluster id, name).
        undo(int): "Undo" under a group named in place (the group's id when it was named).
        open_person(int): a named card was opened (concept id).
        open_group(int): an unnamed group was opened (cluster id).
        merge_requested(list, str, int): groups (cluster ids) dropped on a "group" or "person" (its id).
        selection_changed(): which tiles are selected changed.
    """

    named = Signal(int, str)
    undo = Signal(int)
    open_person = Signal(int)
    open_group = Signal(int)
    merge_requested = Signal(list, str, int)
    selection_changed = Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "bare")
        self.model_ = QtGui.QStandardItemModel(self)
        self.setModel(self.model_)
        self.delegate = PeopleDelegate(self)
        self.setItemDelegate(self.delegate)
        self.setViewMode(QtWidgets.QListView.ViewMode.ListMode)
        self.setFlow(QtWidgets.QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QtWidgets.QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(False)
        self.setSpacing(6)
        self.setMouseTracking(True)
        self.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.EditKeyPressed)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QtWidgets.QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setVerticalScrollMode(QtWidgets.QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setAccessibleName("People and face groups")
        self.selectionModel().selectionChanged.connect(lambda *_a: emit(self.selection_changed))

    def items(self) -> dict[tuple[str, int], QtGui.QStandardItem]:
        out = {}
        for row in range(self.model_.rowCount()):
            item = self.model_.item(row)
            if item.data(KIND) != "header":
                out[(item.data(KIND), int(item.data(IDENT)))] = item
        return out

    def index_of(self, kind: str, ident: int) -> QtCore.QModelIndex:
        item = self.items().get((kind, ident))
        return item.index() if item is not None else QtCore.QModelIndex()

    def mark_named(self, cluster_id: int, name: str) -> bool:
        """Show the group's tile as named, where it is ("Named Angelina", then "Undo" once saved)."""
        item = self.items().get(("group", cluster_id))
        if item is None:
            return False
        item.setData("named", KIND)
        item.setData(None, NAMING)
        item.setText(name)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
        item.setAccessibleText(f"Named {name} · Undo")
        item.setToolTip(f"Open {name}; Undo puts the faces back to be named")
        return True

    def set_naming(self, cluster_id: int, naming: object) -> None:
        """The naming of a tile named in place was saved: its Undo works now."""
        item = self.items().get(("named", cluster_id))
        if item is not None:
            item.setData(naming, NAMING)

    def mark_waiting(self, cluster_id: int, now_id: int) -> None:
        """Put a tile named in place back to "Who is this?" (a failed save, or Undo: the group's id now)."""
        item = self.items().get(("named", cluster_id))
        if item is None:
            return
        fresh = tile_item("group", now_id, "", str(item.data(SUBTITLE) or ""))
        item.setData("group", KIND)
        item.setData(now_id, IDENT)
        item.setData(None, NAMING)
        item.setText("")
        item.setFlags(fresh.flags())
        item.setAccessibleText(fresh.accessibleText())
        item.setToolTip(fresh.toolTip())

    def named_in_place(self) -> bool:
        """Whether a tile was named in place since the grid was filled (the grid is stale until refilled)."""
        return any(kind == "named" for kind, _ident in self.items())

    def selected(self) -> list[tuple[str, int]]:
        return [(i.data(KIND), int(i.data(IDENT))) for i in self.selectionModel().selectedIndexes()
                if i.data(KIND) != "header"]

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self.scheduleDelayedItemsLayout()   # headers span the new width

    def mouseReleaseEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802 - Qt override
        index = self.indexAt(event.position().toPoint())
        plain = event.modifiers() == Qt.KeyboardModifier.NoModifier and event.button() == Qt.MouseButton.LeftButton
        super().mouseReleaseEvent(event)
        if not plain or not index.isValid() or self.state() == QtWidgets.QAbstractItemView.State.EditingState:
            return
        kind = index.data(KIND)
        if kind == "named":
            naming = index.data(NAMING)
            if naming is not None and PeopleDelegate.undo_rect(self.visualRect(index)).contains(
                    event.position().toPoint()):
                emit(self.undo, int(index.data(IDENT)))
            elif naming is not None:
                emit(self.open_person, naming.concept.id)
        elif kind == "group" and PeopleDelegate.name_rect(self.visualRect(index)).contains(event.position().toPoint()):
            self.edit(index)
        elif kind == "group":
            emit(self.open_group, int(index.data(IDENT)))
        elif kind == "person":
            emit(self.open_person, int(index.data(IDENT)))

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:  # noqa: N802 - Qt override
        index = self.currentIndex()
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and index.isValid() and \
                self.state() != QtWidgets.QAbstractItemView.State.EditingState:
            kind = index.data(KIND)
            if kind == "group":
                self.edit(index)
            elif kind == "person":
                emit(self.open_person, int(index.data(IDENT)))
            elif kind == "named" and index.data(NAMING) is not None:
                emit(self.open_person, index.data(NAMING).concept.id)
            return
        super().keyPressEvent(event)

    # ---- drag a group onto another face to merge ----------------------------------------

    def dragMoveEvent(self, event: QtGui.QDragMoveEvent) -> None:  # noqa: N802 - Qt override
        target = self.indexAt(event.position().toPoint())
        dragged = [i for k, i in self.selected() if k == "group"]
        ok = target.isValid() and target.data(KIND) in ("group", "person") and \
            not (target.data(KIND) == "group" and int(target.data(IDENT)) in dragged) and bool(dragged)
        event.setDropAction(Qt.DropAction.MoveAction)
        event.accept() if ok else event.ignore()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:  # noqa: N802 - Qt override
        target = self.indexAt(event.position().toPoint())
        dragged = [i for k, i in self.selected() if k == "group"]
        event.setDropAction(Qt.DropAction.IgnoreAction)   # the model never moves rows: the store decides
        event.accept()
        if target.isValid() and dragged and target.data(KIND) in ("group", "person"):
            emit(self.merge_requested, dragged, str(target.data(KIND)), int(target.data(IDENT)))

    def startDrag(self, actions: Qt.DropAction) -> None:  # noqa: N802 - Qt override
        if any(k == "group" for k, _i in self.selected()):
            super().startDrag(actions)


def fill(grid: PeopleGrid, groups: list[Any], cards: list[Any], more_groups: int) -> None:
    """Put the sections in the grid: waiting groups first, then people, pets and things."""
    model = grid.model_
    model.clear()
    if groups:
        hint = "Name a face and Companion will recognise them in new photos. Drag one onto another to merge."
        if more_groups:
            hint += f" ({more_groups} more groups after these.)"
        model.appendRow(header_item("Who is this?", hint))
        for group in groups:
            photos = f"{group.size} photo{'s' if group.size != 1 else ''}"
            model.appendRow(tile_item("group", group.cluster_id, "", photos))
    sections = (("person", "People", "Click someone to see their photos, memories and reminders."),
                ("pet", "Pets", "Animals you've told me about."),
                ("object", "Things", "Objects and places with a card."),
                ("place", "Places", "Places with a card."))
    for category, title, hint in sections:
        chosen = [c for c in cards if c.concept.category == category]
        if chosen:
            model.appendRow(header_item(title, hint))
            for card in chosen:
                subtitle = card.concept.info.split(",")[0][:24] if card.concept.info else category.title()
                model.appendRow(tile_item("person", card.concept.id, card.concept.name, subtitle))
