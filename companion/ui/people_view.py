"""People: a grid of faces ("Who is this?" groups first), "Is this Matt?" questions above it
(``people_suggestions``), a page per person, and a page per face group.

Everything is read with ``companion.app.people`` on workers: first the grid
(initials), then each face crop as it is cut. Naming, merging, splitting,
removing faces and editing or forgetting cards run through ``app.library`` and
``app.concepts`` on workers, then the grid reloads; except a group named in the
grid, whose tile stays in place with Undo until the page is left.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from companion.app import concepts, library, people, reminders
from companion.ui import images
from companion.ui.concepts_view import ConceptDialog
from companion.ui.people_grid import FACE, NAMING, PeopleGrid, fill
from companion.ui.people_suggestions import SuggestionsBar
from companion.ui.person_page import GroupPage, PersonPage
from companion.ui.qt import QtGui, QtWidgets, Signal, emit
from companion.ui.widgets import EmptyState, button, frame, label
from companion.ui.workers import Worker, WorkerPool

if TYPE_CHECKING:
    from companion.app.services import Services

AVATAR_PX = 216   # crops at twice the tile size: sharp on high-DPI screens


def load_people(services: Services) -> Any:
    """Worker job: the grid first, then ("group" | "person", id, face image) for each tile."""
    everyone = people.people(services)
    yield everyone, concepts.known_names(services, None)
    yield "suggestions", 0, [(s, images.face_image(s.face, AVATAR_PX)) for s in everyone.suggestions]
    for group in everyone.groups:
        if group.faces:
            yield "group", group.cluster_id, images.face_image(group.faces[0][1], AVATAR_PX)
    for card in everyone.cards:
        if card.face is not None:
            yield "person", card.concept.id, images.face_image(card.face, AVATAR_PX)


class PeopleView(QtWidgets.QWidget):
    """The People page.

    Signals:
        status(str): a message for the status bar.
        changed(): names, groups or cards changed.
        loaded(int): the grid shows this many tiles (groups + cards).
        open_photo(int), open_memory(int): chosen on a person's page.
        ask(str): "Ask about them": a question to start the chat with.
    """

    status = Signal(str)
    changed = Signal()
    loaded = Signal(int)
    open_photo = Signal(int)
    open_memory = Signal(int)
    ask = Signal(str)

    def __init__(self, services: Services, workers: WorkerPool, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.services, self.workers = services, workers
        self.waiting = 0
        self.people: people.People | None = None
        self.person_id: int | None = None
        self.grid = PeopleGrid()
        self.grid.named.connect(self.name_in_place)
        self.grid.undo.connect(self.undo_naming)
        self.grid.open_person.connect(self.open_person)
        self.grid.open_group.connect(self.open_group)
        self.grid.merge_requested.connect(self.merge)
        self.grid.selection_changed.connect(self._selection_bar)
        self.add_button = button("Add a person, pet or thing", "add", slot=self.add_card)
        self.selection = frame("notice")
        bar = QtWidgets.QHBoxLayout(self.selection)
        bar.setContentsMargins(12, 6, 8, 6)
        self.selection_text = label("")
        bar.addWidget(self.selection_text, 1)
        self.merge_button = button("Merge into one person", "merge", "primary", self.merge_selected)
        bar.addWidget(self.merge_button)
        bar.addWidget(button("Clear", None, "flat", self.grid.clearSelection))
        self.selection.hide()
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.selection, 1)
        top.addStretch(0)
        top.addWidget(self.add_button)
        self.empty = EmptyState("people", "No people yet",
                                "When your photos are indexed, faces that appear more than once show up here "
                                "for you to name. You can also add a person, pet or thing yourself.")
        self.empty.add_button(button("Add a person, pet or thing", "add", "primary", self.add_card))
        grid_page = QtWidgets.QWidget()
        grid_layout = QtWidgets.QVBoxLayout(grid_page)
        grid_layout.setContentsMargins(20, 12, 20, 8)
        grid_layout.addLayout(top)
        self.suggestions = SuggestionsBar()
        self.suggestions.accepted.connect(self.accept_suggestion)
        self.suggestions.rejected.connect(self.reject_suggestion)
        grid_layout.addWidget(self.suggestions)
        self.grid_stack = QtWidgets.QStackedWidget()
        self.grid_stack.addWidget(self.grid)
        self.grid_stack.addWidget(self.empty)
        grid_layout.addWidget(self.grid_stack, 1)
        self.pages = QtWidgets.QStackedWidget()
        self.pages.addWidget(grid_page)
        self._person_page: PersonPage | None = None   # built when first opened: a faster start
        self._group_page: GroupPage | None = None
        self._names: list[str] = []
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)
        self.grid_page = grid_page

    @property
    def person_page(self) -> PersonPage:
        if self._person_page is None:
            page = self._person_page = PersonPage(self.workers)
            page.back.connect(self.show_grid)
            page.edit.connect(self.edit_person)
            page.forget.connect(self.forget_person)
            page.ask.connect(self.ask)
            page.open_photo.connect(self.open_photo)
            page.open_memory.connect(self.open_memory)
            page.confirm_reminder.connect(self.confirm_reminder)
            self.pages.addWidget(page)
        return self._person_page

    @property
    def group_page(self) -> GroupPage:
        if self._group_page is None:
            page = self._group_page = GroupPage()
            page.back.connect(self.show_grid)
            page.name.connect(lambda name: page.cluster_id is not None and self.name_group(page.cluster_id, name))
            page.split.connect(self.split_faces)
            page.remove.connect(self.remove_faces)
            page.set_names(self._names)
            self.pages.addWidget(page)
        return self._group_page

    # ---- the grid -----------------------------------------------------------------------

    def reload(self, *, now: bool = False) -> Worker | None:
        """Re-read the grid, unless groups named in place are on screen: then it waits until the page
        is left (new photos indexed meanwhile must not move the tiles under the pointer); ``now``: the
        user changed the grid another way (a merge, a new card) and expects to see it."""
        if self.grid.named_in_place() and self.grid.isVisible() and not now:
            return None
        worker = self.workers.start(lambda _c: load_people(self.services), "load people")
        worker.signals.item.connect(self._on_item)
        worker.signals.failed.connect(self.status)
        return worker

    def _grid_left(self) -> None:
        """The grid went out of sight: groups named in place take their places in it now."""
        if self.grid.named_in_place():
            self.reload(now=True)   # hidden (or about to be): nothing moves under the pointer

    def hideEvent(self, event: QtGui.QHideEvent) -> None:  # noqa: N802 - Qt override
        super().hideEvent(event)
        self._grid_left()

    def _on_item(self, value: Any) -> None:
        if isinstance(value, tuple) and len(value) == 2:
            everyone, names = value
            self.people = everyone
            self.grid.delegate.names = self._names = names
            if self._group_page is not None:
                self._group_page.set_names(names)
            fill(self.grid, everyone.groups, everyone.cards, everyone.more_groups)
            self.grid_stack.setCurrentWidget(self.grid if everyone.groups or everyone.cards else self.empty)
            emit(self.loaded, len(everyone.groups) + len(everyone.cards))
            return
        kind, ident, image = value
        if kind == "suggestions":
            self.suggestions.show_suggestions(image)
            return
        item = self.grid.items().get((kind, ident))
        if item is not None and not image.isNull():
            item.setData(image, FACE)

    def show_grid(self) -> None:
        self.pages.setCurrentWidget(self.grid_page)
        self.person_id = None

    def _selection_bar(self) -> None:
        chosen = self.grid.selected()
        groups = [i for k, i in chosen if k == "group"]
        show = len(chosen) >= 2 and bool(groups)
        self.selection.setVisible(show)
        if show:
            self.selection_text.setText(f"{len(chosen)} selected")

    # ---- naming and merging ---------------------------------------------------------------

    def name_in_place(self, cluster_id: int, name: str) -> Worker:
        """Name a group from the grid: its tile says "Named …" where it is, with Undo once saved."""
        self.grid.mark_named(cluster_id, name)
        worker = self.workers.start(lambda _c: library.name_face_group_undoably(self.services, cluster_id, name),
                                    "name a face group")

        def saved(naming: library.Naming | None) -> None:
            if naming is None:
                return
            self.grid.set_naming(cluster_id, naming)
            emit(self.status, f"Named {name}")
            emit(self.changed)

        def failed(message: str) -> None:
            self.grid.mark_waiting(cluster_id, cluster_id)
            QtWidgets.QMessageBox.warning(self, "People", message)

        worker.signals.finished.connect(saved)
        worker.signals.failed.connect(failed)
        return worker

    def undo_naming(self, cluster_id: int) -> Worker | None:
        """Undo a naming in place: the faces wait for a name again, on the same tile."""
        item = self.grid.items().get(("named", cluster_id))
        naming = item.data(NAMING) if item is not None else None
        if naming is None:
            return None
        worker = self.workers.start(lambda _c: library.undo_naming(self.services, naming), "undo a naming")

        def undone(group: int | None) -> None:
            if group is None:
                return
            self.grid.mark_waiting(cluster_id, group)
            emit(self.status, f"{naming.concept.name}: undone")
            emit(self.changed)

        worker.signals.finished.connect(undone)
        worker.signals.failed.connect(lambda message: QtWidgets.QMessageBox.warning(self, "People", message))
        return worker

    def name_group(self, cluster_id: int, name: str) -> Worker:
        return self._run(lambda: library.name_face_group(self.services, cluster_id, name), f"Named {name}")

    def merge(self, cluster_ids: list[int], kind: str, ident: int) -> Worker | None:
        if kind == "person":
            concept = concepts.concept(self.services, ident)
            if concept is None:
                return None
            return self._run(lambda: library.merge_into(self.services, cluster_ids, concept),
                             f"Added to {concept.name}")
        return self._run(lambda: library.merge_into(self.services, cluster_ids, ident), "Merged")

    def merge_selected(self) -> Worker | None:
        chosen = self.grid.selected()
        groups = [i for k, i in chosen if k == "group"]
        persons = [i for k, i in chosen if k == "person"]
        if len(persons) > 1:
            QtWidgets.QMessageBox.information(self, "Merge", "Two people who already have names can't be merged "
                                              "here. Forget one of them first.")
            return None
        if persons:
            return self.merge(groups, "person", persons[0])
        if len(groups) < 2:
            return None
        sizes = {g.cluster_id: g.size for g in (self.people.groups if self.people else [])}
        target = max(groups, key=lambda g: sizes.get(g, 0))
        return self.merge([g for g in groups if g != target], "group", target)

    def open_group(self, cluster_id: int) -> Worker:
        def job(_c: Any) -> Any:
            return [(face_id, images.face_image(ref, 224)) for face_id, ref in people.group_faces(self.services,
                                                                                                  cluster_id)]

        worker = self.workers.start(job, "face group")
        def loaded(faces: Any) -> None:
            if faces is not None:
                self.group_page.show_faces(cluster_id, faces)
                self.pages.setCurrentWidget(self.group_page)
                self._grid_left()

        worker.signals.finished.connect(loaded)
        worker.signals.failed.connect(self.status)
        return worker

    def split_faces(self, face_ids: list[int]) -> Worker | None:
        if not face_ids:
            return None
        return self._run(lambda: library.split_faces(self.services, face_ids),
                         f"Moved {len(face_ids)} face{'s' if len(face_ids) != 1 else ''} to a new group", back=True)

    def remove_faces(self, face_ids: list[int]) -> Worker | None:
        if not face_ids:
            return None
        def remove() -> None:
            for face_id in face_ids:
                library.remove_face(self.services, face_id)

        return self._run(remove,
                         f"Removed {len(face_ids)} face{'s' if len(face_ids) != 1 else ''}", back=True)

    # ---- "Is this Matt?" ---------------------------------------------------------------------

    def accept_suggestion(self, face_id: int, concept_id: int) -> Worker:
        return self._run(lambda: people.accept_suggestion(self.services, face_id, concept_id), "Added the face",
                         reload=False)

    def reject_suggestion(self, face_id: int, concept_id: int) -> Worker:
        return self._run(lambda: people.reject_suggestion(self.services, face_id, concept_id), "Noted",
                         reload=False)

    # ---- a person's page ------------------------------------------------------------------

    def open_person(self, concept_id: int) -> Worker:
        self.person_id = concept_id

        def job(_c: Any) -> Any:
            page = people.person_page(self.services, concept_id)
            return (page, images.face_image(page.card.face, 176)) if page is not None else None

        worker = self.workers.start(job, "person")
        worker.signals.finished.connect(self._show_person)
        worker.signals.failed.connect(self.status)
        return worker

    def _show_person(self, result: Any) -> None:
        if result is None:
            self.show_grid()
            return
        page, face = result
        if page.card.concept.id != self.person_id:
            return
        self.person_page.show_page(page, face)
        self.pages.setCurrentWidget(self.person_page)
        self._grid_left()

    def add_card(self) -> None:
        dialog = ConceptDialog(parent=self)
        if dialog.exec() == QtWidgets.QDialog.DialogCode.Accepted:
            self.save(None, *dialog.values())

    def edit_person(self) -> None:
        page = self.person_page.page
        if page is None:
            return
        concept = page.card.concept
        dialog = ConceptDialog(concept, concepts.reference_images(self.services, concept.id), self)
        if dialog.exec() == QtWidgets.QDialog.DialogCode.Accepted:
            self.save(concept.id, *dialog.values())

    def save(self, concept_id: int | None, name: str, category: str, info: str, new_images: list[str]) -> Worker:
        """Add (``concept_id`` None) or edit a card on a worker; the grid (and the page) reload when done."""
        def job() -> Any:
            if concept_id is None:
                return concepts.add_concept(self.services, name, category, info, [Path(p) for p in new_images])
            concept = concepts.edit_concept(self.services, concept_id, name, category, info)
            for path in new_images:
                concepts.add_concept_key(self.services, concept_id, Path(path))
            return concept
        return self._run(job, f"Saved {name}")

    def forget_person(self) -> None:
        page = self.person_page.page
        if page is None:
            return
        concept = page.card.concept
        answer = QtWidgets.QMessageBox.question(
            self, "Forget", f"Forget {concept.name}? Their card, reference photos, face group, memories "
            "and the messages that mention them are removed for good.",
            QtWidgets.QMessageBox.StandardButton.Yes | QtWidgets.QMessageBox.StandardButton.No,
            QtWidgets.QMessageBox.StandardButton.No)
        if answer == QtWidgets.QMessageBox.StandardButton.Yes:
            self.forget(concept.id, concept.name)

    def confirm_reminder(self, reminder_id: int) -> Worker:
        """A reminder learnt from an import becomes active (the page reloads to show it)."""
        return self._run(lambda: reminders.confirm(self.services, reminder_id), "Reminder confirmed")

    def forget(self, concept_id: int, name: str) -> Worker:
        return self._run(lambda: concepts.forget_concept(self.services, concept_id), f"Forgot {name}", back=True)

    def _run(self, action: Any, done_message: str, back: bool = False, reload: bool = True) -> Worker:
        """``reload=False``: only the counts change (an answered question: the strip already shows the next)."""
        worker = self.workers.start(lambda _cancel: action(), "people")
        worker.signals.finished.connect(lambda _r: self._done(done_message, back) if reload
                                        else self._answered(done_message))
        worker.signals.failed.connect(lambda message: QtWidgets.QMessageBox.warning(self, "People", message))
        return worker

    def _answered(self, message: str) -> None:
        emit(self.status, message)
        emit(self.changed)

    def _done(self, message: str, back: bool) -> None:
        emit(self.status, message)
        emit(self.changed)
        current = self.pages.currentWidget()
        if back or (current is not None and current is self._group_page):
            self.show_grid()
        elif self.person_id is not None and current is not None and current is self._person_page:
            self.open_person(self.person_id)
        self.reload(now=True)



