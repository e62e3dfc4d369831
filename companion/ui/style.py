"""The application's one style sheet, built from the theme tokens (docs/design.md).

Widgets opt into a look with a ``role`` property (``button.setProperty("role",
"primary")``) or an object name for singletons (``#sidebar``); nothing else in
the UI sets a colour. Sizes come from ``theme.SPACE`` / ``RADIUS`` / ``TYPE``.
"""

from __future__ import annotations

from string import Template

from companion.ui import theme
from companion.ui.qt import QtWidgets

_SHEET = Template("""
QMainWindow, QDialog, QWidget#page, QStackedWidget, QScrollArea > QWidget > QWidget#column { background: $window; }
QWidget { color: $text; }
QToolTip { background: $surface; color: $text; border: 1px solid $border; padding: 4px 8px; border-radius: 6px; }
QFrame#sidebar { background: $sidebar; border: none; border-right: 1px solid $border; }
QFrame#header { background: $window; border: none; border-bottom: 1px solid $border; }
QStatusBar { background: $window; color: $muted; border-top: 1px solid $border; }
QStatusBar QLabel { color: $muted; }
QSplitter::handle { background: $border; }
QSplitter::handle:horizontal { width: 1px; }
QSplitter::handle:vertical { height: 1px; }

QLabel[role="display"] { font-size: ${display}pt; font-weight: 600; }
QLabel[role="title"] { font-size: ${title}pt; font-weight: 600; }
QLabel[role="heading"] { font-size: ${heading}pt; font-weight: 600; }
QLabel[role="caption"] { font-size: ${caption}pt; color: $muted; }
QLabel[role="muted"] { color: $muted; }
QLabel[role="link"] { color: $accent; }
QLabel[role="count"] { color: $muted; font-size: ${caption}pt; }
QLabel[role="badge"] { border-radius: 6px; padding: 1px 8px; font-size: ${caption}pt; font-weight: 600; }

QPushButton, QToolButton[role="button"] {
  background: $raised; color: $text; border: 1px solid $border; border-radius: 10px; padding: 6px 14px; }
QPushButton:hover, QToolButton[role="button"]:hover { background: $border; }
QPushButton:disabled { color: $muted; }
QPushButton[role="primary"] { background: $accent; color: $on_accent; border: 1px solid $accent; font-weight: 600; }
QPushButton[role="primary"]:hover { background: $accent_hover; border-color: $accent_hover; }
QPushButton[role="primary"]:disabled { background: $raised; color: $muted; border-color: $border; }
QPushButton[role="danger"] { color: $danger; }
QPushButton[role="flat"] { background: transparent; border: none; color: $accent; padding: 4px 8px; }
QPushButton[role="flat"]:hover { background: $raised; }
QPushButton[role="nav"] {
  background: transparent; border: none; border-radius: 10px; padding: 8px 10px; text-align: left; }
QPushButton[role="nav"]:hover { background: $raised; }
QPushButton[role="nav"]:checked { background: $accent_soft; color: $accent_text; font-weight: 600; }
QPushButton[role="chip"] {
  background: $surface; border: 1px solid $border; border-radius: 14px; padding: 4px 12px; }
QPushButton[role="chip"]:hover { background: $raised; }
QPushButton[role="chip"]:checked { background: $accent_soft; color: $accent_text; border-color: $accent; }
QToolButton { background: transparent; border: none; border-radius: 8px; padding: 4px; }
QToolButton:hover { background: $raised; }
QToolButton:checked { background: $accent_soft; }
QToolButton::menu-indicator { image: none; width: 0; }
QToolButton[role="send"] { background: $accent; border-radius: 18px; }
QToolButton[role="send"]:hover { background: $accent_hover; }
QToolButton[role="send"]:disabled { background: $raised; }

QLineEdit, QPlainTextEdit, QTextEdit, QComboBox, QSpinBox {
  background: $surface; color: $text; border: 1px solid $border; border-radius: 10px; padding: 6px 10px;
  selection-background-color: $accent; selection-color: $on_accent; }
QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus, QComboBox:focus, QSpinBox:focus { border-color: $accent; }
QLineEdit:disabled, QComboBox:disabled, QSpinBox:disabled { color: $muted; background: $raised; }
/* Styled spin boxes lose the platform's arrows and keep slivers of buttons: type, scroll or use the arrow keys. */
QSpinBox::up-button, QSpinBox::down-button { width: 0; border: none; }
QLineEdit[role="search"] { background: $raised; border-radius: 18px; padding: 7px 14px; }
QLineEdit[role="search"]:focus { background: $surface; }
QLineEdit[role="inline"] { padding: 3px 8px; border-radius: 8px; }
QComboBox::drop-down { border: none; width: 22px; }
QComboBox QAbstractItemView { background: $surface; border: 1px solid $border; selection-background-color: $accent_soft;
  selection-color: $accent_text; }

QFrame[role="card"] { background: $surface; border: 1px solid $border; border-radius: 10px; }
QFrame[role="panel"] { background: $surface; border: none; border-left: 1px solid $border; }
QFrame[role="composer"] { background: $surface; border: 1px solid $border; border-radius: 18px; }
QFrame[role="composer"] QPlainTextEdit { border: none; background: transparent; padding: 4px; }
QFrame[role="bubble-user"] { background: $accent; border: none; border-radius: 16px; }
QFrame[role="bubble-user"] QLabel { color: $on_accent; }
QFrame[role="bubble-assistant"] { background: $surface; border: 1px solid $border; border-radius: 16px; }
QFrame[role="reminder"] { background: $warn_bg; border: 1px solid $warn_border; border-radius: 10px; }
QFrame[role="reminder"] QLabel { color: $warn_text; }
QFrame[role="source"] { background: $surface; border: 1px solid $border; border-radius: 10px; }
QFrame[role="source"]:hover { border-color: $accent; }
QFrame[role="popup"] { background: $surface; border: 1px solid $border; border-radius: 12px; }
QFrame[role="notice"] { background: $accent_soft; border: none; border-radius: 10px; }
QFrame[role="notice"] QLabel { color: $accent_text; }

QListView, QTreeView, QTableView, QListWidget, QTableWidget {
  background: $surface; border: 1px solid $border; border-radius: 10px; outline: 0;
  selection-background-color: $accent_soft; selection-color: $accent_text; }
QListView[role="bare"], QAbstractScrollArea[role="bare"] { background: transparent; border: none; }
QListWidget#settingsNav { background: transparent; border: none; }
QListWidget#settingsNav::item { padding: 8px 10px; border-radius: 8px; }
QListWidget#settingsNav::item:selected { background: $accent_soft; color: $accent_text; }
QHeaderView::section { background: $window; color: $muted; border: none; border-bottom: 1px solid $border;
  padding: 6px 8px; }
QScrollArea { background: transparent; border: none; }

QScrollBar:vertical { background: transparent; width: 10px; margin: 2px; }
QScrollBar:horizontal { background: transparent; height: 10px; margin: 2px; }
QScrollBar::handle { background: $border; border-radius: 3px; min-height: 32px; min-width: 32px; }
QScrollBar::handle:hover { background: $muted; }
QScrollBar::add-line, QScrollBar::sub-line { width: 0; height: 0; }
QScrollBar::add-page, QScrollBar::sub-page { background: transparent; }

QProgressBar { background: $raised; border: none; border-radius: 4px; height: 8px; color: transparent; }
QProgressBar::chunk { background: $accent; border-radius: 4px; }
QProgressBar[role="trait"] { height: 10px; border-radius: 5px; max-height: 10px; }
QProgressBar[role="trait"]::chunk { border-radius: 5px; }

QMenu { background: $surface; border: 1px solid $border; border-radius: 10px; padding: 6px; }
QMenu::item { padding: 6px 24px 6px 12px; border-radius: 6px; }
QMenu::item:selected { background: $accent_soft; color: $accent_text; }
QMenu::separator { height: 1px; background: $border; margin: 4px 8px; }
QTabWidget::pane { border: 1px solid $border; border-radius: 10px; background: $surface; }
QTabBar::tab { background: transparent; padding: 8px 14px; color: $muted; border: none; }
QTabBar::tab:selected { color: $accent_text; border-bottom: 2px solid $accent; }
QCheckBox, QRadioButton { spacing: 8px; }
QCheckBox::indicator, QRadioButton::indicator { width: 14px; height: 14px; background: $surface;
  border: 2px solid $muted; }
QRadioButton::indicator { border-radius: 9px; }
QCheckBox::indicator { border-radius: 4px; }
QCheckBox::indicator:checked, QRadioButton::indicator:checked { background: $accent; border-color: $accent; }
/* A ring with a dot: the dot is a radial gradient, so the indicator keeps its round 18 px box. */
QRadioButton::indicator:checked { background: qradialgradient(cx:0.5, cy:0.5, radius:0.5, fx:0.5, fy:0.5,
  stop:0 $accent, stop:0.5 $accent, stop:0.56 $surface, stop:1 $surface); }
""")


def sheet(tokens: theme.Tokens) -> str:
    """The whole style sheet for ``tokens``, with font sizes relative to the system's body size."""
    base = QtWidgets.QApplication.font().pointSizeF()
    base = base if base > 0 else 10.0
    sizes = {role: f"{max(7.0, base + offset):.1f}" for role, offset in theme.TYPE.items()}
    colours = {name: getattr(tokens, name) for name in (
        "window", "sidebar", "surface", "raised", "border", "text", "muted", "accent", "accent_hover",
        "on_accent", "accent_soft", "accent_text", "warn_bg", "warn_border", "warn_text", "danger", "success")}
    badges = "".join(f'QLabel[role="badge"][kind="{kind}"] {{ background: {bg}; color: {fg}; }}\n'
                     for kind, bg, fg in tokens.kinds)
    return _SHEET.substitute(colours, **sizes) + badges
