"""Photos: the indexed library as a grid, filtered by person and place or searched by text.

Listing and thumbnails run on a worker, a page at a time (``app.library.photo_page``):
the next page loads when the grid is scrolled near its end, so a 100k-photo library
never loads whole. Text search ranks by the image embeddings, paged the same way.
Selecting a photo shows who, where and when.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from companion.app import library
from companion.core.types import Photo
from companion.ui import images
from companion.ui.qt import QtCore, QtGui, QtWidgets, Signal, emit
from companion.ui.workers import Worker, WorkerPool

PHOTO_ID = QtCore.Qt.ItemDataRole.UserRole
PAGE = 200          # photos per page
NEAR_END = 0.85     # load the next page once the grid is scrolled this far
TICK_MS = 8         # tiles go into the grid in slices this long, so the window keeps repainting


@dataclass
class PhotoTile:
    photo: Photo
    thumb: QtGui.QImage


@dataclass
class PhotoDetail:
    """Everything the detail pane shows, read on a worker."""

    photo: Photo
    image: QtGui.QImage
    people: list[str] = field(default_factory=list)


def describe_when(photo: Photo) -> str:
    return photo.taken_at.strftime("%A %d %B %Y, %H:%M") if photo.taken_at else "unknown date"


def load_detail(services: Any, photo_id: int) -> PhotoDetail | None:
    store = services.store
    photo = store.photos.get(photo_id)
    if photo is None:
        return None
    names = []
    for observation in store.observations.for_photo(photo_id):
        concept = store.concepts.get(observation.concept_id)
        if concept is not None and concept.name not in names:
            names.append(concept.name)
    return PhotoDetail(photo, images.load_image(photo.path, 320), names)


class PhotosView(QtWidgets.QWidget):
    """Grid, filters, search and a detail pane.

    Signals:
        status(str): a message for the status bar.
        loaded(int): the grid now shows this many photos.
    """

    status = Signal(str)
    loaded = Signal(int)

    def __init__(self, services: Any, workers: WorkerPool, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.workers = workers
        self._loader: Worker | None = None
        self._next: Any = None            # where the next page starts; None: no more pages
        self._shown = 0
        # A worker delivers a page's 200 tiles faster than the grid takes them: adding them all in
        # one go froze the window for 40-80 ms (benchmarks/README.md, "Scale"), so they queue here.
        self._tiles: deque[PhotoTile] = deque()
        self._page_done: int | None = None
        self._feeder = QtCore.QTimer(self)
        self._feeder.setInterval(0)
        self._feeder.timeout.connect(self._feed)
        # After a page is in: still at the end (a tall window, or a user waiting there)? Go on.
        self._end_check = QtCore.QTimer(self)
        self._end_check.setSingleShot(True)
        self._end_check.setInterval(100)
        self._end_check.timeout.connect(lambda: self._maybe_load_more(self.grid.verticalScrollBar().value()))
        self.person = QtWidgets.QComboBox()
        self.person.setMinimumContentsLength(12)
        self.place = QtWidgets.QLineEdit(placeholderText="Place (city, region or country)")
        self.search = QtWidgets.QLineEdit(placeholderText="Describe a photo, e.g. 'beach at sunset'")
        self.person.activated.connect(lambda _i: self.reload())
        self.place.returnPressed.connect(self.reload)
        self.search.returnPressed.connect(self.reload)
        filters = QtWidgets.QHBoxLayout()
        filters.addWidget(QtWidgets.QLabel("Person"))
        filters.addWidget(self.person)
        filters.addWidget(self.place, 1)
        filters.addWidget(self.search, 2)

        self.grid = QtWidgets.QListWidget()
        self.grid.setViewMode(QtWidgets.QListView.ViewMode.IconMode)
        self.grid.setIconSize(QtCore.QSize(140, 140))
        self.grid.setGridSize(QtCore.QSize(170, 200))
        self.grid.setResizeMode(QtWidgets.QListView.ResizeMode.Adjust)
        self.grid.setMovement(QtWidgets.QListView.Movement.Static)
        # Thousands of tiles once scrolled far: same-size tiles, laid out in batches.
        self.grid.setUniformItemSizes(True)
        self.grid.setLayoutMode(QtWidgets.QListView.LayoutMode.Batched)
        self.grid.setBatchSize(200)
        self.grid.currentItemChanged.connect(lambda item, _prev: item and self.show_photo(int(item.data(PHOTO_ID))))
        self.grid.verticalScrollBar().valueChanged.connect(self._maybe_load_more)

        self.preview = QtWidgets.QLabel(alignment=QtCore.Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(320, 240)
        self.who = QtWidgets.QLabel(wordWrap=True)
        self.where = QtWidgets.QLabel(wordWrap=True)
        self.when = QtWidgets.QLabel(wordWrap=True)
        self.file = QtWidgets.QLabel(wordWrap=True)
        self.file.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        detail = QtWidgets.QWidget()
        form = QtWidgets.QFormLayout(detail)
        form.addRow(self.preview)
        form.addRow("Who", self.who)
        form.addRow("Where", self.where)
        form.addRow("When", self.when)
        form.addRow("File", self.file)
        splitter = QtWidgets.QSplitter()
        splitter.addWidget(self.grid)
        splitter.addWidget(detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(splitter, 1)
        self.detail_photo_id: int | None = None

    def reload(self) -> Worker:
        """Reload people for the filter and the first page of the grid for the current filters."""
        if self._loader is not None:
            self._loader.cancel()
        self.grid.clear()
        self._tiles.clear()
        self._feeder.stop()
        self._shown = 0
        self._next = None
        self._page_done = None
        return self._load_page(None, with_people=True)

    def load_more(self) -> Worker | None:
        """Load the next page (None when a page is loading or the last one is shown)."""
        if self._next is None or self._page_done is not None or (
                self._loader is not None and not self._loader.done.is_set()):
            return None
        return self._load_page(self._next, with_people=False)

    def _maybe_load_more(self, value: int) -> None:
        bar = self.grid.verticalScrollBar()
        if bar.maximum() > 0 and value >= bar.maximum() * NEAR_END:
            self.load_more()

    def _load_page(self, after: Any, *, with_people: bool) -> Worker:
        concept_id = self.person.currentData()
        place, text = self.place.text().strip(), self.search.text().strip()

        def job(cancel: Any) -> Any:
            if with_people:
                people = [(c.name, c.id) for c in self.services.store.concepts.list()
                          if c.category in ("person", "pet")]
                yield ("people", people)
            page = library.photo_page(self.services, person=concept_id, place=place or None, text=text,
                                      after=after, limit=PAGE)
            for photo in page.photos:
                if cancel.is_set():
                    return None
                yield PhotoTile(photo, images.photo_thumbnail(photo, 140))
            return ("page", len(page.photos), page.next)

        self._loader = worker = self.workers.start(job, "load photos")
        # Tiles still queued from a load that a new filter replaced are dropped.
        worker.signals.item.connect(lambda value, w=worker: w is self._loader and self._on_item(value))
        worker.signals.finished.connect(lambda result, w=worker: self._on_page(w, result))
        worker.signals.failed.connect(self.status)
        return worker

    def _on_page(self, worker: Worker, result: Any) -> None:
        if result is None or worker is not self._loader:     # cancelled, or a newer load replaced it
            return
        _, count, self._next = result
        self._page_done = count
        self._feed()

    def _feed(self) -> None:
        """Add queued tiles for at most TICK_MS; when the page is all in, say so."""
        deadline = time.perf_counter() + TICK_MS / 1000
        while self._tiles and time.perf_counter() < deadline:
            self._add_tile(self._tiles.popleft())
        if self._tiles:
            if not self._feeder.isActive():
                self._feeder.start()
            return
        self._feeder.stop()
        if self._page_done is not None:
            self._shown += self._page_done
            self._page_done = None
            emit(self.loaded, self._shown)
            self._end_check.start()

    def _on_item(self, value: Any) -> None:
        if isinstance(value, PhotoTile):
            self._tiles.append(value)
            if not self._feeder.isActive():
                self._feeder.start()
        elif isinstance(value, tuple) and value[0] == "people":
            current = self.person.currentData()
            self.person.clear()
            self.person.addItem("Anyone", None)
            for name, concept_id in value[1]:
                self.person.addItem(name, concept_id)
            index = self.person.findData(current)
            self.person.setCurrentIndex(max(0, index))

    def _add_tile(self, value: PhotoTile) -> None:
        photo = value.photo
        when = photo.taken_at.strftime("%d %b %Y") if photo.taken_at else ""
        label = "\n".join(x for x in (when, photo.place.city if photo.place else "") if x)
        item = QtWidgets.QListWidgetItem(QtGui.QIcon(images.pixmap(value.thumb, "?", 140)), label)
        item.setData(PHOTO_ID, photo.id)
        item.setToolTip(photo.path)
        self.grid.addItem(item)

    def show_photo(self, photo_id: int) -> Worker:
        """Load and show the detail of one photo (also used when a source card is clicked)."""
        self.detail_photo_id = photo_id
        worker = self.workers.start(lambda _c: load_detail(self.services, photo_id), "photo detail")
        worker.signals.finished.connect(self._show_detail)
        worker.signals.failed.connect(self.status)
        return worker

    def _show_detail(self, detail: PhotoDetail | None) -> None:
        if detail is None or detail.photo.id != self.detail_photo_id:
            return
        photo = detail.photo
        self.preview.setPixmap(images.pixmap(detail.image, "?", 240))
        self.who.setText(", ".join(detail.people) or "Nobody recognized")
        self.where.setText(photo.place.label() if photo.place else "Unknown place")
        self.when.setText(describe_when(photo))
        self.file.setText(photo.path)
