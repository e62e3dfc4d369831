"""The one icon loader: semantic names -> Phosphor glyphs (QtAwesome), tinted by the theme.

Icons are font glyphs painted by QtAwesome's icon engine at the size and
device-pixel ratio asked for, so they stay sharp on high-DPI screens. Call
:func:`icon` for a QIcon, or :func:`use` to put one on a button or action and
have it re-tinted when the theme switches between light and dark.
"""

from __future__ import annotations

import weakref
from typing import Any

from companion.ui import theme
from companion.ui.qt import QtGui

# Semantic name -> Phosphor glyph (regular weight). docs/design.md lists the same table.
GLYPHS = {
    "chat": "ph.chat-circle-dots", "new-chat": "ph.note-pencil", "people": "ph.users-three",
    "person": "ph.user", "face": "ph.user-focus", "pet": "ph.paw-print", "thing": "ph.cube",
    "photos": "ph.image-square", "photo": "ph.image", "memories": "ph.brain", "persona": "ph.sparkle",
    "search": "ph.magnifying-glass", "settings": "ph.gear-six", "send": "ph.paper-plane-right",
    "stop": "ph.stop", "attach": "ph.paperclip", "copy": "ph.copy", "retry": "ph.arrow-clockwise",
    "reminder": "ph.bell-ringing", "temporary": "ph.eye-slash", "place": "ph.map-pin",
    "date": "ph.calendar-blank", "merge": "ph.git-merge", "edit": "ph.pencil-simple", "forget": "ph.trash",
    "folder": "ph.folder-simple-plus", "model": "ph.cpu", "index": "ph.arrows-clockwise",
    "close": "ph.x", "back": "ph.arrow-left", "menu": "ph.dots-three-outline", "check": "ph.check",
    "add": "ph.plus", "split": "ph.scissors", "info": "ph.info", "assistant": "ph.sparkle",
    "appearance": "ph.palette", "privacy": "ph.lock-simple", "hardware": "ph.desktop-tower",
    "download": "ph.download-simple", "open": "ph.folder-open", "ask": "ph.chat-centered-text",
    "warning": "ph.warning-circle", "sun": "ph.sun", "moon": "ph.moon", "system": "ph.desktop",
}

_cache: dict[tuple[str, str, str], QtGui.QIcon] = {}
_users: "weakref.WeakKeyDictionary[Any, tuple[str, str]]" = weakref.WeakKeyDictionary()


def icon(name: str, role: str = "text") -> QtGui.QIcon:
    """The icon for ``name`` in the theme colour ``role`` (text, muted, accent, on_accent, danger...)."""
    import qtawesome  # imported on first use: keeps it off the start-up path until an icon is needed

    tokens = theme.current()
    key = (name, role, tokens.name)
    cached = _cache.get(key)
    if cached is None:
        colour = getattr(tokens, role)
        cached = qtawesome.icon(GLYPHS[name], color=colour, color_active=colour, color_selected=colour,
                                color_disabled=tokens.border if role != "muted" else tokens.raised)
        _cache[key] = cached
    return cached


def use(target: Any, name: str, role: str = "text") -> Any:
    """Set ``icon(name, role)`` on ``target`` (anything with ``setIcon``) and keep it tinted with the theme."""
    target.setIcon(icon(name, role))
    _users[target] = (name, role)
    return target


def retint() -> None:
    """Re-apply every icon set with :func:`use` (called when the theme changes)."""
    for target, (name, role) in list(_users.items()):
        try:
            target.setIcon(icon(name, role))
        except RuntimeError:  # the C++ object is gone; the weak reference will follow
            continue


def pixmap(name: str, size: int, role: str = "text", ratio: float = 1.0) -> QtGui.QPixmap:
    """A crisp pixmap of the icon for painting (``ratio``: the device pixel ratio)."""
    side = max(1, round(size * ratio))
    result = icon(name, role).pixmap(side, side)
    result.setDevicePixelRatio(ratio)
    return result
