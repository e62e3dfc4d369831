"""The folder watcher on a real file system (watchdog): debouncing, deleted folders, live indexing."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from companion.app import concepts, library
from companion.watcher import PathEvent, PhotoWatcher


def wait_for(condition: Callable[[], object], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())


class Recorder:
    def __init__(self) -> None:
        self.batches: list[list[PathEvent]] = []
        self.messages: list[str] = []
        self.lock = threading.Lock()

    def batch(self, events: list[PathEvent]) -> None:
        with self.lock:
            self.batches.append(events)

    def status(self, message: str) -> None:
        with self.lock:
            self.messages.append(message)

    def paths(self) -> list[str]:
        with self.lock:
            return [e.path for b in self.batches for e in b]


def test_events_are_debounced_deduplicated_and_filtered(tmp_path: Path) -> None:
    folder = tmp_path / "watched"
    folder.mkdir()
    rec = Recorder()
    with PhotoWatcher([folder], rec.batch, rec.status, quiet_seconds=0.3):
        photo = folder / "a.jpg"
        with open(photo, "wb") as handle:    # one save seen as create + several writes
            for _ in range(5):
                handle.write(b"x" * 1000)
                handle.flush()
                time.sleep(0.02)
        (folder / "notes.txt").write_text("ignored")
        (folder / ".hidden.jpg").write_bytes(b"ignored")
        assert wait_for(lambda: rec.batches, 3)
        time.sleep(0.5)
    assert rec.batches == [[PathEvent("created", str(photo))]]


def test_moves_and_deletes_are_reported(tmp_path: Path) -> None:
    folder = tmp_path / "watched"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.jpg").write_bytes(b"a")
    (folder / "b.jpg").write_bytes(b"b")
    rec = Recorder()
    with PhotoWatcher([folder], rec.batch, rec.status, quiet_seconds=0.2):
        time.sleep(0.2)
        os.rename(folder / "a.jpg", folder / "sub" / "a2.jpg")
        (folder / "b.jpg").unlink()
        assert wait_for(lambda: len(rec.paths()) >= 3, 3)
    events = {(e.kind, e.path) for b in rec.batches for e in b}
    assert events == {("deleted", str(folder / "a.jpg")), ("created", str(folder / "sub" / "a2.jpg")),
                      ("deleted", str(folder / "b.jpg"))}


def test_a_watched_folder_deleted_while_watched_is_reported_and_rewatched(tmp_path: Path) -> None:
    folder = tmp_path / "watched"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"a")
    rec = Recorder()
    watcher = PhotoWatcher([folder], rec.batch, rec.status, quiet_seconds=0.2).start()
    try:
        shutil.rmtree(folder)
        assert wait_for(lambda: any("was deleted" in m for m in rec.messages), 5), rec.messages
        folder.mkdir()
        assert wait_for(lambda: any("watching again" in m for m in rec.messages), 5), rec.messages
        (folder / "new.jpg").write_bytes(b"n")
        assert wait_for(lambda: str(folder / "new.jpg") in rec.paths(), 5)
    finally:
        watcher.stop()
    assert watcher._thread is not None and not watcher._thread.is_alive()


def test_a_failed_batch_is_queued_and_tried_again_and_watching_goes_on(tmp_path: Path) -> None:
    """A batch that fails (the database stayed locked by a long import) is not dropped: it is retried."""
    folder = tmp_path / "watched"
    folder.mkdir()
    rec, calls = Recorder(), []

    def on_batch(events: list[PathEvent]) -> None:
        calls.append(sorted(Path(e.path).name for e in events))
        if len(calls) <= 2:
            raise RuntimeError("database is locked")

    with PhotoWatcher([folder], on_batch, rec.status, quiet_seconds=0.1):
        (folder / "1.jpg").write_bytes(b"1")
        assert wait_for(lambda: calls, 3)
        (folder / "2.jpg").write_bytes(b"2")
        assert wait_for(lambda: len(calls) == 3, 8)
    # The first failure waits 1 s, the second 2 s; 2.jpg joins the queued 1.jpg; nothing is lost.
    assert calls == [["1.jpg"], ["1.jpg", "2.jpg"], ["1.jpg", "2.jpg"]]
    assert rec.messages == ["indexing failed: database is locked; 1 file(s) queued, trying again in 1 s",
                            "indexing failed: database is locked; 2 file(s) queued, trying again in 2 s"]


@pytest.mark.models
def test_a_photo_dropped_into_a_watched_folder_is_indexed_and_recognised_while_watching(
        models_env: Path, tmp_path: Path) -> None:
    from test_library import astronaut_pixels, open_services, run_index, save_photo, variants

    from companion.core.library.indexing import IndexSummary

    folder = tmp_path / "watched"
    outside = tmp_path / "staging"
    save_photo(folder / "first.jpg", astronaut_pixels())
    reference = save_photo(outside / "ref.jpg", astronaut_pixels()[:, ::-1])
    services = open_services(models_env)
    summaries: list[IndexSummary] = []
    try:
        library.add_watched_folder(services, folder)
        run_index(services, folder)              # loads the models, as a running app has them loaded
        eileen = concepts.add_concept(services, "Eileen", "person", images=[reference])
        watcher = library.watch(services, lambda e: summaries.append(e) if isinstance(e, IndexSummary) else None)
        try:
            staged = save_photo(outside / "beach.jpg", variants(astronaut_pixels())[2])
            target = folder / "2024" / "beach.jpg"
            target.parent.mkdir()
            # How soon (target: 2 s) is benchmarks/watch_latency.py's to measure, not a test's.
            os.replace(staged, target)           # how a photo app or a copy finishes a file

            def observed() -> bool:
                photo = services.store.photos.by_path(str(target))
                return photo is not None and bool(services.store.observations.for_photo(photo.id))

            assert wait_for(observed, 60)
            photo = services.store.photos.by_path(str(target))
            assert [o.concept_id for o in services.store.observations.for_photo(photo.id)] == [eileen.id]
            # A move inside the watched folder keeps the photo's records; a delete removes them.
            os.rename(target, folder / "beach-moved.jpg")
            assert wait_for(lambda: services.store.photos.by_path(str(folder / "beach-moved.jpg")) is not None, 5)
            assert services.store.photos.by_path(str(folder / "beach-moved.jpg")).id == photo.id
            (folder / "beach-moved.jpg").unlink()
            assert wait_for(lambda: services.store.photos.get(photo.id) is None, 5)
        finally:
            watcher.stop()
    finally:
        services.close()
    assert sum(s.new for s in summaries) == 1 and sum(s.moved for s in summaries) == 1
    assert sum(s.removed for s in summaries) == 1


@pytest.mark.models
def test_indexing_runs_one_at_a_time_so_a_photo_is_never_written_twice(models_env: Path, tmp_path: Path) -> None:
    """The window's catch-up scan and a watched-folder batch can start together; the second waits."""
    from test_library import astronaut_pixels, open_services, save_photo

    from companion.core.library.indexing import IndexSummary

    folder = tmp_path / "photos"
    save_photo(folder / "a.jpg", astronaut_pixels())
    services = open_services(models_env)
    try:
        first = library.index(services, [folder])
        next(first)                                   # the first run has started (and holds the turn)
        results: list[IndexSummary] = []
        second = threading.Thread(target=lambda: results.extend(
            i for i in library.index(services, [folder]) if isinstance(i, IndexSummary)))
        second.start()
        time.sleep(0.5)
        assert second.is_alive() and results == []   # waiting for the first run
        summary = [i for i in first if isinstance(i, IndexSummary)][0]
        second.join(30)
        assert summary.new == 1 and results[0].new == 0 and results[0].unchanged == 1
        assert len(services.store.faces.for_photo(services.store.photos.by_path(str(folder / "a.jpg")).id)) == 1
    finally:
        services.close()
