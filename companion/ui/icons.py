"""The one icon loader: semantic names -> Phosphor glyphs, drawn in the theme's colours at any size.

The glyphs are the Phosphor icon font (MIT) that the QtAwesome package ships
with its charmap; this module loads that font file directly and paints glyphs
with a small QIconEngine. (QtAwesome's own API imports QtPy, whose enum shims
cost ~0.45 s at start-up; the font and its charmap are all the window needs.)
A glyph is painted when Qt asks for it, at the requested size and device-pixel
ratio, in the colour of the theme in force: icons are sharp on high-DPI
screens and follow light/dark without being recreated.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

from companion.ui import theme
from companion.ui.qt import Qt, QtCore, QtGui

FONT_FILE, CHARMAP_FILE = "phosphor-1.3.0.ttf", "phosphor-charmap-1.3.0.json"

# Semantic name -> Phosphor glyph (regular weight). docs/design.md lists the same table.
GLYPHS = {
    "chat": "chat-circle-dots", "new-chat": "note-pencil", "people": "users-three",
    "person": "user", "face": "user-focus", "pet": "paw-print", "thing": "cube",
    "photos": "image-square", "photo": "image", "memories": "brain", "persona": "sparkle",
    "search": "magnifying-glass", "settings": "gear-six", "send": "paper-plane-right",
    "stop": "stop", "attach": "paperclip", "copy": "copy", "retry": "arrow-clockwise",
    "reminder": "bell-ringing", "temporary": "eye-slash", "place": "map-pin",
    "date": "calendar-blank", "merge": "git-merge", "edit": "pencil-simple", "forget": "trash",
    "folder": "folder-simple-plus", "model": "cpu", "index": "arrows-clockwise",
    "close": "x", "back": "arrow-left", "menu": "dots-three-outline", "check": "check",
    "add": "plus", "split": "scissors", "info": "info", "assistant": "sparkle",
    "appearance": "palette", "privacy": "lock-simple", "hardware": "desktop-tower",
    "download": "download-simple", "open": "folder-open", "ask": "chat-centered-text",
    "warning": "warning-circle", "sun": "sun", "moon": "moon", "system": "desktop",
    "offline": "wifi-slash", "undo": "arrow-counter-clockwise",
}


def fonts_dir() -> Path:
    """QtAwesome's font folder, found without importing the package (also inside the frozen app)."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen and (Path(frozen) / "qtawesome" / "fonts").is_dir():
        return Path(frozen) / "qtawesome" / "fonts"
    spec = importlib.util.find_spec("qtawesome")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the QtAwesome package (icon fonts) is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "fonts"


@cache
def _font() -> tuple[str, dict[str, str]]:
    """(font family, glyph name -> character), loaded once."""
    folder = fonts_dir()
    font_id = QtGui.QFontDatabase.addApplicationFont(str(folder / FONT_FILE))
    families = QtGui.QFontDatabase.applicationFontFamilies(font_id)
    if not families:
        raise RuntimeError(f"cannot load the icon font {folder / FONT_FILE}")
    charmap = json.loads((folder / CHARMAP_FILE).read_text(encoding="utf-8"))
    return families[0], {name: chr(int(code, 16)) for name, code in charmap.items()}


def glyph(name: str) -> str:
    """The character of a semantic icon name (KeyError for a name not in :data:`GLYPHS`)."""
    return _font()[1][GLYPHS[name]]


class GlyphEngine(QtGui.QIconEngine):
    """Paints one glyph in a theme colour role, at whatever size and pixel ratio is asked."""

    def __init__(self, name: str, role: str) -> None:
        super().__init__()
        self.name, self.role = name, role

    def clone(self) -> "GlyphEngine":
        return GlyphEngine(self.name, self.role)

    def _colour(self, mode: QtGui.QIcon.Mode) -> QtGui.QColor:
        tokens = theme.current()
        colour = QtGui.QColor(getattr(tokens, self.role))
        if mode == QtGui.QIcon.Mode.Disabled:
            colour.setAlphaF(0.4)
        return colour

    def paint(self, painter: QtGui.QPainter, rect: QtCore.QRect, mode: QtGui.QIcon.Mode,
              _state: QtGui.QIcon.State) -> None:
        family, _chars = _font()
        font = QtGui.QFont(family)
        font.setPixelSize(max(1, round(min(rect.width(), rect.height()) * 0.94)))
        painter.save()
        painter.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing)
        painter.setFont(font)
        painter.setPen(self._colour(mode))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, glyph(self.name))
        painter.restore()

    def pixmap(self, size: QtCore.QSize, mode: QtGui.QIcon.Mode, state: QtGui.QIcon.State) -> QtGui.QPixmap:
        return self.scaledPixmap(size, mode, state, 1.0)

    def scaledPixmap(self, size: QtCore.QSize, mode: QtGui.QIcon.Mode, state: QtGui.QIcon.State,  # noqa: N802
                     scale: float) -> QtGui.QPixmap:
        result = QtGui.QPixmap(max(1, round(size.width() * scale)), max(1, round(size.height() * scale)))
        result.fill(Qt.GlobalColor.transparent)
        painter = QtGui.QPainter(result)
        self.paint(painter, QtCore.QRect(QtCore.QPoint(0, 0), result.size()), mode, state)
        painter.end()
        result.setDevicePixelRatio(scale)
        return result


def icon(name: str, role: str = "text") -> QtGui.QIcon:
    """The icon for ``name`` in the theme colour ``role`` (text, muted, accent, on_accent, danger...)."""
    if name not in GLYPHS:
        raise KeyError(f"no icon called {name!r} (see GLYPHS)")
    return QtGui.QIcon(GlyphEngine(name, role))


def use(target: Any, name: str, role: str = "text") -> Any:
    """Set ``icon(name, role)`` on ``target`` (anything with ``setIcon``); it follows the theme by itself."""
    target.setIcon(icon(name, role))
    return target


def pixmap(name: str, size: int, role: str = "text", ratio: float = 1.0) -> QtGui.QPixmap:
    """A crisp pixmap of the icon for labels and painting (``ratio``: the device pixel ratio)."""
    engine = GlyphEngine(name, role)
    return engine.scaledPixmap(QtCore.QSize(size, size), QtGui.QIcon.Mode.Normal, QtGui.QIcon.State.Off, ratio)
