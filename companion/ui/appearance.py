"""Applies the design tokens to the application: light, dark or the system's, and follows the system.

:class:`Theme` sets the palette (``theme.palette``) and the style sheet
(``style.sheet``) for the tokens of the chosen mode, makes them what
``theme.current()`` returns, and emits ``changed`` so painted views refresh.
Icons need nothing: their glyphs read the colours in force when painted.
"""

from __future__ import annotations

from companion.ui import style, theme
from companion.ui.qt import QObject, QtGui, QtWidgets, Signal, emit


class Theme(QObject):
    """Applies light or dark to the application and keeps following the system when asked to.

    Signals:
        changed(object): the new :class:`~companion.ui.theme.Tokens`, after the palette and style sheet changed.
    """

    changed = Signal(object)

    def __init__(self, app: QtWidgets.QApplication, mode: str = "system") -> None:
        super().__init__(app)
        self.app = app
        self.mode = mode if mode in theme.MODES else "system"
        hints = QtGui.QGuiApplication.styleHints()
        if hints is not None:
            hints.colorSchemeChanged.connect(self._system_changed)
        self.apply()

    @property
    def tokens(self) -> theme.Tokens:
        if self.mode == "system":
            return theme.DARK if theme.system_is_dark() else theme.LIGHT
        return theme.DARK if self.mode == "dark" else theme.LIGHT

    def set_mode(self, mode: str) -> None:
        """``system``, ``light`` or ``dark``; anything else is refused with ValueError."""
        if mode not in theme.MODES:
            raise ValueError(f"unknown appearance {mode!r}; use one of {', '.join(theme.MODES)}")
        self.mode = mode
        self.apply()

    def apply(self) -> None:
        tokens = self.tokens
        changed = theme.set_current(tokens) or not self.app.styleSheet()
        self.app.setPalette(theme.palette(tokens))
        self.app.setStyleSheet(style.sheet(tokens))
        if changed:
            emit(self.changed, tokens)

    def _system_changed(self, _scheme: object) -> None:
        if self.mode == "system":
            self.apply()


_theme: Theme | None = None


def install(app: QtWidgets.QApplication, mode: str = "system") -> Theme:
    """Create (once) and return the application's theme; later calls change its mode."""
    global _theme
    if _theme is None or _theme.app is not app:
        _theme = Theme(app, mode)
    else:
        _theme.set_mode(mode if mode in theme.MODES else "system")
    return _theme


def manager() -> Theme | None:
    """The installed theme, if any (widgets connect to its ``changed`` signal)."""
    return _theme
