"""Concept cards (name, category, info, reference photos): add, edit, forget.

Edits go through the store on a worker and show at once (RAP: no training,
a changed card is used by the next answer). Forget asks first, then removes
the concept everywhere through ``app.concepts.forget_concept``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from companion.app import concepts
from companion.core.types import CATEGORIES, Concept
from companion.ui import images
from companion.ui.qt import QtCore, QtGui, QtWidgets, Signal, emit
from companion.ui.workers import WorkerPool

CONCEPT_ID = QtCore.Qt.ItemDataRole.UserRole


@dataclass
class CardData:
    """A concept with its reference images, loaded off the GUI thread."""

    concept: Concept
    ref_paths: list[str] = field(default_factory=list)
    icon: QtGui.QImage = field(default_factory=QtGui.QImage)


def load_cards(services: Any) -> list[CardData]:
    """Worker job: every concept card with its first reference image."""
    cards = []
    for concept in services.store.concepts.list():
        refs = [r.image_path for r in services.store.concepts.refs(concept.id) if r.image_path]
        icon = images.load_image(refs[0], 96) if refs else QtGui.QImage()
        cards.append(CardData(concept, refs, icon))
    return cards


class ConceptDialog(QtWidgets.QDialog):
    """Add or edit one card; reference photos can only be added (forget the concept to drop them)."""

    def __init__(self, card: CardData | None = None, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit card" if card else "Add a person, pet or thing")
        self.name = QtWidgets.QLineEdit(card.concept.name if card else "")
        self.category = QtWidgets.QComboBox()
        self.category.addItems(list(CATEGORIES))
        if card:
            self.category.setCurrentText(card.concept.category)
        self.info = QtWidgets.QPlainTextEdit(card.concept.info if card else "")
        self.info.setPlaceholderText("A short description the companion reads, e.g. 'my sister, loves hiking'")
        self.existing = list(card.ref_paths) if card else []
        self.new_images: list[str] = []
        self.refs = QtWidgets.QListWidget()
        self.refs.setViewMode(QtWidgets.QListView.ViewMode.IconMode)
        self.refs.setIconSize(QtCore.QSize(64, 64))
        self.refs.setMaximumHeight(100)
        for path in self.existing:
            self.refs.addItem(QtWidgets.QListWidgetItem(QtGui.QIcon(path), ""))
        add_photo = QtWidgets.QPushButton("Add reference photo…")
        add_photo.clicked.connect(self._pick_photo)
        form = QtWidgets.QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Category", self.category)
        form.addRow("About", self.info)
        form.addRow("Reference photos", self.refs)
        form.addRow("", add_photo)
        self.buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                                  | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.name.textChanged.connect(lambda t: self.buttons.button(
            QtWidgets.QDialogButtonBox.StandardButton.Ok).setEnabled(bool(t.strip())))
        emit(self.name.textChanged, self.name.text())
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)

    def add_image(self, path: str) -> None:
        self.new_images.append(path)
        self.refs.addItem(QtWidgets.QListWidgetItem(QtGui.QIcon(path), ""))

    def _pick_photo(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Reference photo", str(Path.home()),
                                                        "Images (*.jpg *.jpeg *.png *.webp *.heic)")
        if path:
            self.add_image(path)

    def values(self) -> tuple[str, str, str, list[str]]:
        return self.name.text().strip(), self.category.currentText(), self.info.toPlainText().strip(), \
            list(self.new_images)


class ConceptsView(QtWidgets.QWidget):
    """The cards the companion knows, with add, edit and forget.

    Signals:
        status(str): a message for the status bar.
        changed(): a card was added, edited or forgotten.
    """

    status = Signal(str)
    changed = Signal()

    def __init__(self, services: Any, workers: WorkerPool, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.workers = workers
        self.cards: list[CardData] = []
        self.list = QtWidgets.QListWidget()
        self.list.setViewMode(QtWidgets.QListView.ViewMode.IconMode)
        self.list.setIconSize(QtCore.QSize(72, 72))
        self.list.setGridSize(QtCore.QSize(150, 130))
        self.list.setWordWrap(True)
        self.list.setResizeMode(QtWidgets.QListView.ResizeMode.Adjust)
        self.list.setMovement(QtWidgets.QListView.Movement.Static)
        self.list.itemDoubleClicked.connect(lambda _item: self.edit_selected())
        self.add_button = QtWidgets.QPushButton("Add…")
        self.edit_button = QtWidgets.QPushButton("Edit…")
        self.forget_button = QtWidgets.QPushButton("Forget…")
        self.add_button.clicked.connect(self.add_card)
        self.edit_button.clicked.connect(self.edit_selected)
        self.forget_button.clicked.connect(self.forget_selected)
        buttons = QtWidgets.QHBoxLayout()
        for button in (self.add_button, self.edit_button, self.forget_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(QtWidgets.QLabel("<b>People, pets and things</b>"))
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)

    def reload(self) -> Any:
        worker = self.workers.start(lambda _cancel: load_cards(self.services), "load concepts")
        worker.signals.finished.connect(self._show)
        worker.signals.failed.connect(self.status)
        return worker

    def _show(self, cards: list[CardData] | None) -> None:
        self.cards = cards or []
        self.list.clear()
        for card in self.cards:
            concept = card.concept
            info = concept.info if len(concept.info) < 40 else concept.info[:37] + "…"
            item = QtWidgets.QListWidgetItem(QtGui.QIcon(images.pixmap(card.icon, concept.name)),
                                             f"{concept.name}\n{concept.category}" + (f"\n{info}" if info else ""))
            item.setToolTip(concept.info)
            item.setData(CONCEPT_ID, concept.id)
            self.list.addItem(item)

    def selected(self) -> CardData | None:
        item = self.list.currentItem()
        if item is None:
            return None
        concept_id = int(item.data(CONCEPT_ID))
        return next((c for c in self.cards if c.concept.id == concept_id), None)

    def select(self, concept_id: int) -> None:
        for row in range(self.list.count()):
            if int(self.list.item(row).data(CONCEPT_ID)) == concept_id:
                self.list.setCurrentRow(row)

    # ---- actions ----------------------------------------------------------------------

    def add_card(self) -> None:
        dialog = ConceptDialog(parent=self)
        if dialog.exec() == QtWidgets.QDialog.DialogCode.Accepted:
            self.save(None, *dialog.values())

    def edit_selected(self) -> None:
        card = self.selected()
        if card is None:
            return
        dialog = ConceptDialog(card, self)
        if dialog.exec() == QtWidgets.QDialog.DialogCode.Accepted:
            self.save(card.concept.id, *dialog.values())

    def save(self, concept_id: int | None, name: str, category: str, info: str, new_images: list[str]) -> Any:
        """Add (``concept_id`` None) or edit a card on a worker; the list reloads when done."""
        def job(_cancel: Any) -> Any:
            if concept_id is None:
                return concepts.add_concept(self.services, name, category, info, [Path(p) for p in new_images])
            concept = self.services.store.concepts.edit(concept_id, name=name, category=category, info=info)
            for path in new_images:
                concepts.add_concept_key(self.services, concept_id, Path(path))
            return concept
        return self._run(job, f"Saved {name}")

    def forget_selected(self) -> None:
        card = self.selected()
        if card is None:
            return
        answer = QtWidgets.QMessageBox.question(
            self, "Forget", f"Forget {card.concept.name}? Their card, reference photos, face group, memories "
            "and the messages that mention them are removed for good.",
            QtWidgets.QMessageBox.StandardButton.Yes | QtWidgets.QMessageBox.StandardButton.No,
            QtWidgets.QMessageBox.StandardButton.No)
        if answer == QtWidgets.QMessageBox.StandardButton.Yes:
            self.forget(card.concept.id, card.concept.name)

    def forget(self, concept_id: int, name: str) -> Any:
        return self._run(lambda _c: concepts.forget_concept(self.services, concept_id), f"Forgot {name}")

    def _run(self, job: Any, done_message: str) -> Any:
        worker = self.workers.start(job, "concepts")
        worker.signals.finished.connect(lambda _r: (emit(self.status, done_message), emit(self.changed),
                                                    self.reload()))
        worker.signals.failed.connect(lambda message: QtWidgets.QMessageBox.warning(self, "Could not save", message))
        return worker
