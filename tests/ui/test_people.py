"""People & things: concept cards (add, edit at once, forget with confirmation) and face groups."""

from __future__ import annotations

from pathlib import Path

import pytest

from companion.app import concepts
from companion.app.services import Services
from companion.ui.main_window import MainWindow

import sample_data


def names(window: MainWindow) -> list[str]:
    view = window.people.concepts.list
    return [view.item(i).text().split("\n")[0] for i in range(view.count())]


def test_add_edit_and_forget_a_concept(qtbot, window: MainWindow, services: Services, say_yes: list[str]) -> None:
    window.show_view(1)
    concepts = window.people.concepts
    with qtbot.waitSignal(concepts.changed, timeout=10_000):
        concepts.save(None, "Anna", "person", "my sister", [])
    qtbot.waitUntil(lambda: names(window) == ["Anna"], timeout=5000)
    anna = services.store.concepts.by_name("Anna")
    assert anna is not None and anna.info == "my sister"

    # Edit: effective at once in the store and on the card.
    concepts.select(anna.id)
    with qtbot.waitSignal(concepts.changed, timeout=10_000):
        concepts.save(anna.id, "Anna Maria", "person", "my older sister, lives in Lyon", [])
    qtbot.waitUntil(lambda: names(window) == ["Anna Maria"], timeout=5000)
    edited = services.store.concepts.get(anna.id)
    assert edited is not None and edited.name == "Anna Maria" and "Lyon" in edited.info
    assert "Lyon" in concepts.list.item(0).text()

    # Forget: asks first, then removes it everywhere.
    concepts.select(anna.id)
    with qtbot.waitSignal(concepts.changed, timeout=10_000):
        concepts.forget_selected()
    assert say_yes and "Anna Maria" in say_yes[0]
    qtbot.waitUntil(lambda: names(window) == [], timeout=5000)
    assert services.store.concepts.get(anna.id) is None


def test_forget_declined_keeps_the_concept(qtbot, window: MainWindow, services: Services,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from companion.ui.qt import QtWidgets

    concepts.add_concept(services, "Rex", "pet", "a dog")
    window.show_view(1)
    qtbot.waitUntil(lambda: names(window) == ["Rex"], timeout=5000)
    monkeypatch.setattr(QtWidgets.QMessageBox, "question",
                        lambda *a, **k: QtWidgets.QMessageBox.StandardButton.No)
    window.people.concepts.list.setCurrentRow(0)
    window.people.concepts.forget_selected()
    qtbot.waitUntil(lambda: window.workers.running == 0, timeout=5000)
    assert services.store.concepts.by_name("Rex") is not None
    assert names(window) == ["Rex"]


def test_face_group_shows_real_face_crops(qtbot, window: MainWindow, services: Services, tmp_path: Path) -> None:
    cluster, face_ids = sample_data.seed_face_group(services, tmp_path / "photos")
    window.show_view(1)
    groups = window.people.groups
    qtbot.waitUntil(lambda: groups.group_list.count() == 2, timeout=10_000)  # two people, two groups
    assert groups.group_list.item(0).text() == f"{len(face_ids)} faces" == "3 faces"
    qtbot.waitUntil(lambda: groups.faces.count() == len(face_ids), timeout=5000)
    crops = [crop for _id, crop in groups.groups[0].faces]
    assert all(not c.isNull() and max(c.width(), c.height()) == 96 for c in crops)
    assert groups.selected_group().cluster_id == cluster  # type: ignore[union-attr]


def test_name_a_face_group(qtbot, window: MainWindow, services: Services, tmp_path: Path) -> None:
    cluster, face_ids = sample_data.seed_face_group(services, tmp_path / "photos")
    window.show_view(1)
    groups = window.people.groups
    qtbot.waitUntil(lambda: groups.group_list.count() == 2, timeout=10_000)
    with qtbot.waitSignal(groups.changed, timeout=10_000):
        groups.name_group(cluster, "Eileen")
    qtbot.waitUntil(lambda: groups.group_list.count() == 1 and "Eileen" in names(window), timeout=10_000)
    eileen = services.store.concepts.by_name("Eileen")
    assert eileen is not None
    assert {f.id for f in services.store.faces.of_concept(eileen.id)} == set(face_ids)
