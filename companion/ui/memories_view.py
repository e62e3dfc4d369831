"""Memories: everything the companion believes about the user, visible, editable, erasable.

A day-grouped timeline of memory cards (kind badges in plain words), filter
chips for the kinds, a search box, edit and forget; beside it the persona.
Reads and writes run on workers through ``companion.app.memories``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from companion.app import memories
from companion.core.types import MEMORY_KINDS, Memory
from companion.ui import theme
from companion.ui.memory_timeline import ITEM, Timeline, build_model
from companion.ui.persona_panel import PersonaPanel
from companion.ui.qt import QtWidgets, Signal, emit
from companion.ui.widgets import EmptyState, button, chip
from companion.ui.workers import Worker, WorkerPool

if TYPE_CHECKING:
    from companion.app.services import Services


class MemoriesView(QtWidgets.QWidget):
    """Timeline with kind chips, search, edit and forget, plus the persona.

    Signals:
        status(str): a message for the status bar.
        loaded(int): the timeline now shows this many memories.
        changed(): a memory was edited or forgotten, or the persona reset.
    """

    status = Signal(str)
    loaded = Signal(int)
    changed = Signal()

    def __init__(self, services: Services, workers: WorkerPool, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.services, self.workers = services, workers
        self.memories: list[Memory] = []
        self.kind_filter: str | None = None
        self._generation = 0
        self._pending: int | None = None     # a memory to select once the timeline shows it
        self.kind_chips: dict[str | None, QtWidgets.QPushButton] = {}
        chips = QtWidgets.QHBoxLayout()
        chips.setSpacing(6)
        for kind in (None, *MEMORY_KINDS):
            kind_chip = chip("All" if kind is None else theme.KIND_LABELS[kind])
            kind_chip.setToolTip("Every memory" if kind is None else f"Memories of the kind “{kind}”")
            kind_chip.clicked.connect(lambda _on, k=kind: self.set_kind(k))
            chips.addWidget(kind_chip)
            self.kind_chips[kind] = kind_chip
        chips.addStretch(1)
        self.search = QtWidgets.QLineEdit(placeholderText="Search memories")
        self.search.setAccessibleName("Search memories")
        self.search.setClearButtonEnabled(True)
        self.search.setMaximumWidth(280)
        self.search.returnPressed.connect(self.reload)
        chips.addWidget(self.search)
        self.timeline = Timeline()
        self.timeline.doubleClicked.connect(lambda _i: self.edit_selected())
        self.timeline.selectionModel().selectionChanged.connect(lambda *_a: self._update_buttons())
        self.edit_button = button("Edit…", "edit", slot=self.edit_selected)
        self.delete_button = button("Forget…", "forget", "danger", slot=self.delete_selected)
        actions = QtWidgets.QHBoxLayout()
        actions.addStretch(1)
        actions.addWidget(self.edit_button)
        actions.addWidget(self.delete_button)
        self.empty = EmptyState("memories", "Nothing remembered yet",
                                "As you chat, Companion keeps short notes about people, places and what you did. "
                                "They appear here, and you can edit or forget any of them.")
        self.pages = QtWidgets.QStackedWidget()
        self.pages.addWidget(self.timeline)
        self.pages.addWidget(self.empty)
        left = QtWidgets.QVBoxLayout()
        left.setContentsMargins(24, 12, 24, 12)
        left.addLayout(chips)
        left.addWidget(self.pages, 1)
        left.addLayout(actions)
        self.persona = PersonaPanel()
        self.persona.reset_requested.connect(self.reset_persona)
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addLayout(left, 1)
        row.addWidget(self.persona)
        self._check_chips()
        self._update_buttons()

    # ---- loading ----------------------------------------------------------------------

    def set_kind(self, kind: str | None) -> Worker:
        self.kind_filter = kind
        self._check_chips()
        return self.reload()

    def _check_chips(self) -> None:
        for kind, kind_chip in self.kind_chips.items():
            kind_chip.setChecked(kind == self.kind_filter)

    def reload(self) -> Worker:
        kind, text = self.kind_filter, self.search.text().strip()
        self._generation += 1
        generation = self._generation

        def job(_c: Any) -> Any:
            items, persona = memories.memories(self.services, kind, text)
            return items, persona, memories.tone(persona)

        worker = self.workers.start(job, "load memories")
        def loaded(result: Any) -> None:
            if generation == self._generation:   # a newer load replaced this one
                self._show(result)

        worker.signals.finished.connect(loaded)
        worker.signals.failed.connect(self.status)
        return worker

    def _show(self, result: Any) -> None:
        if result is None:
            return
        items, persona, tone = result
        self.memories = [item.memory for item in items]
        build_model(items, self.timeline.model_)
        filtered = self.kind_filter is not None or bool(self.search.text().strip())
        self.pages.setCurrentWidget(self.timeline if items or filtered else self.empty)
        self.persona.show_persona(persona, tone)
        if self._pending is not None and self.select_row(self._pending):
            self._pending = None
        self._update_buttons()
        emit(self.loaded, len(items))

    # ---- selection --------------------------------------------------------------------

    def selected(self) -> Memory | None:
        index = self.timeline.currentIndex()
        item = index.data(ITEM) if index.isValid() and self.timeline.selectionModel().isSelected(index) else None
        return item.memory if item is not None else None

    def select_row(self, memory_id: int) -> bool:
        model = self.timeline.model_
        for row in range(model.rowCount()):
            item = model.item(row).data(ITEM)
            if item is not None and item.memory.id == memory_id:
                index = model.index(row, 0)
                self.timeline.setCurrentIndex(index)
                self.timeline.scrollTo(index, QtWidgets.QAbstractItemView.ScrollHint.PositionAtCenter)
                return True
        return False

    def select_memory(self, memory_id: int) -> None:
        """Select a memory (a source card was clicked); reloads with no filter if it is not shown."""
        if self.select_row(memory_id):
            return
        self._pending = memory_id
        self.kind_filter = None
        self._check_chips()
        self.search.clear()
        self.reload()

    def _update_buttons(self) -> None:
        has = self.selected() is not None
        self.edit_button.setEnabled(has)
        self.delete_button.setEnabled(has)

    # ---- changes ----------------------------------------------------------------------

    def edit_selected(self) -> None:
        memory = self.selected()
        if memory is None:
            return
        text, ok = QtWidgets.QInputDialog.getMultiLineText(self, "Edit memory", "What should I remember?",
                                                           memory.content)
        if ok and text.strip():
            self.edit(memory.id, text.strip())

    def edit(self, memory_id: int, content: str) -> Worker:
        return self._run(lambda _c: memories.edit_memory(self.services, memory_id, content), "Memory saved")

    def delete_selected(self) -> None:
        memory = self.selected()
        if memory is None:
            return
        answer = QtWidgets.QMessageBox.question(self, "Forget memory", f"Forget this for good?\n\n{memory.content}")
        if answer == QtWidgets.QMessageBox.StandardButton.Yes:
            self.delete(memory.id)

    def delete(self, memory_id: int) -> Worker:
        return self._run(lambda _c: memories.forget_memory(self.services, memory_id), "Memory forgotten")

    def reset_persona(self) -> Worker:
        return self._run(lambda _c: memories.reset_persona(self.services), "Persona reset to neutral")

    def _run(self, job: Any, done_message: str) -> Worker:
        worker = self.workers.start(job, "memories")
        def done(_result: object) -> None:
            emit(self.status, done_message)
            emit(self.changed)
            self.reload()

        worker.signals.finished.connect(done)
        worker.signals.failed.connect(lambda message: QtWidgets.QMessageBox.warning(self, "Memories", message))
        return worker



