"""Settings ▸ Privacy: remembering conversations, what the user's other AI apps may do over MCP
(``companion mcp``: read-only unless writes are turned on, for every app or only the ones named), and the
activity list of every call they made, which the user can clear.

The choices are staged here and saved with the dialog's Save (``SettingsDialog.apply``); the activity list
is read and cleared at once, on a worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from companion.app import activity
from companion.ui.qt import QtWidgets
from companion.ui.widgets import button, label
from companion.ui.workers import WorkerPool

if TYPE_CHECKING:
    from companion.app.activity import ActivityEntry
    from companion.app.services import Services

COLUMNS = ("When", "App", "Asked", "Outcome")


class PrivacyPage(QtWidgets.QWidget):
    def __init__(self, services: Services, workers: WorkerPool, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.workers = workers
        settings = services.settings
        self.remember = QtWidgets.QCheckBox("Remember what I tell you in conversations")
        self.remember.setChecked(settings.remember_conversations)
        self.allow_writes = QtWidgets.QCheckBox("Let other apps add memories")
        self.allow_writes.setChecked(settings.mcp_allow_writes)
        self.allow_writes.setAccessibleName("Let other AI apps add memories over MCP")
        self.write_clients = QtWidgets.QLineEdit(", ".join(settings.mcp_write_clients))
        self.write_clients.setPlaceholderText("any app (or names, separated by commas)")
        self.write_clients.setAccessibleName("Only these apps may add memories")
        self.write_clients.setEnabled(settings.mcp_allow_writes)
        self.allow_writes.toggled.connect(self.write_clients.setEnabled)
        self.activity = QtWidgets.QTreeWidget()
        self.activity.setHeaderLabels(list(COLUMNS))
        self.activity.setRootIsDecorated(False)
        self.activity.setAccessibleName("What other apps asked")
        self.empty = label("No app has asked anything yet.", "muted")
        self.clear_button = button("Clear", "forget", "", self.clear_activity, "Delete the activity list")
        self.clear_button.setEnabled(False)

        only = QtWidgets.QHBoxLayout()
        only.addWidget(label("Only these apps:"))
        only.addWidget(self.write_clients, 1)
        heading = QtWidgets.QHBoxLayout()
        heading.addWidget(label("What other apps asked", "heading"))
        heading.addStretch(1)
        heading.addWidget(self.clear_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.remember)
        layout.addWidget(label("Everything stays on this computer. Use a temporary chat "
                               "to keep a single conversation out of memory.", "muted", wrap=True))
        layout.addSpacing(12)
        layout.addWidget(label("Other AI apps", "heading"))
        layout.addWidget(label("Apps such as Claude Desktop, LM Studio or Jan can look up your people, photos and "
                               "memories when you add Companion to them (command: companion mcp). They can only "
                               "read, and only photos in your watched folders, unless you allow more here. "
                               "Temporary chats and forgotten people are never shown to them.", "muted", wrap=True))
        layout.addWidget(self.allow_writes)
        layout.addLayout(only)
        layout.addLayout(heading)
        layout.addWidget(self.activity, 3)
        layout.addWidget(self.empty)
        layout.addStretch(1)     # an empty list is hidden: the space goes below, not between the lines
        self.load_activity()

    def write_client_names(self) -> list[str]:
        return [name.strip() for name in self.write_clients.text().split(",") if name.strip()]

    def load_activity(self) -> None:
        worker = self.workers.start(lambda _cancel: activity.recent(self.services), "read the activity list")
        worker.signals.finished.connect(self._show)

    def clear_activity(self) -> None:
        worker = self.workers.start(lambda _cancel: activity.clear(self.services), "clear the activity list")
        worker.signals.finished.connect(lambda _count: self._show([]))

    def _show(self, entries: Any) -> None:
        rows: list[ActivityEntry] = list(entries or [])
        self.activity.clear()
        for entry in rows:
            asked = f"{entry.tool} {entry.detail}".strip()
            outcome = entry.outcome if entry.outcome != "ok" else f"{entry.results} result{'s' * (entry.results != 1)}"
            item = QtWidgets.QTreeWidgetItem([entry.time.strftime("%Y-%m-%d %H:%M"), entry.client or "unnamed app",
                                              asked, outcome])
            item.setToolTip(2, asked)
            self.activity.addTopLevelItem(item)
        self.activity.setVisible(bool(rows))
        self.empty.setVisible(not rows)
        self.clear_button.setEnabled(bool(rows))
