"""The design tokens (docs/design.md): colours for light and dark, spacing, radii, the type scale.

Widgets never hard-code colours or font sizes. They read :func:`current` (a
:class:`Tokens`) when they paint, or set a ``role`` property that the style sheet
(``companion.ui.style``) knows. ``companion.ui.appearance`` applies the tokens
(this module's palette and that style sheet) and sets what :func:`current` returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from companion.ui.qt import Qt, QtGui, QtWidgets

MODES = ("system", "light", "dark")
SPACE = {"xs": 4, "s": 8, "m": 12, "l": 16, "xl": 24, "xxl": 32}
RADIUS = {"sm": 6, "md": 10, "lg": 16, "full": 999}
# Point-size offsets from the system's body size (docs/design.md, "Type").
TYPE = {"display": 9, "title": 5, "heading": 2, "body": 0, "caption": -1}


@dataclass(frozen=True)
class Tokens:
    """Every colour of one theme, as ``#rrggbb`` strings (see the table in docs/design.md)."""

    name: str
    window: str
    sidebar: str
    surface: str
    raised: str
    border: str
    text: str
    muted: str
    accent: str
    accent_hover: str
    on_accent: str
    accent_soft: str
    accent_text: str
    warn_bg: str
    warn_border: str
    warn_text: str
    danger: str
    success: str
    # memory kind -> (badge background, badge text)
    kinds: tuple[tuple[str, str, str], ...]

    @property
    def dark(self) -> bool:
        return self.name == "dark"

    def color(self, name: str) -> QtGui.QColor:
        return QtGui.QColor(getattr(self, name))

    def kind(self, kind: str) -> tuple[str, str]:
        for key, background, text in self.kinds:
            if key == kind:
                return background, text
        return self.raised, self.muted


LIGHT = Tokens(
    "light", window="#F7F7F9", sidebar="#EFEFF3", surface="#FFFFFF", raised="#F2F2F6", border="#E2E2E9",
    text="#1B1B21", muted="#6A6A78", accent="#4F46E5", accent_hover="#4338CA", on_accent="#FFFFFF",
    accent_soft="#ECEBFF", accent_text="#3B34B8", warn_bg="#FFF5DB", warn_border="#F2C14E", warn_text="#6B4700",
    danger="#D92D20", success="#12875A",
    kinds=(("semantic", "#E3EEFF", "#1F4FB8"), ("episodic", "#F3E8FF", "#7A2DB8"),
           ("procedural", "#E2F6EC", "#136C45"), ("core", "#FFF0DF", "#98530A")))
DARK = Tokens(
    "dark", window="#131318", sidebar="#18181F", surface="#1D1D25", raised="#262630", border="#30303C",
    text="#ECECF2", muted="#9D9DAE", accent="#7C7CF8", accent_hover="#9494FA", on_accent="#0E0E1A",
    accent_soft="#2A2A4D", accent_text="#C9C9FF", warn_bg="#3A2F12", warn_border="#9A7421", warn_text="#F7E2A6",
    danger="#F97066", success="#47CD89",
    kinds=(("semantic", "#1C2A46", "#A9C5FF"), ("episodic", "#33204A", "#DDB8FF"),
           ("procedural", "#15342A", "#8EE0B8"), ("core", "#3A2815", "#F8C890")))

KIND_LABELS = {"semantic": "Fact", "episodic": "Moment", "procedural": "Habit", "core": "About you"}

_current: Tokens = LIGHT


def current() -> Tokens:
    """The tokens in force now (light until ``appearance.Theme`` applies something else)."""
    return _current


def set_current(tokens: Tokens) -> bool:
    """Make ``tokens`` the ones in force (``appearance.Theme`` calls it); True when they changed."""
    global _current
    changed, _current = tokens is not _current, tokens
    return changed


def font(role: str = "body", *, bold: bool | None = None) -> QtGui.QFont:
    """The application font at a type-scale role; headings and titles are semibold."""
    result = QtGui.QFont(QtWidgets.QApplication.font())
    base = result.pointSizeF() if result.pointSizeF() > 0 else 10.0
    result.setPointSizeF(max(7.0, base + TYPE[role]))
    if bold if bold is not None else role in ("display", "title", "heading"):
        result.setWeight(QtGui.QFont.Weight.DemiBold)
    return result


def palette(tokens: Tokens) -> QtGui.QPalette:
    """A QPalette from the tokens, so widgets the style sheet does not reach still match."""
    pal = QtGui.QPalette()
    roles = QtGui.QPalette.ColorRole
    for role, name in ((roles.Window, "window"), (roles.WindowText, "text"), (roles.Base, "surface"),
                       (roles.AlternateBase, "raised"), (roles.Text, "text"), (roles.Button, "raised"),
                       (roles.ButtonText, "text"), (roles.Highlight, "accent"), (roles.HighlightedText, "on_accent"),
                       (roles.ToolTipBase, "surface"), (roles.ToolTipText, "text"), (roles.PlaceholderText, "muted"),
                       (roles.Link, "accent"), (roles.Mid, "border"), (roles.Midlight, "raised"),
                       (roles.Dark, "border"), (roles.Light, "surface"), (roles.BrightText, "on_accent")):
        pal.setColor(role, tokens.color(name))
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        pal.setColor(QtGui.QPalette.ColorGroup.Disabled, role, tokens.color("muted"))
    return pal


def system_is_dark() -> bool:
    """What the desktop asks for (Qt 6.5+); an unknown scheme counts as light."""
    hints = QtGui.QGuiApplication.styleHints()
    return hints is not None and hints.colorScheme() == Qt.ColorScheme.Dark
