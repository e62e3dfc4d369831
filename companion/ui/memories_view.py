"""Memories: everything the companion believes about the user, visible, editable, erasable.

A table of memories by kind and time with text search, edit and delete, and
the persona (Big-Five bars on a 1-5 scale) with a reset. Reads and writes run
on workers.
"""

from __future__ import annotations

from typing import Any

from companion.core.types import BIG_FIVE, MEMORY_KINDS, Memory, Persona
from companion.ui.qt import QtCore, QtWidgets, Signal, emit
from companion.ui.workers import Worker, WorkerPool

MEMORY_ID = QtCore.Qt.ItemDataRole.UserRole


def load_memories(services: Any, kind: str | None, text: str) -> tuple[list[Memory], Persona]:
    """Worker job: the memories matching the filters, and the persona."""
    store = services.store
    if text:
        memories = [m for m in (store.memories.get(i) for i, _score in store.memories.search_text(text, 200))
                    if m is not None and (kind is None or m.kind == kind)]
    else:
        memories = store.memories.list(kind, limit=1000)
    return memories, store.persona.get()


class PersonaPanel(QtWidgets.QGroupBox):
    """Big-Five bars with a reset button.

    Signals:
        reset_requested(): the user confirmed a reset.
    """

    reset_requested = Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("How I see you (Big Five, 1–5)", parent)
        form = QtWidgets.QFormLayout(self)
        self.bars: dict[str, QtWidgets.QProgressBar] = {}
        self.values: dict[str, QtWidgets.QLabel] = {}
        for trait in BIG_FIVE:
            bar = QtWidgets.QProgressBar()
            bar.setRange(100, 500)  # hundredths of the 1-5 scale
            bar.setMinimumWidth(160)
            # The score beside the bar, not on it: some styles draw the text where the bar's
            # colour ends, splitting "3.00" across two backgrounds.
            bar.setTextVisible(False)
            value = QtWidgets.QLabel()
            row = QtWidgets.QHBoxLayout()
            row.addWidget(bar, 1)
            row.addWidget(value)
            self.bars[trait], self.values[trait] = bar, value
            form.addRow(trait.title(), row)
        self.interactions = QtWidgets.QLabel()
        form.addRow(self.interactions)
        self.reset_button = QtWidgets.QPushButton("Reset…")
        self.reset_button.clicked.connect(self._confirm_reset)
        form.addRow(self.reset_button)

    def show_persona(self, persona: Persona) -> None:
        for trait, score in persona.scores().items():
            self.bars[trait].setValue(round(score * 100))
            self.values[trait].setText(f"{score:.2f}")
        self.interactions.setText(f"Learned from {persona.interactions} conversations" if persona.interactions
                                  else "Nothing learned yet: neutral")

    def _confirm_reset(self) -> None:
        answer = QtWidgets.QMessageBox.question(self, "Reset persona",
                                                "Reset the personality estimate to neutral?")
        if answer == QtWidgets.QMessageBox.StandardButton.Yes:
            emit(self.reset_requested)


class MemoriesView(QtWidgets.QWidget):
    """Memory list with kind filter, search, edit and delete, plus the persona.

    Signals:
        status(str): a message for the status bar.
        loaded(int): the table now shows this many memories.
    """

    status = Signal(str)
    loaded = Signal(int)

    def __init__(self, services: Any, workers: WorkerPool, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.workers = workers
        self.memories: list[Memory] = []
        self.kind = QtWidgets.QComboBox()
        self.kind.addItem("All kinds", None)
        for kind in MEMORY_KINDS:
            self.kind.addItem(kind.title(), kind)
        self.kind.activated.connect(lambda _i: self.reload())
        self.search = QtWidgets.QLineEdit(placeholderText="Search memories")
        self.search.returnPressed.connect(self.reload)
        self.table = QtWidgets.QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["When", "Kind", "Memory"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.doubleClicked.connect(lambda _i: self.edit_selected())
        self.edit_button = QtWidgets.QPushButton("Edit…")
        self.delete_button = QtWidgets.QPushButton("Delete…")
        self.edit_button.clicked.connect(self.edit_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.persona = PersonaPanel()
        self.persona.reset_requested.connect(self.reset_persona)

        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.kind)
        top.addWidget(self.search, 1)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        left = QtWidgets.QVBoxLayout()
        left.addLayout(top)
        left.addWidget(self.table, 1)
        left.addLayout(buttons)
        right = QtWidgets.QVBoxLayout()
        right.addWidget(self.persona)
        right.addStretch(1)
        layout = QtWidgets.QHBoxLayout(self)
        layout.addLayout(left, 3)
        layout.addLayout(right, 1)

    def reload(self) -> Worker:
        kind, text = self.kind.currentData(), self.search.text().strip()
        worker = self.workers.start(lambda _c: load_memories(self.services, kind, text), "load memories")
        worker.signals.finished.connect(self._show)
        worker.signals.failed.connect(self.status)
        return worker

    def _show(self, result: tuple[list[Memory], Persona] | None) -> None:
        if result is None:
            return
        self.memories, persona = result
        self.table.setRowCount(len(self.memories))
        for row, memory in enumerate(self.memories):
            when = memory.time.strftime("%Y-%m-%d %H:%M") if memory.time else ""
            cells = [when, memory.kind, memory.content + (f"  ({memory.place})" if memory.place else "")]
            for column, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                item.setData(MEMORY_ID, memory.id)
                self.table.setItem(row, column, item)
        self.persona.show_persona(persona)
        emit(self.loaded, len(self.memories))

    def selected(self) -> Memory | None:
        row = self.table.currentRow()
        return self.memories[row] if 0 <= row < len(self.memories) else None

    def select_memory(self, memory_id: int) -> None:
        """Select a memory (a source card was clicked); reloads with no filter if it is not shown."""
        for row, memory in enumerate(self.memories):
            if memory.id == memory_id:
                self.table.selectRow(row)
                return
        self.kind.setCurrentIndex(0)
        self.search.clear()
        self.reload().signals.finished.connect(lambda _r: any(
            self.table.selectRow(r) for r, m in enumerate(self.memories) if m.id == memory_id))

    def edit_selected(self) -> None:
        memory = self.selected()
        if memory is None:
            return
        text, ok = QtWidgets.QInputDialog.getMultiLineText(self, "Edit memory", "What should I remember?",
                                                           memory.content)
        if ok and text.strip():
            self.edit(memory.id, text.strip())

    def edit(self, memory_id: int, content: str) -> Worker:
        return self._run(lambda _c: self.services.store.memories.edit(memory_id, content=content), "Memory saved")

    def delete_selected(self) -> None:
        memory = self.selected()
        if memory is None:
            return
        answer = QtWidgets.QMessageBox.question(self, "Delete memory", f"Forget this for good?\n\n{memory.content}")
        if answer == QtWidgets.QMessageBox.StandardButton.Yes:
            self.delete(memory.id)

    def delete(self, memory_id: int) -> Worker:
        return self._run(lambda _c: self.services.store.forget_memory(memory_id), "Memory deleted")

    def reset_persona(self) -> Worker:
        return self._run(lambda _c: self.services.store.persona.reset(), "Persona reset to neutral")

    def _run(self, job: Any, done_message: str) -> Worker:
        worker = self.workers.start(job, "memories")
        worker.signals.finished.connect(lambda _r: (emit(self.status, done_message), self.reload()))
        worker.signals.failed.connect(lambda message: QtWidgets.QMessageBox.warning(self, "Memories", message))
        return worker
