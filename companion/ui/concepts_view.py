"""The card editor: name, category, a short description and reference photos of a person, pet or thing.

``PeopleView`` opens it to add or edit a card and saves the result on a worker
(RAP: no training; a changed card is used by the next answer).
"""

from __future__ import annotations

from pathlib import Path

from companion.core.types import CATEGORIES, Concept
from companion.ui.qt import QtCore, QtGui, QtWidgets, emit


class ConceptDialog(QtWidgets.QDialog):
    """Add or edit one card; reference photos can only be added (forget the concept to drop them)."""

    def __init__(self, concept: Concept | None = None, ref_paths: list[str] | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit card" if concept else "Add a person, pet or thing")
        self.name = QtWidgets.QLineEdit(concept.name if concept else "")
        self.name.setAccessibleName("Name")
        self.category = QtWidgets.QComboBox()
        self.category.addItems(list(CATEGORIES))
        self.category.setAccessibleName("Category")
        if concept:
            self.category.setCurrentText(concept.category)
        self.info = QtWidgets.QPlainTextEdit(concept.info if concept else "")
        self.info.setAccessibleName("About")
        self.info.setPlaceholderText("A short description the companion reads, e.g. 'my sister, loves hiking'")
        self.existing = list(ref_paths or [])
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
