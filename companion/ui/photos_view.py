"""Photos: the library as a month-grouped grid, filtered with chips, with a detail pane showing who is where.

Pages come from ``app.library.photo_page`` on a worker, one more each time the
user scrolls near the end (keyset pages when listing, ranked pages when the
grid shows the photos that match some words, from the header's search), so a
100k-photo library never loads whole; thumbnails load lazily in the grid.
Selecting a photo opens the detail pane: the photo with face boxes and names,
when, where, who, and "Ask about this photo".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from companion.app import library
from companion.ui import images, paint
from companion.ui.photo_grid import PhotoGrid
from companion.ui.qt import Qt, QtGui, QtWidgets, Signal, emit
from companion.ui.widgets import EmptyState, FlowLayout, button, chip, human_count, human_date, label, tool
from companion.ui.workers import Worker, WorkerPool

if TYPE_CHECKING:
    from companion.app.services import Services

PAGE = 240


@dataclass(frozen=True)
class PhotoQuery:
    """The grid's filters: a person or pet (concept id), a place, and words that describe the photos (CLIP)."""

    concept_id: int | None = None
    place: str = ""
    text: str = ""


def load_page(services: Services, query: PhotoQuery, after: Any) -> Any:
    """Worker job: the page of ``query`` that starts after ``after`` (None: the first)."""
    return library.photo_page(services, person=query.concept_id, place=query.place or None, text=query.text,
                              after=after, limit=PAGE)


def describe_when(photo: Any) -> str:
    if not photo.taken_at:
        return "Date unknown"
    return f"{human_date(photo.taken_at, with_weekday=True)}, {photo.taken_at.strftime('%H:%M')}"


class DetailPane(QtWidgets.QFrame):
    """The selected photo, its faces boxed and named, and what the library knows about it."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "panel")
        self.setFixedWidth(380)
        self.preview = QtWidgets.QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumHeight(240)
        self.preview.setAccessibleName("The selected photo")
        self.when = label("", "heading", wrap=True)
        self.date_note = label("", "caption", wrap=True)   # "Date from the file, not the camera"
        self.date_note.setObjectName("date-note")
        self.where = label("", "muted", wrap=True)
        self.who = label("", wrap=True)
        self.file = label("", "caption", wrap=True, selectable=True)
        self.close_button = tool("close", "Close the details")
        self.ask_button = button("Ask about this photo", "ask", "primary")
        top = QtWidgets.QHBoxLayout()
        top.addWidget(label("Details", "caption"), 1)
        top.addWidget(self.close_button)
        column = QtWidgets.QVBoxLayout(self)
        column.setContentsMargins(20, 14, 20, 20)
        column.setSpacing(10)
        column.addLayout(top)
        column.addWidget(self.preview)
        column.addWidget(self.when)
        column.addWidget(self.date_note)
        column.addWidget(self.where)
        column.addWidget(self.who)
        column.addWidget(self.ask_button)
        column.addStretch(1)
        column.addWidget(self.file)

    def show_detail(self, detail: library.PhotoDetail, image: QtGui.QImage) -> None:
        photo = detail.photo
        shaped = paint.photo_preview(image, photo.width, detail.faces, 340, self.devicePixelRatioF() or 1.0)
        self.preview.setPixmap(QtGui.QPixmap.fromImage(shaped) if not image.isNull()
                               else images.pixmap(QtGui.QImage(), "?", 240))
        self.when.setText(describe_when(photo))
        self.date_note.setText(detail.date_note)
        self.date_note.setVisible(bool(detail.date_note))
        self.where.setText(", ".join(photo.place.levels()) if photo.place else "Unknown place")
        unnamed = sum(1 for _box, name in detail.faces if name is None)
        who = ", ".join(detail.people) or "Nobody recognized"
        if unnamed:
            who += f" · {unnamed} face{'s' if unnamed != 1 else ''} not named yet"
        self.who.setText(who)
        self.file.setText("\n".join(detail.paths or [photo.path]))
        self.show()


class PhotosView(QtWidgets.QWidget):
    """Chips, the grid and the detail pane.

    Signals:
        status(str): a message for the status bar.
        loaded(int): a page arrived; the grid shows this many photos.
        ask_about(str): the user wants to ask about this photo file.
    """

    status = Signal(str)
    loaded = Signal(int)
    ask_about = Signal(str)

    def __init__(self, services: Services, workers: WorkerPool, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.services, self.workers = services, workers
        self.query = PhotoQuery()
        self._loader: Worker | None = None
        self._next: Any = None            # where the next page starts; None: the last page is shown
        self._generation = 0
        self.detail_photo_id: int | None = None
        self.detail_path = ""
        self.chips_holder = QtWidgets.QWidget()
        self.chips = FlowLayout(self.chips_holder, 6)
        self.count_label = label("", "caption")
        self.grid = PhotoGrid(workers)
        self.grid.activated.connect(self.show_photo)
        self.grid.needs_more.connect(self.load_more)
        self.empty = EmptyState("photos", "Your photos will appear here",
                                "Add a folder of photos in Settings. Companion finds the faces, places and dates "
                                "in them, on this computer.")
        self.detail = DetailPane()
        self.detail.hide()
        self.detail.close_button.clicked.connect(self.detail.hide)
        self.detail.ask_button.clicked.connect(self._ask_about_detail)
        self.pages = QtWidgets.QStackedWidget()
        self.pages.addWidget(self.grid)
        self.pages.addWidget(self.empty)
        top = QtWidgets.QHBoxLayout()
        top.setContentsMargins(24, 12, 24, 4)
        top.addWidget(self.chips_holder, 1)
        top.addWidget(self.count_label, 0, Qt.AlignmentFlag.AlignTop)
        left = QtWidgets.QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        left.addLayout(top)
        left.addWidget(self.pages, 1)
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addLayout(left, 1)
        row.addWidget(self.detail)
        # Filled with the people and places in the library on the first reload.
        self.person_chips: dict[int, QtWidgets.QPushButton] = {}
        self.place_chips: dict[str, QtWidgets.QPushButton] = {}
        self._filters_shown: Any = None
        self.all_chip = chip("All photos", "photos")
        self.all_chip.setChecked(True)
        self.all_chip.clicked.connect(lambda: self.set_filter(PhotoQuery()))
        self.chips.addWidget(self.all_chip)
        self.text_chip = chip("", "search")     # the words the grid matches, from the header's search
        self.text_chip.setToolTip("Photos that look like this description; click to show all photos")
        self.text_chip.clicked.connect(lambda: self.set_text(""))
        self.text_chip.hide()
        self.chips.addWidget(self.text_chip)

    # ---- filters ----------------------------------------------------------------------

    def set_filter(self, query: PhotoQuery, load: bool = True) -> Worker | None:
        """Show the photos that match ``query``; ``load=False`` only sets it (the next reload uses it)."""
        self.query = query
        self._check_chips()
        return self.reload() if load else None

    def set_place(self, place: str) -> Worker | None:
        return self.set_filter(replace(self.query, place=place))

    def set_person(self, concept_id: int | None) -> Worker | None:
        return self.set_filter(replace(self.query, concept_id=concept_id))

    def set_text(self, text: str, load: bool = True) -> Worker | None:
        """Show the photos that best match a description (ranked by CLIP), or all photos again for ""."""
        return self.set_filter(replace(self.query, text=" ".join(text.split())), load)

    def _check_chips(self) -> None:
        self.all_chip.setChecked(self.query == PhotoQuery())
        self.text_chip.setVisible(bool(self.query.text))
        self.text_chip.setText(f"“{self.query.text}”")
        self.text_chip.setAccessibleName(f"Photos like “{self.query.text}”; click to clear")
        self.text_chip.setChecked(bool(self.query.text))
        for concept_id, person in self.person_chips.items():
            person.setChecked(self.query.concept_id == concept_id)
        for place, chip_button in self.place_chips.items():
            chip_button.setChecked(self.query.place == place)

    def _show_filters(self, people: list[Any], places: list[str]) -> None:
        shown = ([(c.id, c.name, c.category) for c in people[:10]], list(places))
        if shown == self._filters_shown:      # the same chips: keep them (each reload and filter click)
            self._check_chips()
            return
        self._filters_shown = shown
        for widget in [*self.person_chips.values(), *self.place_chips.values()]:
            self.chips.removeWidget(widget)
            widget.deleteLater()
        self.person_chips, self.place_chips = {}, {}
        for concept in people[:10]:
            person = chip(concept.name, "person" if concept.category == "person" else "pet")
            person.clicked.connect(lambda on, cid=concept.id: self.set_person(cid if on else None))
            self.chips.addWidget(person)
            self.person_chips[concept.id] = person
        for place in places:
            place_chip = chip(place, "place")
            place_chip.clicked.connect(lambda on, p=place: self.set_place(p if on else ""))
            self.chips.addWidget(place_chip)
            self.place_chips[place] = place_chip
        self._check_chips()

    # ---- pages ------------------------------------------------------------------------

    def reload(self) -> Worker:
        """Load the first page for the current filters (and refresh the chips)."""
        if self._loader is not None:
            self._loader.cancel()
        self._generation += 1
        generation, query = self._generation, self.query
        self._next = None
        self.grid.set_photos([])

        def job(_cancel: Any) -> Any:
            yield ("filters", library.photo_filters(self.services))
            return load_page(self.services, query, None)

        self._loader = worker = self.workers.start(job, "load photos")
        def filters(value: Any) -> None:
            if generation == self._generation:
                self._show_filters(*value[1])

        worker.signals.item.connect(filters)
        worker.signals.finished.connect(lambda page: self._first_page(page, generation))
        worker.signals.failed.connect(self.status)
        return worker

    def _first_page(self, page: Any, generation: int) -> None:
        if page is None or generation != self._generation:
            return
        self._loader = None
        self.grid.set_photos(page.photos)
        self._next = page.next
        self.pages.setCurrentWidget(self.grid if page.photos or self.query != PhotoQuery() else self.empty)
        self.grid.empty_text = "No photos match these filters."
        self._count()
        if self.detail_photo_id is not None:
            self.grid.select_id(self.detail_photo_id)
        emit(self.loaded, self.grid.count())

    def load_more(self) -> Worker | None:
        """Load the next page (None while a page is loading or once the last one is shown)."""
        if self._next is None or self._loader is not None:
            return None
        generation, query, after = self._generation, self.query, self._next
        self._loader = worker = self.workers.start(lambda _c: load_page(self.services, query, after), "more photos")
        worker.signals.finished.connect(lambda page: self._next_page(page, generation))
        def failed(message: str) -> None:
            self._loader = None
            emit(self.status, message)

        worker.signals.failed.connect(failed)
        return worker

    def _next_page(self, page: Any, generation: int) -> None:
        self._loader = None
        if page is None or generation != self._generation:
            return
        self.grid.append(page.photos)
        self._next = page.next
        self._count()
        emit(self.loaded, self.grid.count())

    def _count(self) -> None:
        shown = self.grid.count()
        self.count_label.setText(f"{human_count(shown)}{'+' if self._next is not None else ''} photos")

    # ---- detail -----------------------------------------------------------------------

    def show_photo(self, photo_id: int) -> Worker:
        """Load and show one photo's detail (also used when a source card is clicked)."""
        self.detail_photo_id = photo_id

        def job(_c: Any) -> Any:
            detail = library.photo_detail(self.services, photo_id)
            return (detail, images.load_image(detail.photo.path, 800)) if detail is not None else None

        worker = self.workers.start(job, "photo detail")
        worker.signals.finished.connect(self._show_detail)
        worker.signals.failed.connect(self.status)
        return worker

    def _show_detail(self, result: tuple[library.PhotoDetail, QtGui.QImage] | None) -> None:
        if result is None or result[0].photo.id != self.detail_photo_id:
            return
        detail, image = result
        self.detail_path = detail.photo.path
        self.detail.show_detail(detail, image)
        self.grid.select_id(detail.photo.id)

    def _ask_about_detail(self, _checked: bool = False) -> None:
        if self.detail_path:
            emit(self.ask_about, self.detail_path)

    # The tests and the chat read these through the view.
    @property
    def where(self) -> QtWidgets.QLabel:
        return self.detail.where

    @property
    def when(self) -> QtWidgets.QLabel:
        return self.detail.when

    @property
    def who(self) -> QtWidgets.QLabel:
        return self.detail.who

    @property
    def preview(self) -> QtWidgets.QLabel:
        return self.detail.preview

