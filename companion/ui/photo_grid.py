"""A square photo grid grouped by month, with a sticky month header and thumbnails loaded as they come into view.

It paints only the visible rows, so it stays smooth with tens of thousands of
photos loaded. Thumbnails are made on a worker, a batch at a time, for the
tiles on screen first; the grid asks for the next page (``needs_more``) when
the user scrolls near its end.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from companion.app import library
from companion.ui import images, paint, theme
from companion.ui.qt import Qt, QtCore, QtGui, QtWidgets, Signal, emit
from companion.ui.widgets import date_place, human_count
from companion.ui.workers import Worker, WorkerPool

MARGIN, GAP, TARGET, HEADER = 24, 4, 150, 48
CACHE = 4000   # thumbnails kept in memory (~90 MB at 150 px and 2x)


@dataclass
class _Row:
    y: int
    height: int
    header: str = ""          # a month header row when set
    start: int = 0            # tiles: index range in the photo list
    end: int = 0


def month_of(photo: Any) -> str:
    return photo.taken_at.strftime("%B %Y") if photo.taken_at else "Date unknown"


class PhotoGrid(QtWidgets.QAbstractScrollArea):
    """The grid. Feed it with :meth:`set_photos` / :meth:`append`.

    Signals:
        activated(int): a photo was clicked or chosen with Enter (photo id).
        needs_more(): the user scrolled near the end; load the next page if there is one.
        thumbnails_loaded(int): how many thumbnails are in memory now (for tests and benchmarks).
    """

    activated = Signal(int)
    needs_more = Signal()
    thumbnails_loaded = Signal(int)

    def __init__(self, workers: WorkerPool, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.workers = workers
        self.photos: list[Any] = []
        self.months: list[str] = []     # month_of each photo, computed once per photo
        self.rows: list[_Row] = []
        self.tile = TARGET
        self.columns = 1
        self.current = -1
        self.cache: OrderedDict[int, QtGui.QPixmap] = OrderedDict()
        self.loader: Worker | None = None
        self.empty_text = "No photos yet."
        self.setProperty("role", "bare")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Photos, grouped by month")
        self.viewport().setMouseTracking(True)
        self.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.verticalScrollBar().setSingleStep(40)

    # ---- content ----------------------------------------------------------------------

    def set_photos(self, photos: list[Any]) -> None:
        self.photos = list(photos)
        self.months = [month_of(p) for p in self.photos]
        self.current = -1
        self.verticalScrollBar().setValue(0)
        self._layout()

    def append(self, photos: list[Any]) -> None:
        self.photos.extend(photos)
        self.months.extend(month_of(p) for p in photos)
        self._layout()

    def count(self) -> int:
        return len(self.photos)

    def photo_at(self, index: int) -> Any | None:
        return self.photos[index] if 0 <= index < len(self.photos) else None

    def select_id(self, photo_id: int) -> bool:
        for index, photo in enumerate(self.photos):
            if photo.id == photo_id:
                self._set_current(index, activate=False)
                return True
        return False

    # ---- layout -----------------------------------------------------------------------

    def _layout(self) -> None:
        width = max(200, self.viewport().width())
        self.columns = max(2, (width - 2 * MARGIN + GAP) // (TARGET + GAP))
        self.tile = (width - 2 * MARGIN - (self.columns - 1) * GAP) // self.columns
        rows, y, i = [], 8, 0
        while i < len(self.photos):
            month = self.months[i]
            rows.append(_Row(y, HEADER, month))
            y += HEADER
            j = i
            while j < len(self.months) and self.months[j] == month:
                j += 1
            for start in range(i, j, self.columns):
                rows.append(_Row(y, self.tile + GAP, "", start, min(j, start + self.columns)))
                y += self.tile + GAP
            i = j
        self.rows = rows
        bar = self.verticalScrollBar()
        bar.setPageStep(self.viewport().height())
        bar.setRange(0, max(0, y + MARGIN - self.viewport().height()))
        self.viewport().update()
        QtCore.QTimer.singleShot(0, self._request_visible)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._layout()

    def _visible_rows(self) -> list[_Row]:
        top, bottom = self.verticalScrollBar().value(), self.verticalScrollBar().value() + self.viewport().height()
        return [r for r in self.rows if r.y + r.height > top and r.y < bottom]

    def _tile_rect(self, row: _Row, index: int) -> QtCore.QRect:
        x = MARGIN + (index - row.start) * (self.tile + GAP)
        return QtCore.QRect(x, row.y - self.verticalScrollBar().value(), self.tile, self.tile)

    def index_at(self, pos: QtCore.QPoint) -> int:
        y = pos.y() + self.verticalScrollBar().value()
        for row in self.rows:
            if not row.header and row.y <= y < row.y + self.tile:
                column = (pos.x() - MARGIN) // (self.tile + GAP)
                if 0 <= column < row.end - row.start and (pos.x() - MARGIN) % (self.tile + GAP) < self.tile:
                    return row.start + column
        return -1

    # ---- painting -----------------------------------------------------------------------

    def paintEvent(self, _event: QtGui.QPaintEvent) -> None:  # noqa: N802 - Qt override
        tokens = theme.current()
        painter = QtGui.QPainter(self.viewport())
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        if not self.photos:
            painter.setPen(tokens.color("muted"))
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, self.empty_text)
            return
        scroll = self.verticalScrollBar().value()
        heading = theme.font("heading")
        for row in self._visible_rows():
            if row.header:
                self._paint_header(painter, row.header, row.y - scroll, heading)
                continue
            for index in range(row.start, row.end):
                self._paint_tile(painter, index, self._tile_rect(row, index), tokens)
        # The sticky header: the month of the first visible tile row stays on top.
        first = next((r for r in self._visible_rows() if not r.header and r.y + r.height > scroll + HEADER), None)
        if first is not None and scroll > 0:
            painter.fillRect(0, 0, self.viewport().width(), HEADER, tokens.color("window"))
            painter.setPen(tokens.color("border"))
            painter.drawLine(0, HEADER - 1, self.viewport().width(), HEADER - 1)
            self._paint_header(painter, self.months[first.start], 0, heading)
        painter.end()

    def _paint_header(self, painter: QtGui.QPainter, text: str, y: int, font: QtGui.QFont) -> None:
        painter.setFont(font)
        painter.setPen(theme.current().color("text"))
        painter.drawText(QtCore.QRect(MARGIN, y, self.viewport().width() - 2 * MARGIN, HEADER),
                         int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), text)

    def _paint_tile(self, painter: QtGui.QPainter, index: int, rect: QtCore.QRect, tokens: theme.Tokens) -> None:
        photo = self.photos[index]
        pixmap = self.cache.get(photo.id)
        path = QtGui.QPainterPath()
        path.addRoundedRect(QtCore.QRectF(rect), 8, 8)
        if pixmap is None:
            painter.fillPath(path, tokens.color("raised"))
        else:
            self.cache.move_to_end(photo.id)
            painter.save()
            painter.setClipPath(path)
            painter.drawPixmap(rect, pixmap)
            painter.restore()
        if index == self.current:
            painter.setPen(QtGui.QPen(tokens.color("accent"), 3))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(QtCore.QRectF(rect).adjusted(1.5, 1.5, -1.5, -1.5), 8, 8)

    # ---- thumbnails, a batch at a time on a worker ---------------------------------------

    def _scrolled(self, _value: int) -> None:
        self.viewport().update()
        self._request_visible()
        bar = self.verticalScrollBar()
        if bar.maximum() - bar.value() < 2 * self.viewport().height():
            emit(self.needs_more)

    def _request_visible(self) -> None:
        if self.loader is not None or not self.photos:
            return
        rows = self._visible_rows()
        if not rows:
            return
        start = min((r.start for r in rows if not r.header), default=0)
        end = max((r.end for r in rows if not r.header), default=0) + self.columns * 2  # and the next rows
        wanted = [p for p in self.photos[start:end] if p.id not in self.cache][:48]
        if not wanted:
            return
        ratio = self.devicePixelRatioF() or 1.0
        side = round(self.tile * ratio)

        def job(cancel: Any) -> Any:
            for photo in wanted:
                if cancel.is_set():
                    return
                yield photo.id, paint.cover(images.photo_thumbnail(photo, max(side, 160)), side)

        self.loader = worker = self.workers.start(job, "thumbnails")
        worker.signals.item.connect(self._thumbnail)
        worker.signals.finished.connect(lambda _r: self._loaded())
        worker.signals.failed.connect(lambda _m: self._loaded())

    def _thumbnail(self, value: tuple[int, QtGui.QImage]) -> None:
        photo_id, image = value
        pixmap = QtGui.QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(self.devicePixelRatioF() or 1.0)
        self.cache[photo_id] = pixmap
        while len(self.cache) > CACHE:
            self.cache.popitem(last=False)
        self.viewport().update()

    def _loaded(self) -> None:
        self.loader = None
        emit(self.thumbnails_loaded, len(self.cache))
        QtCore.QTimer.singleShot(0, self._request_visible)

    # ---- mouse and keyboard ---------------------------------------------------------------

    def _set_current(self, index: int, activate: bool = True) -> None:
        if not 0 <= index < len(self.photos):
            return
        self.current = index
        self._ensure_visible(index)
        self.viewport().update()
        if activate:
            emit(self.activated, self.photos[index].id)

    def _ensure_visible(self, index: int) -> None:
        row = next((r for r in self.rows if not r.header and r.start <= index < r.end), None)
        if row is None:
            return
        bar = self.verticalScrollBar()
        if row.y - HEADER < bar.value():
            bar.setValue(row.y - HEADER)
        elif row.y + row.height > bar.value() + self.viewport().height():
            bar.setValue(row.y + row.height - self.viewport().height())

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802 - Qt override
        index = self.index_at(event.position().toPoint())
        if index >= 0:
            self._set_current(index)
        super().mousePressEvent(event)

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:  # noqa: N802 - Qt override
        moves = {Qt.Key.Key_Right: 1, Qt.Key.Key_Left: -1, Qt.Key.Key_Down: self.columns, Qt.Key.Key_Up: -self.columns}
        key = Qt.Key(event.key())
        if key in moves and self.photos:
            self._set_current(max(0, min(len(self.photos) - 1, max(self.current, 0) + moves[key])))
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.current >= 0:
            emit(self.activated, self.photos[self.current].id)
        else:
            super().keyPressEvent(event)

    def viewportEvent(self, event: QtCore.QEvent) -> bool:  # noqa: N802 - Qt override
        if isinstance(event, QtGui.QHelpEvent) and event.type() == QtCore.QEvent.Type.ToolTip:
            index = self.index_at(event.pos())
            photo = self.photo_at(index)
            if photo is not None:
                place = photo.place.label() if photo.place else ""
                note = library.date_note(photo)
                QtWidgets.QToolTip.showText(event.globalPos(), (date_place(photo.taken_at, place) or "Date unknown")
                                            + (f"\n{note}" if note else ""), self.viewport())
                return True
        return super().viewportEvent(event)

    def summary(self) -> str:
        return f"{human_count(len(self.photos))} photos"
