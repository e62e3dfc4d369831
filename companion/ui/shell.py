"""The window's frame: the sidebar (navigation with icons and counts) and the header (title and search).

Only layout and looks live here; ``main_window`` wires them to the views.
"""

from __future__ import annotations

from companion.ui import icons, theme
from companion.ui.qt import Qt, QtCore, QtGui, QtWidgets, Signal, emit
from companion.ui.widgets import human_count, label, tool


class NavButton(QtWidgets.QPushButton):
    """One navigation entry: icon, name and a count on the right ("Photos  3,412")."""

    def __init__(self, icon_name: str, text: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "nav")
        self.setCheckable(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.name = text
        self.icon_label = QtWidgets.QLabel()
        self.icon_name = icon_name
        self.text_label = QtWidgets.QLabel(text)
        self.count_label = label("", "count")
        for child in (self.icon_label, self.text_label, self.count_label):
            child.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(10, 7, 10, 7)
        row.setSpacing(10)
        row.addWidget(self.icon_label)
        row.addWidget(self.text_label, 1)
        row.addWidget(self.count_label)
        self.setMinimumHeight(38)
        self.toggled.connect(lambda _on: self.retint())
        self.retint()
        self.set_count(None)

    def retint(self) -> None:
        role = "accent_text" if self.isChecked() else "muted"
        self.icon_label.setPixmap(icons.pixmap(self.icon_name, 20, role, self.devicePixelRatioF() or 1.0))
        font = self.text_label.font()
        font.setWeight(QtGui.QFont.Weight.DemiBold if self.isChecked() else QtGui.QFont.Weight.Normal)
        self.text_label.setFont(font)
        colour = theme.current().accent_text if self.isChecked() else theme.current().text
        self.text_label.setStyleSheet(f"color: {colour};")  # follows the checked state; tokens only

    def set_count(self, count: int | None) -> None:
        self.count_label.setText(human_count(count) if count else "")
        self.setAccessibleName(f"{self.name}, {human_count(count)}" if count else self.name)


class Sidebar(QtWidgets.QFrame):
    """The navigation column.

    Signals:
        selected(int): a view was chosen.
    """

    selected = Signal(int)

    def __init__(self, views: list[tuple[str, str]], parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        self.setFixedWidth(224)
        self.buttons: list[NavButton] = []
        self.group = QtWidgets.QButtonGroup(self)
        self.group.setExclusive(True)
        column = QtWidgets.QVBoxLayout(self)
        column.setContentsMargins(12, 16, 12, 12)
        column.setSpacing(2)
        brand = QtWidgets.QHBoxLayout()
        self.logo = QtWidgets.QLabel()
        brand.addWidget(self.logo)
        brand.addWidget(label("Companion", "heading"), 1)
        column.addLayout(brand)
        column.addSpacing(theme.SPACE["l"])
        for index, (icon_name, text) in enumerate(views):
            nav = NavButton(icon_name, text)
            self.group.addButton(nav, index)
            self.buttons.append(nav)
            column.addWidget(nav)
        self.group.idClicked.connect(lambda i: emit(self.selected, i))
        column.addStretch(1)
        self.activity = QtWidgets.QWidget()           # indexing progress, shown while it runs
        self.activity_layout = QtWidgets.QVBoxLayout(self.activity)
        self.activity_layout.setContentsMargins(4, 4, 4, 8)
        column.addWidget(self.activity)
        self.settings = NavButton("settings", "Settings")
        self.settings.setCheckable(False)
        column.addWidget(self.settings)
        self.retint()

    def retint(self) -> None:
        self.logo.setPixmap(icons.pixmap("assistant", 22, "accent", self.devicePixelRatioF() or 1.0))
        for nav in [*self.buttons, self.settings]:
            nav.retint()

    def select(self, index: int) -> None:
        if 0 <= index < len(self.buttons):
            self.buttons[index].setChecked(True)

    def current(self) -> int:
        return self.group.checkedId()


class Header(QtWidgets.QFrame):
    """Page title on the left, the search-everything box in the middle, page actions on the right."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("header")
        self.title = label("", "title")
        self.search = QtWidgets.QLineEdit()
        self.search.setProperty("role", "search")
        shortcut = QtGui.QKeySequence("Ctrl+K").toString(QtGui.QKeySequence.SequenceFormat.NativeText)
        self.search.setPlaceholderText(f"Search people, photos and memories   {shortcut}")
        self.search.setAccessibleName("Search people, photos and memories")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(300)
        self.search.setMaximumWidth(560)
        self.search_icon = self.search.addAction(icons.icon("search", "muted"),
                                                 QtWidgets.QLineEdit.ActionPosition.LeadingPosition)
        icons.use(self.search_icon, "search", "muted")
        self.actions_row = QtWidgets.QHBoxLayout()
        self.actions_row.setSpacing(4)
        self.menu_button = tool("menu", "More")
        self.menu_button.setPopupMode(QtWidgets.QToolButton.ToolButtonPopupMode.InstantPopup)
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(24, 10, 16, 10)
        row.setSpacing(12)
        row.addWidget(self.title)
        row.addStretch(1)
        row.addWidget(self.search, 3)
        row.addStretch(1)
        row.addLayout(self.actions_row)
        row.addWidget(self.menu_button)
        self.setFixedHeight(60)

    def add_action(self, widget: QtWidgets.QWidget) -> QtWidgets.QWidget:
        self.actions_row.addWidget(widget)
        return widget

    def search_anchor(self) -> QtCore.QRect:
        """The search box's rectangle in the window's coordinates (where the results panel hangs)."""
        top_left = self.search.mapTo(self.window(), QtCore.QPoint(0, 0))
        return QtCore.QRect(top_left, self.search.size())
