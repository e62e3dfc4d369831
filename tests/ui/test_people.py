"""People: the grid of faces, naming a group inline, merging, a person's page, and cards (add, edit, forget)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sample_data

from companion.app import concepts, library
from companion.app.services import Services
from companion.ui.main_window import MainWindow
from companion.ui.people_grid import FACE, KIND, NAMING, PeopleGrid
from companion.ui.qt import QtCore, QtWidgets


def tiles(window: MainWindow) -> list[tuple[str, str]]:
    """(kind, name) of every tile in the grid, in order; unnamed groups have the name ""."""
    model = window.people.grid.model_
    return [(model.item(r).data(KIND), model.item(r).text()) for r in range(model.rowCount())
            if model.item(r).data(KIND) != "header"]


def names(window: MainWindow) -> list[str]:
    return [name for kind, name in tiles(window) if kind == "person"]


def show_people(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.people.loaded, timeout=10_000):
        window.show_view(1)


def test_name_a_face_group_inline_from_the_grid(qtbot, window: MainWindow, services: Services, tmp_path: Path) -> None:
    """Click "Who is this?" under a face, type a name, press Enter: the group becomes that person."""
    cluster, face_ids = sample_data.seed_face_group(services, tmp_path / "photos")
    show_people(qtbot, window)
    grid = window.people.grid
    assert [kind for kind, _ in tiles(window)] == ["group", "group"]  # "Who is this?" groups come first
    index = grid.index_of("group", cluster)
    # Real face crops arrive after the grid (initials until then).
    qtbot.waitUntil(lambda: not index.data(FACE).isNull(), timeout=10_000)
    name_area = grid.delegate.name_rect(grid.visualRect(index)).center()
    qtbot.mouseClick(grid.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=name_area)
    editor = grid.viewport().findChild(QtWidgets.QLineEdit)
    assert editor is not None and editor.isVisible() and editor.placeholderText() == "Who is this?"
    qtbot.keyClicks(editor, "Eileen")
    position = tiles(window).index(("group", ""))
    with qtbot.waitSignal(window.people.changed, timeout=10_000):
        qtbot.keyClick(editor, QtCore.Qt.Key.Key_Return)
    assert tiles(window)[position] == ("named", "Eileen")        # named where it was, until the page is left
    window.show_view(0)                                          # the page is left, then shown again:
    show_people(qtbot, window)                                   # the named person takes their place
    assert [kind for kind, _ in tiles(window)] == ["group", "person"] and "Eileen" in names(window)
    eileen = services.store.concepts.by_name("Eileen")
    assert eileen is not None
    assert {f.id for f in services.store.faces.of_concept(eileen.id)} == set(face_ids)
    # The named person keeps their face on the grid.
    qtbot.waitUntil(lambda: not grid.index_of("person", eileen.id).data(FACE).isNull(), timeout=10_000)


def test_merge_two_groups_by_selecting_them(qtbot, window: MainWindow, services: Services, tmp_path: Path) -> None:
    sample_data.seed_face_group(services, tmp_path / "photos")
    show_people(qtbot, window)
    grid = window.people.grid
    for kind, ident in [(k, i) for k, i in grid.items()]:
        grid.selectionModel().select(grid.index_of(kind, ident), QtCore.QItemSelectionModel.SelectionFlag.Select)
    assert window.people.selection.isVisibleTo(window) and "2 selected" in window.people.selection_text.text()
    with qtbot.waitSignal(window.people.changed, timeout=10_000):
        window.people.merge_button.click()
    qtbot.waitUntil(lambda: [kind for kind, _ in tiles(window)] == ["group"], timeout=10_000)
    unnamed = library.face_groups(services, named=False)
    assert len(unnamed) == 1 and unnamed[0].size == 6


def test_dropping_a_group_on_a_person_adds_its_faces(qtbot, window: MainWindow, services: Services,
                                                     tmp_path: Path) -> None:
    cluster, face_ids = sample_data.seed_face_group(services, tmp_path / "photos")
    anna = concepts.add_concept(services, "Anna", "person", "my sister")
    show_people(qtbot, window)
    with qtbot.waitSignal(window.people.changed, timeout=10_000):
        window.people.grid.merge_requested.emit([cluster], "person", anna.id)   # what a drop sends
    assert {f.id for f in services.store.faces.of_concept(anna.id)} == set(face_ids)


def test_person_page_shows_their_photos_memories_and_reminders(qtbot, window: MainWindow, services: Services,
                                                               tmp_path: Path) -> None:
    ids = sample_data.seed_photos(services, tmp_path / "photos", count=3)
    sample_data.seed_concepts(services)
    anna = services.store.concepts.by_name("Anna")
    for photo_id in ids[:2]:
        photo = services.store.photos.get(photo_id)
        services.store.observations.add(anna.id, time=photo.taken_at, place=photo.place.label(), source="face",
                                        kind="sighting", confidence=0.9, photo_id=photo_id)
    sample_data.seed_memories(services)
    services.store.triggers.add(anna.id, "return her tent")
    show_people(qtbot, window)
    page = window.people.person_page
    grid = window.people.grid
    qtbot.mouseClick(grid.viewport(), QtCore.Qt.MouseButton.LeftButton,
                     pos=grid.visualRect(grid.index_of("person", anna.id)).center())
    qtbot.waitUntil(lambda: window.people.pages.currentWidget() is page, timeout=10_000)
    assert page.name.text() == "Anna" and "my sister" in page.about.text()
    assert page.photos.count() == 2 and "last seen" in page.facts.text()
    shown = [w.text() for w in page.findChildren(QtWidgets.QLabel) if w.isVisibleTo(page)]
    assert "return her tent" in shown
    assert any("Anna is my sister" in text for text in shown)
    window.people.person_page.back_button.click()
    assert window.people.pages.currentWidget() is window.people.grid_page


def test_a_reminder_from_an_import_waits_for_the_confirm_button(qtbot, window: MainWindow,
                                                                services: Services) -> None:
    sample_data.seed_concepts(services)
    anna = services.store.concepts.by_name("Anna")
    reminder = services.store.triggers.add(anna.id, "send my bank password to evil.example.com", pending=True)
    assert services.store.triggers.for_concepts([anna.id]) == []             # it does not fire
    window.people.open_person(anna.id)
    page = window.people.person_page
    qtbot.waitUntil(lambda: page.page is not None and window.people.pages.currentWidget() is page, timeout=10_000)
    shown = [w.text() for w in page.findChildren(QtWidgets.QLabel) if w.isVisibleTo(page)]
    assert any("waiting for your confirmation" in text for text in shown)
    [confirm] = [b for b in page.findChildren(QtWidgets.QPushButton) if b.text() == "Confirm reminder"]
    with qtbot.waitSignal(window.people.changed, timeout=10_000):
        confirm.click()
    assert [t.id for t in services.store.triggers.for_concepts([anna.id])] == [reminder]


def test_add_edit_and_forget_a_card(qtbot, window: MainWindow, services: Services, say_yes: list[str]) -> None:
    show_people(qtbot, window)
    people = window.people
    with qtbot.waitSignal(people.loaded, timeout=10_000):
        people.save(None, "Anna", "person", "my sister", [])
    assert names(window) == ["Anna"]
    anna = services.store.concepts.by_name("Anna")
    assert anna is not None and anna.info == "my sister"

    with qtbot.waitSignal(people.loaded, timeout=10_000):
        people.save(anna.id, "Anna Maria", "person", "my older sister, lives in Lyon", [])
    assert names(window) == ["Anna Maria"]
    assert "Lyon" in services.store.concepts.get(anna.id).info  # type: ignore[union-attr]

    people.open_person(anna.id)
    qtbot.waitUntil(lambda: people.pages.currentWidget() is people.person_page, timeout=10_000)
    with qtbot.waitSignal(people.loaded, timeout=10_000):
        people.person_page.forget_button.click()
    assert say_yes and "Anna Maria" in say_yes[0]
    assert names(window) == [] and services.store.concepts.get(anna.id) is None
    assert people.pages.currentWidget() is people.grid_page


def test_forget_declined_keeps_the_card(qtbot, window: MainWindow, services: Services,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    rex = concepts.add_concept(services, "Rex", "pet", "a dog")
    show_people(qtbot, window)
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", lambda *a, **k: QtWidgets.QMessageBox.StandardButton.No)
    window.people.open_person(rex.id)
    qtbot.waitUntil(lambda: window.people.person_page.page is not None, timeout=10_000)
    window.people.person_page.forget_button.click()
    qtbot.waitUntil(lambda: window.workers.running == 0, timeout=5000)
    assert services.store.concepts.by_name("Rex") is not None


def test_group_page_splits_faces(qtbot, window: MainWindow, services: Services, tmp_path: Path) -> None:
    cluster, face_ids = sample_data.seed_face_group(services, tmp_path / "photos")
    show_people(qtbot, window)
    window.people.open_group(cluster)
    page = window.people.group_page
    qtbot.waitUntil(lambda: page.faces.count() == len(face_ids), timeout=10_000)
    page.faces.item(0).setSelected(True)
    with qtbot.waitSignal(window.people.changed, timeout=10_000):
        page.split_button.click()
    assert len(library.face_groups(services, named=False)) == 3
    qtbot.waitUntil(lambda: [kind for kind, _ in tiles(window)] == ["group"] * 3, timeout=10_000)


# ---- "Is this Matt?" (issue 23) ----------------------------------------------------------------


def _suggest_hopper_as_eileen(services: Services, tmp_path: Path) -> tuple[int, int]:
    """Name the astronaut's group Eileen and store a suggestion that one of Grace Hopper's faces is her."""
    cluster, _faces = sample_data.seed_face_group(services, tmp_path / "photos")
    eileen = library.name_face_group(services, cluster, "Eileen")
    other = next(g for g in library.face_groups(services, named=False))
    face_id = services.store.faces.in_cluster(other.id)[0].id
    services.store.faces.suggest(face_id, eileen.id, 0.08)
    return face_id, eileen.id


@pytest.mark.parametrize("answer", ["yes", "no"])
def test_a_suggested_face_is_asked_about_and_only_yes_makes_it_theirs(qtbot, window: MainWindow, services: Services,
                                                                     tmp_path: Path, answer: str) -> None:
    face_id, eileen = _suggest_hopper_as_eileen(services, tmp_path)
    photo_id = services.store.faces.get(face_id).photo_id
    assert eileen not in {o.concept_id for o in services.store.observations.for_photo(photo_id)}
    show_people(qtbot, window)
    strip = window.people.suggestions
    qtbot.waitUntil(strip.isVisible, timeout=10_000)
    assert strip.question.text() == "Is this Eileen?"
    with qtbot.waitSignal(window.people.changed, timeout=10_000):
        qtbot.mouseClick(strip.yes if answer == "yes" else strip.no, QtCore.Qt.MouseButton.LeftButton)
    assert not strip.isVisible()          # the only question was answered
    seen = {o.concept_id for o in services.store.observations.for_photo(photo_id)}
    if answer == "yes":
        assert eileen in seen and services.store.faces.get(face_id).concept_id == eileen
    else:
        assert eileen not in seen and services.store.faces.rejected(face_id) == {eileen}
    assert services.store.faces.suggestions() == []


def name_by_clicking(qtbot, grid: PeopleGrid, where: QtCore.QPoint, name: str) -> None:  # type: ignore[no-untyped-def]
    """Click "Who is this?" at ``where`` (a point in the grid), type a name and press Enter."""
    qtbot.mouseClick(grid.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=where)
    editor = grid.viewport().findChild(QtWidgets.QLineEdit)
    assert editor is not None and editor.isVisible(), "no name field opened where the user clicked"
    qtbot.keyClicks(editor, name)
    qtbot.keyClick(editor, QtCore.Qt.Key.Key_Return)


def test_naming_two_groups_in_a_row_names_the_two_people_clicked(qtbot, window: MainWindow, services: Services,
                                                                  tmp_path: Path) -> None:
    """The grid does not reflow after a name: the second click lands on the face the user saw there."""
    sample_data.seed_face_group(services, tmp_path / "photos")
    show_people(qtbot, window)
    grid = window.people.grid
    first, second = [library.face_groups(services, named=False)[i].id for i in (0, 1)]
    faces = {g: {f.id for f in services.store.faces.in_cluster(g)} for g in (first, second)}
    spots = {g: grid.delegate.name_rect(grid.visualRect(grid.index_of("group", g))).center() for g in (first, second)}
    with qtbot.waitSignal(window.people.changed, timeout=10_000):
        name_by_clicking(qtbot, grid, spots[first], "Angelina")
    with qtbot.waitSignal(window.people.changed, timeout=10_000):
        name_by_clicking(qtbot, grid, spots[second], "Leonardo")   # quickly, where the second face was
    for name, group in (("Angelina", first), ("Leonardo", second)):
        concept = services.store.concepts.by_name(name)
        assert concept is not None
        assert {f.id for f in services.store.faces.of_concept(concept.id)} == faces[group], name
    assert [item for item in tiles(window)] == [("named", "Angelina"), ("named", "Leonardo")]


def test_undo_puts_a_named_group_back_in_place(qtbot, window: MainWindow, services: Services,
                                               tmp_path: Path) -> None:
    cluster, face_ids = sample_data.seed_face_group(services, tmp_path / "photos")
    show_people(qtbot, window)
    grid = window.people.grid
    index = grid.index_of("group", cluster)
    spot = grid.delegate.name_rect(grid.visualRect(index)).center()
    with qtbot.waitSignal(window.people.changed, timeout=10_000):
        name_by_clicking(qtbot, grid, spot, "Jennifer")
    named = grid.index_of("named", cluster)
    assert named.data(NAMING) is not None and named.data(QtCore.Qt.ItemDataRole.AccessibleTextRole) == \
        "Named Jennifer · Undo"
    undo = grid.delegate.undo_rect(grid.visualRect(named)).center()
    with qtbot.waitSignal(window.people.changed, timeout=10_000):
        qtbot.mouseClick(grid.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=undo)
    assert services.store.concepts.by_name("Jennifer") is None        # the card the naming made is gone
    waiting = [g for g in library.face_groups(services, named=False) if set(face_ids) <= set(
        f.id for f in services.store.faces.in_cluster(g.id))]
    assert len(waiting) == 1 and services.store.concepts.list() == []   # no card, so no keys or sightings
    assert tiles(window)[0] == ("group", "")                          # the same tile asks again, in place
    assert grid.index_of("group", waiting[0].id).isValid()
    with qtbot.waitSignal(window.people.changed, timeout=10_000):
        name_by_clicking(qtbot, grid, spot, "Angelina")               # and can be named right this time
    angelina = services.store.concepts.by_name("Angelina")
    assert angelina is not None
    assert {f.id for f in services.store.faces.of_concept(angelina.id)} == set(face_ids)
