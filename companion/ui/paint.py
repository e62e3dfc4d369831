"""Image shaping for the design: square covers, rounded corners, round avatars, face boxes with names.

Everything works on ``QImage`` so workers can prepare pictures off the GUI
thread; colours come from the theme tokens.
"""

from __future__ import annotations

from collections.abc import Sequence

from companion.core.types import Box
from companion.ui import theme
from companion.ui.qt import Qt, QtCore, QtGui

_ARGB = QtGui.QImage.Format.Format_ARGB32_Premultiplied


def cover(image: QtGui.QImage, side: int) -> QtGui.QImage:
    """``image`` scaled to fill a ``side`` x ``side`` square, centre-cropped (like CSS object-fit: cover)."""
    if image.isNull():
        return image
    scaled = image.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                          Qt.TransformationMode.SmoothTransformation)
    x, y = (scaled.width() - side) // 2, (scaled.height() - side) // 2
    return scaled.copy(x, y, side, side)


def rounded(image: QtGui.QImage, radius: float) -> QtGui.QImage:
    """``image`` with transparent rounded corners."""
    if image.isNull():
        return image
    out = QtGui.QImage(image.size(), _ARGB)
    out.fill(Qt.GlobalColor.transparent)
    painter = QtGui.QPainter(out)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    path = QtGui.QPainterPath()
    path.addRoundedRect(QtCore.QRectF(out.rect()), radius, radius)
    painter.setClipPath(path)
    painter.drawImage(0, 0, image)
    painter.end()
    return out


def initials(name: str) -> str:
    parts = [p for p in name.replace("-", " ").split() if p[:1].isalnum()]
    return "".join(p[0] for p in parts[:2]).upper() or "?"


def avatar(image: QtGui.QImage, side: int, name: str = "", ratio: float = 1.0) -> QtGui.QImage:
    """A round avatar: the face cropped to a circle, or the name's initials on the accent's soft colour."""
    px = max(1, round(side * ratio))
    out = QtGui.QImage(px, px, _ARGB)
    out.fill(Qt.GlobalColor.transparent)
    painter = QtGui.QPainter(out)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    path = QtGui.QPainterPath()
    path.addEllipse(QtCore.QRectF(0, 0, px, px))
    tokens = theme.current()
    if not image.isNull():
        painter.setClipPath(path)
        painter.drawImage(0, 0, cover(image, px))
    else:
        painter.fillPath(path, tokens.color("accent_soft"))
        font = theme.font("title")
        font.setPixelSize(max(8, px * 2 // 5))
        painter.setFont(font)
        painter.setPen(tokens.color("accent_text"))
        painter.drawText(QtCore.QRectF(0, 0, px, px), Qt.AlignmentFlag.AlignCenter, initials(name))
    painter.end()
    out.setDevicePixelRatio(ratio)
    return out


def faces_drawn(image: QtGui.QImage, photo_width: int, faces: Sequence[tuple[Box, str | None]]) -> QtGui.QImage:
    """A copy of ``image`` with each face box outlined and its name on a label above it.

    ``faces`` are in full-size photo pixels (``photo_width`` wide); named faces use the
    accent, faces nobody named yet the reminder colour and "Who is this?".
    """
    if image.isNull() or not faces:
        return image
    out = image.convertToFormat(_ARGB)
    scale = out.width() / photo_width if photo_width else 1.0
    tokens = theme.current()
    painter = QtGui.QPainter(out)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    font = theme.font("caption", bold=True)
    font.setPixelSize(max(11, out.width() // 20))   # readable once the photo is shown ~300 px wide
    painter.setFont(font)
    metrics = QtGui.QFontMetrics(font)
    for box, name in faces:
        colour = tokens.color("accent" if name else "warn_border")
        rect = QtCore.QRectF(box.left * scale, box.top * scale, (box.right - box.left) * scale,
                             (box.bottom - box.top) * scale)
        pen = QtGui.QPen(colour, max(2.0, out.width() / 220))
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect, 6, 6)
        label = name or "Who is this?"
        width, height = metrics.horizontalAdvance(label) + 12, metrics.height() + 4
        top = rect.top() - height - 3 if rect.top() > height + 3 else rect.bottom() + 3
        tag = QtCore.QRectF(rect.left(), top, width, height)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawRoundedRect(tag, height / 2, height / 2)
        painter.setPen(tokens.color("on_accent") if name else QtGui.QColor("#2B1D00"))
        painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, label)
    painter.end()
    return out


def photo_preview(image: QtGui.QImage, photo_width: int, faces: Sequence[tuple[Box, str | None]], side: int,
                  ratio: float) -> QtGui.QImage:
    """A photo with its faces outlined and named, fitted into ``side`` logical pixels, rounded, for a display
    of ``ratio`` device pixels per logical pixel."""
    drawn = faces_drawn(image, photo_width, faces)
    scaled = drawn.scaled(round(side * ratio), round(side * ratio), Qt.AspectRatioMode.KeepAspectRatio,
                          Qt.TransformationMode.SmoothTransformation)
    shaped = rounded(scaled, 12 * ratio)
    shaped.setDevicePixelRatio(ratio)
    return shaped


def face_crop(image: QtGui.QImage, photo_width: int, box: Box | None, margin: float = 0.3) -> QtGui.QImage:
    """The face in ``box`` (full-size pixels of a photo ``photo_width`` wide) cut from ``image``, squared."""
    if image.isNull() or box is None or not photo_width:
        return image
    scale = image.width() / photo_width
    w, h = (box.right - box.left) * scale, (box.bottom - box.top) * scale
    side = max(w, h) * (1 + 2 * margin)
    cx, cy = (box.left + box.right) / 2 * scale, (box.top + box.bottom) / 2 * scale
    rect = QtCore.QRect(int(cx - side / 2), int(cy - side / 2), max(1, int(side)), max(1, int(side)))
    return image.copy(rect.intersected(image.rect()))
