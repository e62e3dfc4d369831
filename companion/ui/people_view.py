"""People & things: face groups waiting for a name, and the concept cards.

Face groups come from the store (read on a worker); naming, merging,
splitting and removing go through ``Services`` on a worker, then the view
reloads. Face crops are cut from the photo with the face box, off the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from companion.app import library
from companion.ui import images
from companion.ui.concepts_view import ConceptsView
from companion.ui.qt import QtCore, QtGui, QtWidgets, Signal, emit
from companion.ui.workers import WorkerPool

FACE_ID = QtCore.Qt.ItemDataRole.UserRole


@dataclass
class GroupData:
    """One face group as the view shows it: ids plus crops made off the GUI thread."""

    cluster_id: int
    size: int
    faces: list[tuple[int, QtGui.QImage]] = field(default_factory=list)


def load_groups(services: Any, limit_faces: int = 24) -> list[GroupData]:
    """Worker job: the unnamed face groups with their face crops."""
    store = services.store
    groups = []
    for cluster in store.faces.clusters(named=False):
        group = GroupData(cluster.id, cluster.size)
        for face in store.faces.in_cluster(cluster.id)[:limit_faces]:
            photo = store.photos.get(face.photo_id)
            crop = images.face_crop(photo, face.box) if photo is not None else QtGui.QImage()
            group.faces.append((face.id, crop))
        groups.append(group)
    return groups


class FaceGroupsView(QtWidgets.QWidget):
    """Face groups waiting for a name, with naming, merging, splitting and removing.

    Signals:
        changed(): a group was named, merged, split or a face removed (concepts may have changed).
        status(str): a message for the status bar.
    """

    changed = Signal()
    status = Signal(str)

    def __init__(self, services: Any, workers: WorkerPool, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.workers = workers
        self.groups: list[GroupData] = []
        self.group_list = QtWidgets.QListWidget()
        self.group_list.setIconSize(QtCore.QSize(48, 48))
        self.group_list.currentRowChanged.connect(self._show_group)
        self.faces = QtWidgets.QListWidget()
        self.faces.setViewMode(QtWidgets.QListView.ViewMode.IconMode)
        self.faces.setIconSize(QtCore.QSize(96, 96))
        self.faces.setGridSize(QtCore.QSize(108, 108))
        self.faces.setResizeMode(QtWidgets.QListView.ResizeMode.Adjust)
        self.faces.setMovement(QtWidgets.QListView.Movement.Static)
        self.faces.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.ExtendedSelection)
        self.name_button = QtWidgets.QPushButton("Name…")
        self.merge_button = QtWidgets.QPushButton("Merge into…")
        self.split_button = QtWidgets.QPushButton("Split selected")
        self.remove_button = QtWidgets.QPushButton("Not a face / remove")
        self.name_button.clicked.connect(self.ask_name)
        self.merge_button.clicked.connect(self.ask_merge)
        self.split_button.clicked.connect(self.split_selected)
        self.remove_button.clicked.connect(self.remove_selected)
        self.empty = QtWidgets.QLabel("No faces are waiting for a name. New groups appear here after indexing.")
        self.empty.setWordWrap(True)

        buttons = QtWidgets.QHBoxLayout()
        for button in (self.name_button, self.merge_button, self.split_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        right = QtWidgets.QVBoxLayout()
        right.addWidget(self.faces, 1)
        right.addLayout(buttons)
        body = QtWidgets.QHBoxLayout()
        body.addWidget(self.group_list, 1)
        body.addLayout(right, 3)
        layout = QtWidgets.QVBoxLayout(self)
        title = QtWidgets.QLabel("<b>Faces waiting for a name</b>")
        layout.addWidget(title)
        layout.addWidget(self.empty)
        layout.addLayout(body, 1)
        self._update_buttons()

    def reload(self) -> Any:
        worker = self.workers.start(lambda _cancel: load_groups(self.services), "load face groups")
        worker.signals.finished.connect(self._show_groups)
        worker.signals.failed.connect(self.status)
        return worker

    def _show_groups(self, groups: list[GroupData] | None) -> None:
        keep = self.selected_group()
        self.groups = groups or []
        self.group_list.clear()
        for group in self.groups:
            icon = QtGui.QIcon(images.pixmap(group.faces[0][1] if group.faces else QtGui.QImage(), "?"))
            self.group_list.addItem(QtWidgets.QListWidgetItem(icon, f"{group.size} faces"))
        self.empty.setVisible(not self.groups)
        ids = [g.cluster_id for g in self.groups]
        self.group_list.setCurrentRow(ids.index(keep.cluster_id) if keep and keep.cluster_id in ids else
                                      (0 if ids else -1))
        if not ids:
            self.faces.clear()
        self._update_buttons()

    def _show_group(self, row: int) -> None:
        self.faces.clear()
        if 0 <= row < len(self.groups):
            for face_id, crop in self.groups[row].faces:
                item = QtWidgets.QListWidgetItem(QtGui.QIcon(images.pixmap(crop, "?")), "")
                item.setData(FACE_ID, face_id)
                self.faces.addItem(item)
        self._update_buttons()

    def selected_group(self) -> GroupData | None:
        row = self.group_list.currentRow()
        return self.groups[row] if 0 <= row < len(self.groups) else None

    def selected_face_ids(self) -> list[int]:
        return [int(item.data(FACE_ID)) for item in self.faces.selectedItems()]

    def _update_buttons(self) -> None:
        has_group = self.selected_group() is not None
        for button, enabled in ((self.name_button, has_group),
                                (self.merge_button, has_group and len(self.groups) > 1),
                                (self.split_button, has_group),
                                (self.remove_button, has_group)):
            button.setEnabled(enabled)

    # ---- actions ----------------------------------------------------------------------

    def ask_name(self) -> None:
        group = self.selected_group()
        if group is None:
            return
        existing = [c.name for c in self.services.store.concepts.list("person")]
        name, ok = QtWidgets.QInputDialog.getItem(self, "Name this person", "Who is this? (a new or known name)",
                                                  existing, -1, True)
        if ok and name.strip():
            self.name_group(group.cluster_id, name.strip())

    def name_group(self, cluster_id: int, name: str) -> Any:
        return self._run(lambda: library.name_face_group(self.services, cluster_id, name), f"Named the group {name}")

    def ask_merge(self) -> None:
        group = self.selected_group()
        others = [g for g in self.groups if group and g.cluster_id != group.cluster_id]
        if group is None or not others:
            return
        labels = [f"Group of {g.size} faces (#{g.cluster_id})" for g in others]
        choice, ok = QtWidgets.QInputDialog.getItem(self, "Merge groups", "Merge this group into:", labels, 0, False)
        if ok:
            target = others[labels.index(choice)]
            self._run(lambda: library.merge_face_groups(self.services, group.cluster_id, target.cluster_id), "Merged")

    def split_selected(self) -> None:
        ids = self.selected_face_ids()
        if ids:
            self._run(lambda: library.split_faces(self.services, ids), f"Moved {len(ids)} faces to a new group")

    def remove_selected(self) -> None:
        ids = self.selected_face_ids()
        if ids:
            self._run(lambda: [library.remove_face(self.services, i) for i in ids], f"Removed {len(ids)} faces")

    def _run(self, action: Any, done_message: str) -> Any:
        worker = self.workers.start(lambda _cancel: action(), "face groups")
        worker.signals.finished.connect(lambda _r: (emit(self.status, done_message), emit(self.changed),
                                                    self.reload()))
        worker.signals.failed.connect(lambda message: QtWidgets.QMessageBox.warning(self, "Face groups", message))
        return worker


class PeopleView(QtWidgets.QSplitter):
    """The People & things page: face groups above, concept cards below.

    Signals:
        status(str): a message for the status bar.
    """

    status = Signal(str)

    def __init__(self, services: Any, workers: WorkerPool, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(QtCore.Qt.Orientation.Vertical, parent)
        self.groups = FaceGroupsView(services, workers)
        self.concepts = ConceptsView(services, workers)
        self.addWidget(self.groups)
        self.addWidget(self.concepts)
        self.groups.changed.connect(self.concepts.reload)
        self.groups.status.connect(self.status)
        self.concepts.status.connect(self.status)

    def reload(self) -> None:
        self.groups.reload()
        self.concepts.reload()
