"""A person's page (their card, reminders, memories and photos by month) and a face group's page.

Both are filled from worker results; the actions (edit, forget, name, split,
remove a face) are signals that ``PeopleView`` runs on workers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from companion.ui import theme
from companion.ui.photo_grid import PhotoGrid
from companion.ui.qt import Qt, QtCore, QtGui, QtWidgets, Signal, emit
from companion.ui.widgets import Avatar, ClickableCard, badge, button, clear_layout, date_place, frame, label, tool
from companion.ui.workers import WorkerPool

FACE_ID = QtCore.Qt.ItemDataRole.UserRole


class PersonPage(QtWidgets.QWidget):
    """One person, pet or thing.

    Signals:
        back(), edit(), forget(), ask(str): the buttons; ``ask`` carries a question to start the chat with.
        open_photo(int), open_memory(int): a photo or memory was chosen.
        confirm_reminder(int): the user confirmed a reminder learnt from an import (``app.reminders``).
    """

    back = Signal()
    edit = Signal()
    forget = Signal()
    ask = Signal(str)
    open_photo = Signal(int)
    open_memory = Signal(int)
    confirm_reminder = Signal(int)

    def __init__(self, workers: WorkerPool, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.page: Any = None
        self.avatar = Avatar(88)
        self.name = label("", "title")
        self.about = label("", "muted", wrap=True)
        self.facts = label("", "caption", wrap=True)
        self.back_button = tool("back", "Back to everyone", lambda: emit(self.back))
        self.ask_button = button("Ask about them", "ask", "primary", lambda: emit(
            self.ask, f"Where did I last see {self.page.card.concept.name}?" if self.page else ""))
        self.edit_button = button("Edit card…", "edit", slot=lambda: emit(self.edit))
        self.forget_button = button("Forget…", "forget", "danger", lambda: emit(self.forget))
        info = QtWidgets.QVBoxLayout()
        info.addWidget(self.name)
        info.addWidget(self.about)
        info.addWidget(self.facts)
        actions = QtWidgets.QHBoxLayout()
        for widget in (self.ask_button, self.edit_button, self.forget_button):
            actions.addWidget(widget)
        actions.addStretch(1)
        info.addLayout(actions)
        head = QtWidgets.QHBoxLayout()
        head.addWidget(self.back_button, 0, Qt.AlignmentFlag.AlignTop)
        head.addWidget(self.avatar, 0, Qt.AlignmentFlag.AlignTop)
        head.addSpacing(theme.SPACE["l"])
        head.addLayout(info, 1)
        self.side = QtWidgets.QVBoxLayout()
        self.side.setSpacing(8)
        side_holder = QtWidgets.QWidget()
        side_holder.setObjectName("column")
        side_holder.setLayout(self.side)
        side_scroll = QtWidgets.QScrollArea()
        side_scroll.setWidgetResizable(True)
        side_scroll.setWidget(side_holder)
        side_scroll.setFixedWidth(360)
        self.photos = PhotoGrid(workers)
        self.photos.empty_text = "No photos of them yet."
        self.photos.activated.connect(lambda pid: emit(self.open_photo, pid))
        body = QtWidgets.QHBoxLayout()
        body.addWidget(side_scroll)
        right = QtWidgets.QVBoxLayout()
        self.photos_title = label("Photos", "heading")
        right.addWidget(self.photos_title)
        right.addWidget(self.photos, 1)
        body.addLayout(right, 1)
        column = QtWidgets.QVBoxLayout(self)
        column.setContentsMargins(20, 16, 0, 0)
        column.addLayout(head)
        column.addSpacing(theme.SPACE["m"])
        column.addLayout(body, 1)

    def show_page(self, page: Any, face: QtGui.QImage) -> None:
        self.page = page
        concept = page.card.concept
        self.avatar.set_face(face, concept.name)
        self.name.setText(concept.name)
        self.about.setText(concept.info or "No description yet: add one so answers can mention it.")
        noun = {"person": "Person", "pet": "Pet", "object": "Thing", "place": "Place"}.get(concept.category, "")
        seen = f"{len(page.photos)} photo{'s' if len(page.photos) != 1 else ''}"
        if page.photos and page.photos[0].taken_at:
            latest = page.photos[0]
            seen += f" · last seen {date_place(latest.taken_at, latest.place.label() if latest.place else '')}"
        self.facts.setText(f"{noun} · {seen}")
        self.photos.set_photos(page.photos)
        self.photos_title.setText(f"Photos of {concept.name}" if page.photos else "Photos")
        clear_layout(self.side)
        self.side.addWidget(label("Reminders", "heading"))
        if not page.reminders:
            self.side.addWidget(label(f"Say “if {concept.name} shows up again, remind me to …” in the chat.",
                                      "caption", wrap=True))
        for trigger in page.reminders:
            card = frame("reminder")
            row = QtWidgets.QVBoxLayout(card)
            row.addWidget(label(trigger.instruction, wrap=True))
            if trigger.pending:       # learnt from an imported conversation: fires only once confirmed
                row.addWidget(label("from an imported conversation · waiting for your confirmation", "caption",
                                    wrap=True))
                row.addWidget(button("Confirm reminder", "check", slot=self._confirmer(trigger.id)))
            else:
                status = "active" if trigger.active else "done"
                row.addWidget(label(f"{status} · fired {trigger.fired_count}×", "caption"))
            self.side.addWidget(card)
        self.side.addSpacing(theme.SPACE["m"])
        self.side.addWidget(label("Memories", "heading"))
        if not page.memories:
            self.side.addWidget(label("Nothing remembered about them yet.", "caption", wrap=True))
        for memory in page.memories[:40]:
            self.side.addWidget(self._memory_card(memory))
        self.side.addStretch(1)

    def _confirmer(self, reminder_id: int) -> Callable[[], None]:
        return lambda: emit(self.confirm_reminder, reminder_id)

    def _memory_card(self, memory: Any) -> QtWidgets.QWidget:
        card = ClickableCard(f"Memory: {memory.content}", "source")
        box = QtWidgets.QVBoxLayout(card)
        box.setContentsMargins(12, 10, 12, 10)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(badge(memory.kind))
        top.addStretch(1)
        top.addWidget(label(date_place(memory.time, memory.place), "caption"))
        box.addLayout(top)
        box.addWidget(label(memory.content, wrap=True))
        card.clicked.connect(lambda mid=memory.id: emit(self.open_memory, mid))
        return card


class GroupPage(QtWidgets.QWidget):
    """The faces of one unnamed group: say who it is, move wrong faces out, or remove them.

    Signals:
        back(), name(str), split(list), remove(list): the actions (face ids for split and remove).
    """

    back = Signal()
    name = Signal(str)
    split = Signal(list)
    remove = Signal(list)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.cluster_id: int | None = None
        self.title = label("Who is this?", "title")
        self.name_edit = QtWidgets.QLineEdit(placeholderText="Type a name — new or someone you know")
        self.name_edit.setAccessibleName("Name for this face group")
        self.name_edit.setMaximumWidth(360)
        self.name_edit.returnPressed.connect(self._named)
        save = button("Save name", "check", "primary", self._named)
        self.faces = QtWidgets.QListWidget()
        self.faces.setViewMode(QtWidgets.QListView.ViewMode.IconMode)
        self.faces.setIconSize(QtCore.QSize(112, 112))
        self.faces.setGridSize(QtCore.QSize(124, 124))
        self.faces.setResizeMode(QtWidgets.QListView.ResizeMode.Adjust)
        self.faces.setMovement(QtWidgets.QListView.Movement.Static)
        self.faces.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.ExtendedSelection)
        self.faces.setProperty("role", "bare")
        self.faces.setAccessibleName("Faces in this group")
        self.split_button = button("Not the same person", "split", slot=lambda: emit(self.split, self.selected()))
        self.remove_button = button("Not a face", "forget", "danger", lambda: emit(self.remove, self.selected()))
        self.split_button.setToolTip("Move the selected faces into a group of their own")
        self.remove_button.setToolTip("Remove the selected faces: they are not faces, or nobody you know")
        head = QtWidgets.QHBoxLayout()
        head.addWidget(tool("back", "Back to everyone", lambda: emit(self.back)))
        head.addWidget(self.title)
        head.addStretch(1)
        naming = QtWidgets.QHBoxLayout()
        naming.addWidget(self.name_edit, 1)
        naming.addWidget(save)
        naming.addStretch(1)
        actions = QtWidgets.QHBoxLayout()
        actions.addWidget(label("Select faces that don't belong:", "caption"))
        actions.addWidget(self.split_button)
        actions.addWidget(self.remove_button)
        actions.addStretch(1)
        column = QtWidgets.QVBoxLayout(self)
        column.setContentsMargins(20, 16, 20, 16)
        column.addLayout(head)
        column.addLayout(naming)
        column.addWidget(self.faces, 1)
        column.addLayout(actions)

    def set_names(self, names: list[str]) -> None:
        completer = QtWidgets.QCompleter(names, self.name_edit)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.name_edit.setCompleter(completer)

    def show_faces(self, cluster_id: int, faces: list[tuple[int, QtGui.QImage]]) -> None:
        from companion.ui import paint

        self.cluster_id = cluster_id
        self.name_edit.clear()
        self.faces.clear()
        self.title.setText(f"Who is this? · {len(faces)} photo{'s' if len(faces) != 1 else ''}")
        ratio = self.devicePixelRatioF() or 1.0
        for face_id, crop in faces:
            round_face = QtGui.QPixmap.fromImage(paint.avatar(crop, 112, "?", ratio))
            item = QtWidgets.QListWidgetItem(QtGui.QIcon(round_face), "")
            item.setData(FACE_ID, face_id)
            self.faces.addItem(item)

    def selected(self) -> list[int]:
        return [int(item.data(FACE_ID)) for item in self.faces.selectedItems()]

    def _named(self) -> None:
        text = " ".join(self.name_edit.text().split())
        if text:
            emit(self.name, text)
