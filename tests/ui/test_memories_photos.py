"""Memories (list by kind, search, edit, delete, persona reset) and the photo library."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sample_data

from companion.app.services import Services
from companion.core.store.photos import PhotoRecord
from companion.core.types import Persona
from companion.ui.main_window import MainWindow
from companion.ui.memory_timeline import ITEM


def shown(window: MainWindow) -> list[str]:
    """The memory texts in the timeline, top to bottom (day headers left out)."""
    model = window.memories.timeline.model_
    return [model.item(r).text() for r in range(model.rowCount()) if model.item(r).data(ITEM) is not None]


def test_memories_timeline_filter_search_edit_delete(qtbot, window: MainWindow, services: Services,
                                                     say_yes: list[str]) -> None:
    ids = sample_data.seed_memories(services)
    view = window.memories
    with qtbot.waitSignal(view.loaded, timeout=5000) as blocker:
        window.show_view(3)
    assert blocker.args == [len(ids)]
    assert "Anna is my sister" in shown(window)[0]  # newest first
    model = view.timeline.model_
    headers = [model.item(r).text() for r in range(model.rowCount()) if model.item(r).data(ITEM) is None]
    assert headers[0] == "Wednesday 29 May 2024" and len(headers) == len(ids)   # one day each

    with qtbot.waitSignal(view.loaded, timeout=5000) as blocker:
        view.kind_chips["procedural"].click()
    assert blocker.args == [1] and "running" in shown(window)[0]
    assert view.kind_chips["procedural"].text() == "Habit" and view.kind_chips["procedural"].isChecked()

    view.kind_chips[None].click()
    qtbot.waitUntil(lambda: len(shown(window)) == len(ids), timeout=5000)
    view.search.setText("retriever")
    with qtbot.waitSignal(view.loaded, timeout=5000) as blocker:
        view.reload()
    assert blocker.args == [1] and "Rex" in shown(window)[0]

    rex = next(m for m in view.memories if "Rex" in m.content)
    with qtbot.waitSignal(view.loaded, timeout=5000):
        view.edit(rex.id, "Rex is Anna's dog; he is scared of thunder and fireworks.")
    assert "fireworks" in services.store.memories.get(rex.id).content  # type: ignore[union-attr]

    view.search.clear()
    with qtbot.waitSignal(view.loaded, timeout=5000):
        view.reload()
    assert view.select_row(ids[0]) and view.selected() is not None
    first = view.selected()
    with qtbot.waitSignal(view.loaded, timeout=5000) as blocker:
        view.delete_selected()
    assert say_yes and blocker.args == [len(ids) - 1]
    assert services.store.memories.get(first.id) is None  # type: ignore[union-attr]


def test_persona_bars_and_reset(qtbot, window: MainWindow, services: Services, say_yes: list[str]) -> None:
    services.store.persona.save(Persona(openness=4.5, neuroticism=1.5, interactions=7))
    view = window.memories
    with qtbot.waitSignal(view.loaded, timeout=5000):
        window.show_view(3)
    assert view.persona.bars["openness"].value() == 450
    assert view.persona.values["openness"].text() == "4.50"
    assert view.persona.meanings["openness"].text() == "You seem curious and open to new ideas"
    assert view.persona.meanings["neuroticism"].text() == "You stay calm and steady under pressure"
    assert "7" in view.persona.interactions.text()
    with qtbot.waitSignal(view.loaded, timeout=5000):
        view.persona.reset_button.click()
    assert say_yes
    assert view.persona.bars["openness"].value() == 300
    assert view.persona.values["openness"].text() == "3.00"
    assert services.store.persona.get().openness == 3.0


def test_photo_grid_by_month_with_chips_and_detail(qtbot, window: MainWindow, services: Services,
                                                   tmp_path: Path) -> None:
    ids = sample_data.seed_photos(services, tmp_path / "photos", count=6)
    view = window.photos
    with qtbot.waitSignal(view.loaded, timeout=10_000) as blocker:
        window.show_view(2)
    assert blocker.args == [6] and view.grid.count() == 6
    headers = [row.header for row in view.grid.rows if row.header]
    assert headers == ["June 2024", "May 2024", "April 2024"]   # 1 June, then every 9 days back
    qtbot.waitUntil(lambda: len(view.grid.cache) == 6, timeout=10_000)     # thumbnails came in lazily
    assert sorted(view.place_chips) == ["Kyoto", "Lisbon", "Lyon"]

    with qtbot.waitSignal(view.loaded, timeout=10_000) as blocker:
        view.place_chips["Lisbon"].click()
    assert blocker.args == [2] and view.place_chips["Lisbon"].isChecked() and not view.all_chip.isChecked()

    photo = services.store.photos.get(ids[1])
    assert photo is not None
    worker = view.show_photo(ids[1])
    with qtbot.waitSignal(worker.signals.finished, timeout=5000):
        pass
    assert view.detail.isVisibleTo(window)
    assert view.where.text() == "Lisbon, Portugal"
    assert photo.taken_at.strftime("%B %Y") in view.when.text()  # type: ignore[union-attr]
    assert view.who.text() == "Nobody recognized"
    assert view.preview.pixmap() is not None and not view.preview.pixmap().isNull()
    with qtbot.waitSignal(view.ask_about, timeout=2000) as asked:
        view.detail.ask_button.click()
    assert asked.args == [photo.path]


def test_photo_grid_loads_pages_as_it_scrolls(qtbot, window: MainWindow, services: Services, tmp_path: Path,
                                             monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from companion.ui import photos_view

    monkeypatch.setattr(photos_view, "PAGE", 5)
    sample_data.seed_photos(services, tmp_path / "photos", count=12)
    view = window.photos
    window.resize(900, 600)
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        window.show_view(2)
    assert view.grid.count() == 5 and view.count_label.text() == "5+ photos"
    qtbot.waitUntil(lambda: view._loader is None, timeout=5000)
    for _ in range(3):
        view.grid.verticalScrollBar().setValue(view.grid.verticalScrollBar().maximum())
        qtbot.waitUntil(lambda: view._loader is None, timeout=5000)
    assert view.grid.count() == 12 and view.count_label.text() == "12 photos"


def test_photo_grid_loads_a_page_at_a_time_as_it_scrolls(qtbot, window: MainWindow, services: Services,
                                                         tmp_path: Path, monkeypatch) -> None:
    from companion.ui import photos_view

    monkeypatch.setattr(photos_view, "PAGE", 4)
    for i in range(10):
        services.store.photos.upsert(PhotoRecord(str(tmp_path / f"missing-{i}.jpg"), str(i), 1, 1.0,
                                                 sample_data.T0 - timedelta(days=i), "exif", None, None, None,
                                                 4000, 3000, None))
    view = window.photos
    with qtbot.waitSignal(view.loaded, timeout=10_000) as blocker:
        window.show_view(2)
    assert blocker.args == [4] and view.grid.count() == 4     # one page, not the library
    for shown in (8, 10):
        with qtbot.waitSignal(view.loaded, timeout=10_000) as blocker:
            view.load_more()
        assert blocker.args == [shown] and view.grid.count() == shown
    assert view.load_more() is None                            # the last page was shown
    # Newest first across pages, each photo once.
    paths = [photo.path for photo in view.grid.photos]
    assert paths == [str(tmp_path / f"missing-{i}.jpg") for i in range(10)]


def test_photos_like_words_page_by_rank_from_the_header_search(qtbot, window: MainWindow, services: Services,
                                                              tmp_path: Path, monkeypatch) -> None:
    """"All photos like …" in the search panel: the grid pages through CLIP's ranking; its chip clears it."""
    import numpy as np

    from companion.ui import photos_view
    from companion.ui.qt import QtWidgets

    monkeypatch.setattr(photos_view, "PAGE", 4)
    query = np.zeros(512, dtype="f4")
    query[0] = 1.0
    for i in range(10):   # photo i: newer as i grows, nearer the words as i falls
        photo_id = services.store.photos.upsert(PhotoRecord(str(tmp_path / f"missing-{i}.jpg"), str(i), 1, 1.0,
                                                            sample_data.T0 + timedelta(days=i), "exif", None,
                                                            None, None, 4000, 3000, None))
        vector = np.zeros(512, dtype="f4")
        vector[0], vector[1 + i] = 1.0, 0.2 * (i + 1)
        services.store.photos.set_embedding(photo_id, vector / np.linalg.norm(vector))

    class Words:   # a stand-in for CLIP's text encoder: every description is the same vector
        def embed_texts(self, texts: list[str]) -> np.ndarray:
            return np.stack([query for _ in texts])

    services.__dict__["image_embedder"] = Words()
    window.header.search.setText("a dog on the beach")
    with qtbot.waitSignal(window.search.searched, timeout=20_000) as blocker:
        window.search.search_now()
    assert blocker.args[0].described
    more = next(b for b in window.search.findChildren(QtWidgets.QPushButton)
                if b.text() == "All photos like “a dog on the beach”")
    view = window.photos
    with qtbot.waitSignal(view.loaded, timeout=10_000) as blocker:
        more.click()
    assert window.stack.currentWidget() is view and view.text_chip.isVisibleTo(window)
    assert view.text_chip.text() == "“a dog on the beach”" and not view.all_chip.isChecked()
    assert blocker.args == [4] and view.count_label.text() == "4+ photos"     # one ranked page
    for shown in (8, 10):
        with qtbot.waitSignal(view.loaded, timeout=10_000) as blocker:
            view.load_more()
        assert blocker.args == [shown]
    assert view.load_more() is None
    # Nearest first across pages (not newest first), each photo once.
    assert [p.path for p in view.grid.photos] == [str(tmp_path / f"missing-{i}.jpg") for i in range(10)]

    with qtbot.waitSignal(view.loaded, timeout=10_000) as blocker:
        view.text_chip.click()                  # back to the whole library, newest first
    assert not view.text_chip.isVisibleTo(window) and view.all_chip.isChecked()
    assert [p.path for p in view.grid.photos] == [str(tmp_path / f"missing-{i}.jpg") for i in (9, 8, 7, 6)]


def test_a_date_that_is_a_guess_says_so_in_the_detail(qtbot, window: MainWindow, services: Services,
                                                       tmp_path: Path) -> None:
    """A photo without a capture date is dated by its file: the detail says the date is not the camera's."""
    from dataclasses import replace

    camera, no_exif, named = sample_data.seed_photos(services, tmp_path / "photos", count=3)
    for photo_id, source in ((no_exif, "file"), (named, "filename")):
        photo = services.store.photos.get(photo_id)
        assert photo is not None
        services.store.photos.upsert(replace(sample_data.record(Path(photo.path), photo.taken_at, photo.place),
                                             taken_at_source=source))
    view = window.photos
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        window.show_view(2)
    for photo_id, note in ((camera, ""), (no_exif, "Date from the file, not the camera"),
                           (named, "Date from the file name")):
        with qtbot.waitSignal(view.show_photo(photo_id).signals.finished, timeout=5000):
            pass
        assert view.detail.date_note.text() == note
        assert view.detail.date_note.isVisibleTo(window) == bool(note)
