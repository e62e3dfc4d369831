"""Search everything from the header: people, photos (CLIP text search) and memories in one panel.

Typing waits a moment, then one worker runs ``app.search.search`` and cuts the face
crops and thumbnails; the panel shows the three groups. Enter opens the first
result, Esc closes the panel, Ctrl+K / Cmd+K focuses the box.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from companion.app import search
from companion.ui import images, paint
from companion.ui.qt import Qt, QtCore, QtGui, QtWidgets, Signal, emit
from companion.ui.widgets import AvatarChip, FlowLayout, badge, button, clear_layout, date_place, label
from companion.ui.workers import Worker, WorkerPool

if TYPE_CHECKING:
    from companion.app.services import Services


@dataclass
class Results:
    """A search with its pictures, made on the worker."""

    found: search.Found
    faces: dict[int, QtGui.QImage] = field(default_factory=dict)     # concept id -> face
    thumbs: dict[int, QtGui.QImage] = field(default_factory=dict)    # photo id -> square thumbnail


def run_search(services: Services, text: str) -> Results:
    """Worker job: the search and its pictures."""
    found = search.search(services, text)
    results = Results(found)
    for card in found.people:
        results.faces[card.concept.id] = images.face_image(card.face, 64)
    for photo in found.photos:
        results.thumbs[photo.id] = paint.rounded(paint.cover(images.photo_thumbnail(photo, 200), 72), 8)
    return results


class _Tile(QtWidgets.QToolButton):
    """A clickable photo thumbnail in the results."""

    def __init__(self, image: QtGui.QImage, tip: str) -> None:
        super().__init__()
        self.setIcon(QtGui.QIcon(QtGui.QPixmap.fromImage(image)))
        self.setIconSize(QtCore.QSize(72, 72))
        self.setToolTip(tip)
        self.setAccessibleName(f"Photo, {tip}")
        self.setCursor(Qt.CursorShape.PointingHandCursor)


class SearchPanel(QtWidgets.QFrame):
    """The results panel under the header's search box.

    Signals:
        open_person(int), open_photo(int), open_memory(int): a result was chosen.
        open_photos_like(str): "All photos like …": the Photos grid, ranked by how well they match the words.
        searched(object): results arrived (the ``app.search.Found``); for tests.
    """

    open_person = Signal(int)
    open_photo = Signal(int)
    open_memory = Signal(int)
    open_photos_like = Signal(str)
    searched = Signal(object)

    def __init__(self, services: Services, workers: WorkerPool, box: QtWidgets.QLineEdit,
                 parent: QtWidgets.QWidget) -> None:
        super().__init__(parent)
        self.setProperty("role", "popup")
        self.services, self.workers, self.box = services, workers, box
        self.worker: Worker | None = None
        self.results: Results | None = None
        self._first: tuple[str, int] | None = None
        self.body = QtWidgets.QVBoxLayout(self)
        self.body.setContentsMargins(16, 14, 16, 14)
        self.body.setSpacing(8)
        self.timer = QtCore.QTimer(self, singleShot=True, interval=250)
        self.timer.timeout.connect(self.search_now)
        box.textChanged.connect(self._typed)
        box.returnPressed.connect(self.open_first)
        box.installEventFilter(self)
        self.hide()

    # ---- searching ------------------------------------------------------------------

    def _typed(self, text: str) -> None:
        if text.strip():
            self.timer.start()
        else:
            self.timer.stop()
            self.hide()

    def search_now(self) -> Worker | None:
        text = self.box.text().strip()
        if not text:
            return None
        if self.worker is not None:
            self.worker.cancel()
        self.worker = worker = self.workers.start(lambda _c: run_search(self.services, text), "search")
        worker.signals.finished.connect(lambda r, w=worker: self._show(r) if w is self.worker else None)
        worker.signals.failed.connect(lambda m: self._message(f"Search failed: {m}"))
        return worker

    def _clear(self) -> None:
        clear_layout(self.body)

    def _message(self, text: str) -> None:
        self._clear()
        self.body.addWidget(label(text, "muted", wrap=True))
        self.place()

    def _show(self, results: Results | None) -> None:
        self.worker = None
        if results is None or results.found.query != self.box.text().strip():
            return
        self.results = results
        found = results.found
        self._clear()
        self._first = None
        if found.empty:
            self._message(f"Nothing found for “{found.query}”. Try a name, a place or what is in a photo.")
            emit(self.searched, found)
            return
        if found.people:
            self.body.addWidget(label("People", "caption"))
            flow = QtWidgets.QWidget()
            chips = FlowLayout(flow, 6)
            for card in found.people:
                chip = AvatarChip(card.concept.name, results.faces.get(card.concept.id))
                chip.clicked.connect(lambda cid=card.concept.id: self._chose("person", cid))
                chips.addWidget(chip)
            self.body.addWidget(flow)
            self._first = ("person", found.people[0].concept.id)
        if found.photos:
            self.body.addWidget(label("Photos", "caption"))
            strip = QtWidgets.QHBoxLayout()
            strip.setSpacing(6)
            for photo in found.photos[:6]:
                tile = _Tile(results.thumbs.get(photo.id, QtGui.QImage()),
                             date_place(photo.taken_at, photo.place.label() if photo.place else "") or "Photo")
                tile.clicked.connect(lambda _=False, pid=photo.id: self._chose("photo", pid))
                strip.addWidget(tile)
            strip.addStretch(1)
            self.body.addLayout(strip)
            if found.described:
                more = button(f"All photos like “{found.query}”", "photos", "flat")
                more.clicked.connect(lambda _=False, q=found.query: self._chose_text(q))
                self.body.addWidget(more, 0, Qt.AlignmentFlag.AlignLeft)
            self._first = self._first or ("photo", found.photos[0].id)
        if found.memories:
            self.body.addWidget(label("Memories", "caption"))
            for memory in found.memories[:5]:
                self.body.addWidget(self._memory_row(memory))
            self._first = self._first or ("memory", found.memories[0].id)
        self.place()
        emit(self.searched, found)

    def _memory_row(self, memory: Any) -> QtWidgets.QWidget:
        row = QtWidgets.QPushButton()
        row.setProperty("role", "nav")
        row.setAccessibleName(f"Memory: {memory.content}")
        line = QtWidgets.QHBoxLayout(row)
        line.setContentsMargins(8, 4, 8, 4)
        line.addWidget(badge(memory.kind))
        text = label(memory.content if len(memory.content) < 64 else memory.content[:62].rstrip() + "…")
        text.setToolTip(memory.content)
        line.addWidget(text, 1)
        line.addWidget(label(date_place(memory.time, memory.place), "caption"))
        for child in row.findChildren(QtWidgets.QLabel):
            child.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        row.setMinimumHeight(34)
        row.clicked.connect(lambda _=False, mid=memory.id: self._chose("memory", mid))
        return row

    # ---- choosing and placing ------------------------------------------------------

    def _chose(self, kind: str, ident: int) -> None:
        self.hide()
        emit({"person": self.open_person, "photo": self.open_photo, "memory": self.open_memory}[kind], ident)

    def _chose_text(self, text: str) -> None:
        self.hide()
        emit(self.open_photos_like, text)

    def _choose_first(self, _result: object = None) -> None:
        if self._first is not None:
            self._chose(*self._first)

    def open_first(self) -> None:
        if self.timer.isActive() or self.worker is not None:  # Enter before the results: search first
            self.timer.stop()
            worker = self.search_now()
            if worker is not None:
                worker.signals.finished.connect(self._choose_first)
            return
        if self._first is not None:
            self._chose(*self._first)

    def place(self) -> None:
        """Hang the panel under the search box, as wide as the box (at least 520 px)."""
        parent = self.parentWidget()
        if parent is None:   # always the window in the app; nothing to hang from otherwise
            return
        anchor = QtCore.QRect(self.box.mapTo(parent, QtCore.QPoint(0, 0)), self.box.size())
        width = min(max(anchor.width(), 520), parent.width() - 32)
        left = max(16, min(anchor.center().x() - width // 2, parent.width() - width - 16))
        self.setFixedWidth(width)
        self.move(left, anchor.bottom() + 8)
        self._fit_height()
        self.show()
        self.raise_()
        QtCore.QTimer.singleShot(0, self._fit_height)   # new rows are measured once they are polished

    def _fit_height(self) -> None:
        """As tall as the results (the people chips wrap: ask the layout for the height at this width)."""
        parent = self.parentWidget()
        if parent is None:
            return
        self.body.activate()
        height = max(self.body.totalHeightForWidth(self.width()), self.body.totalSizeHint().height())
        self.setFixedHeight(max(40, min(height, parent.height() - self.y() - 16)))

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802 - Qt override
        if watched is self.box and isinstance(event, QtGui.QKeyEvent) and event.type() == QtCore.QEvent.Type.KeyPress:
            if event.key() == Qt.Key.Key_Escape and self.isVisible():
                self.hide()
                return True
        if watched is self.box and event.type() == QtCore.QEvent.Type.FocusIn and self.results and self.box.text():
            self.place()
        return super().eventFilter(watched, event)
