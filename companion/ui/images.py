"""Image loading for thumbnails and face crops, safe to call from worker threads.

Workers build :class:`QImage` values (allowed off the GUI thread); the GUI turns
them into pixmaps. Nothing here touches the store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from companion.core.types import Box, Photo
from companion.ui import paint
from companion.ui.qt import QtCore, QtGui

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".bmp", ".gif", ".tif", ".tiff")


def is_image(path: str | Path) -> bool:
    return str(path).lower().endswith(IMAGE_SUFFIXES)


def load_image(path: str | Path, max_side: int) -> QtGui.QImage:
    """Read ``path`` scaled so its longer side is at most ``max_side`` (null image on failure)."""
    reader = QtGui.QImageReader(str(path))
    reader.setAutoTransform(True)  # boxes and thumbnails are in EXIF-rotated coordinates
    size = reader.size()
    if size.isValid() and max(size.width(), size.height()) > max_side:
        size.scale(max_side, max_side, QtCore.Qt.AspectRatioMode.KeepAspectRatio)
        reader.setScaledSize(size)
    return reader.read()


def full_size(path: str | Path) -> QtCore.QSize:
    """The photo's size as the user sees it (EXIF rotation applied), without decoding it."""
    reader = QtGui.QImageReader(str(path))
    reader.setAutoTransform(True)
    size = reader.size()
    if reader.transformation() & QtGui.QImageIOHandler.Transformation.TransformationRotate90:
        size.transpose()
    return size


def photo_thumbnail(photo: Photo, max_side: int = 160) -> QtGui.QImage:
    """The stored thumbnail when there is one, else the photo file itself."""
    for candidate in (photo.thumbnail, photo.path):
        if candidate and Path(candidate).is_file():
            image = load_image(candidate, max_side)
            if not image.isNull():
                return image
    return QtGui.QImage()


def face_crop(photo: Photo, box: Box, max_side: int = 96, margin: float = 0.25) -> QtGui.QImage:
    """The face in ``box`` (full-size photo pixels), cut from the thumbnail or the file."""
    for candidate in (photo.path, photo.thumbnail):
        if not candidate or not Path(candidate).is_file():
            continue
        image = load_image(candidate, 1600)
        if image.isNull() or not photo.width:
            continue
        scale = image.width() / photo.width
        pad_x, pad_y = (box.right - box.left) * margin, (box.bottom - box.top) * margin
        rect = QtCore.QRect(int((box.left - pad_x) * scale), int((box.top - pad_y) * scale),
                            max(1, int((box.right - box.left + 2 * pad_x) * scale)),
                            max(1, int((box.bottom - box.top + 2 * pad_y) * scale)))
        crop = image.copy(rect.intersected(image.rect()))
        if not crop.isNull():
            return crop.scaled(max_side, max_side, QtCore.Qt.AspectRatioMode.KeepAspectRatio,
                               QtCore.Qt.TransformationMode.SmoothTransformation)
    return QtGui.QImage()


def face_image(ref: Any, side: int = 96) -> QtGui.QImage:
    """A square face crop for an avatar from a ``FaceRef`` (companion.app.people); null when unreadable.

    Without a box (a reference photo of a pet or thing) the whole picture is used, centre-cropped.
    """
    if ref is None:
        return QtGui.QImage()
    if ref.box is None or not ref.width:
        source = ref.thumbnail if ref.thumbnail and Path(ref.thumbnail).is_file() else ref.path
        return paint.cover(load_image(source, side * 3), side) if source else QtGui.QImage()
    image = load_image(ref.path, 1024) if Path(ref.path).is_file() else QtGui.QImage()
    if image.isNull():
        return image
    return paint.cover(paint.face_crop(image, ref.width, ref.box), side)


def pixmap(image: QtGui.QImage, fallback_text: str = "", side: int = 96) -> QtGui.QPixmap:
    """A pixmap for the GUI; an empty image becomes a neutral tile drawn with palette colours."""
    if not image.isNull():
        return QtGui.QPixmap.fromImage(image)
    tile = QtGui.QPixmap(side, side)
    palette = QtGui.QGuiApplication.palette()
    tile.fill(palette.color(QtGui.QPalette.ColorRole.Mid))
    if fallback_text:
        painter = QtGui.QPainter(tile)
        painter.setPen(palette.color(QtGui.QPalette.ColorRole.Text))
        painter.drawText(tile.rect(), QtCore.Qt.AlignmentFlag.AlignCenter, fallback_text[:2].upper())
        painter.end()
    return tile
