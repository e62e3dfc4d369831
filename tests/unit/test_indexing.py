"""index_paths with deterministic test doubles: incremental runs, moves, removals, bad files, cancel, batching.

The doubles read a tiny text format ("IMG <seed> <faces> [<time> <lat> <lon>]")
so each test controls exactly what a photo contains. Real-backend runs are in
tests/integration/test_library.py.
"""

from __future__ import annotations

import os
import shutil
import threading
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from companion.config import Settings
from companion.core.errors import BadImageError
from companion.core.library.indexing import MAX_FAILURES, IndexSummary, content_hash, index_paths
from companion.core.store import Store
from companion.core.types import Box, DecodedPhoto, DetectedFace, Place, Progress


def _unit(seed: int, dim: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=dim).astype(np.float32)
    return vector / np.linalg.norm(vector)


class TextReader:
    """Decodes 'IMG seed face,face [iso-time lat lon]'; the pixels carry the seeds for the other doubles."""

    def __init__(self) -> None:
        self.reads: list[str] = []

    def read(self, path: Path) -> DecodedPhoto:
        self.reads.append(str(path))
        data = Path(path).read_bytes()
        if not data.startswith(b"IMG "):
            raise BadImageError(f"not a recognised image format: {Path(path).name}")
        parts = data.decode().split()
        seed, faces = int(parts[1]), [int(f) for f in parts[2].split(",") if f != "0"]
        pixels = np.zeros((8, 8, 3), dtype=np.uint8)
        pixels[0, 0, 0] = seed
        for i, face in enumerate(faces):
            pixels[1, i, 0] = face
        taken, source, lat, lon = None, "file", None, None
        if len(parts) >= 6:
            taken, source = datetime.fromisoformat(parts[3]), "exif"
            lat, lon = float(parts[4]), float(parts[5])
        if taken is None:
            taken = datetime.fromtimestamp(os.stat(path).st_mtime, timezone.utc)
        return DecodedPhoto(pixels=pixels, width=80, height=80, scale=0.1, taken_at=taken,
                            taken_at_source=source, latitude=lat, longitude=lon)  # type: ignore[arg-type]

    def thumbnail(self, photo: DecodedPhoto, destination: Path) -> None:
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(b"thumb")


class SeedFaces:
    name, dim = "seed-faces", 128

    def detect(self, pixels: np.ndarray) -> list[DetectedFace]:
        return [DetectedFace(Box(i, 1, i + 2, 3), _unit(1000 + int(s), 128), 0.9)
                for i, s in enumerate(pixels[1, :, 0]) if s]


class SeedEmbedder:
    name, dim = "seed-clip", 512

    def __init__(self) -> None:
        self.batches: list[int] = []

    def embed_images(self, images: list[np.ndarray]) -> np.ndarray:
        self.batches.append(len(images))
        return np.stack([_unit(int(image[0, 0, 0]), 512) for image in images])

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        return np.stack([_unit(len(t), 512) for t in texts])


class TableGeocoder:
    def reverse(self, latitude: float, longitude: float) -> Place | None:
        return Place("Paris", "Ile-de-France", "France", "FR") if abs(latitude - 48.85) < 1 else None

    def find_places(self, text: str) -> list[Place]:
        return []


def photo(path: Path, seed: int, faces: str = "0", exif: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"IMG {seed} {faces} {exif}".strip())
    return path


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "db" / "companion.db")
    yield s
    s.close()


class Run:
    def __init__(self, store: Store, tmp_path: Path) -> None:
        self.store, self.reader, self.embedder = store, TextReader(), SeedEmbedder()
        self.settings = Settings(face_min_cluster_size=2, face_cluster_distance=0.2, face_match_distance=0.2)
        self.thumbs = tmp_path / "thumbs"

    def __call__(self, *targets: Path, cancel: threading.Event | None = None,
                 timings: dict[str, float] | None = None) -> tuple[IndexSummary, list[Progress]]:
        events = list(index_paths(self.store, self.settings, list(targets), reader=self.reader, faces=SeedFaces(),
                                  embedder=self.embedder, geocoder=TableGeocoder(), thumbnails_dir=self.thumbs,
                                  cancel=cancel, timings=timings))
        assert isinstance(events[-1], IndexSummary)
        return events[-1], [e for e in events if isinstance(e, Progress)]


@pytest.fixture()
def run(store: Store, tmp_path: Path) -> Run:
    return Run(store, tmp_path)


def test_new_photos_are_indexed_with_time_place_faces_and_embedding(run: Run, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    photo(lib / "a.jpg", 1, "7", "2024-05-01T10:00:00+02:00 48.85 2.35")
    photo(lib / "sub" / "b.png", 2, "7,8")
    (lib / "notes.txt").write_text("not a photo")
    timings: dict[str, float] = {}
    summary, progress = run(lib, timings=timings)
    assert (summary.new, summary.changed, summary.unchanged, summary.skipped) == (2, 0, 0, [])
    assert summary.faces == 3
    assert [p.stage for p in progress][:2] == ["scan", "scan"] and progress[-1].stage == "faces"
    assert [(p.done, p.total) for p in progress if p.stage == "index"] == [(1, 2), (2, 2)]
    a = run.store.photos.by_path(str(lib / "a.jpg"))
    assert a is not None and a.taken_at_source == "exif" and a.place is not None and a.place.city == "Paris"
    assert a.taken_at == datetime.fromisoformat("2024-05-01T10:00:00+02:00")
    assert a.thumbnail and Path(a.thumbnail).is_file()
    assert run.store.photos.embedding(a.id) is not None
    b = run.store.photos.by_path(str(lib / "sub" / "b.png"))
    assert b is not None and b.taken_at_source == "file" and b.place is None
    boxes = [f.box for f in run.store.faces.for_photo(b.id)]
    assert Box(0, 10, 20, 30) in boxes   # pixel boxes are scaled back to full size (scale 0.1)
    assert set(timings) >= {"scan", "hash", "decode", "faces", "embeddings", "database"}
    # Faces 7 (twice) form a group of two; face 8 alone does not (min size 2).
    assert sorted(c.size for c in run.store.faces.clusters()) == [2]


def test_second_run_skips_unchanged_files_even_when_touched(run: Run, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    a = photo(lib / "a.jpg", 1)
    run(lib)
    run.reader.reads.clear()
    summary, _ = run(lib)
    assert (summary.new, summary.unchanged) == (0, 1) and run.reader.reads == []
    os.utime(a, (1_000_000, 1_000_000))            # same bytes, new mtime: hash says unchanged
    summary, _ = run(lib)
    assert (summary.new, summary.changed, summary.unchanged) == (0, 0, 1) and run.reader.reads == []
    assert run.store.photos.by_path(str(a)).mtime == 1_000_000  # type: ignore[union-attr]


def test_changed_file_is_reanalysed_and_its_faces_replaced(run: Run, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    a = photo(lib / "a.jpg", 1, "7,8")
    run(lib)
    photo_id = run.store.photos.by_path(str(a)).id  # type: ignore[union-attr]
    photo(a, 2, "9")
    summary, _ = run(lib)
    assert (summary.new, summary.changed) == (0, 1)
    assert run.store.photos.by_path(str(a)).id == photo_id  # type: ignore[union-attr]
    assert len(run.store.faces.for_photo(photo_id)) == 1
    assert np.allclose(run.store.photos.embedding(photo_id), _unit(2, 512))
    assert run.store.photos.count() == 1


def test_moved_file_keeps_its_records(run: Run, tmp_path: Path, store: Store) -> None:
    lib = tmp_path / "lib"
    a = photo(lib / "a.jpg", 1, "7")
    run(lib)
    old = store.photos.by_path(str(a))
    concept = store.concepts.add("Ann", "person")
    store.observations.add(concept.id, time=None, place="", source="user", kind="sighting", photo_id=old.id)
    face_ids = [f.id for f in store.faces.for_photo(old.id)]
    target = lib / "2024" / "renamed.jpg"
    target.parent.mkdir()
    shutil.move(a, target)
    run.reader.reads.clear()
    summary, _ = run(lib)
    assert (summary.moved, summary.new, summary.removed) == (1, 0, 0) and run.reader.reads == []
    moved = store.photos.by_path(str(target))
    assert moved is not None and moved.id == old.id and store.photos.by_path(str(a)) is None
    assert [f.id for f in store.faces.for_photo(moved.id)] == face_ids
    assert [o.concept_id for o in store.observations.for_photo(moved.id)] == [concept.id]


def test_deleted_files_are_removed_with_faces_and_observations(run: Run, tmp_path: Path, store: Store) -> None:
    lib = tmp_path / "lib"
    a, b = photo(lib / "a.jpg", 1, "7"), photo(lib / "b.jpg", 2)
    run(lib)
    gone = store.photos.by_path(str(a))
    concept = store.concepts.add("Ann", "person")
    store.observations.add(concept.id, time=None, place="", source="face", kind="sighting", photo_id=gone.id)
    thumb = Path(gone.thumbnail)
    a.unlink()
    summary, _ = run(lib)
    assert summary.removed == 1 and store.photos.by_path(str(a)) is None
    assert store.faces.count() == 0 and store.observations.count() == 0 and not thumb.exists()
    assert store.photos.by_path(str(b)) is not None
    # A deleted file named directly (what the watcher passes) is removed too.
    b.unlink()
    summary, _ = run(b)
    assert summary.removed == 1 and store.photos.count() == 0


def test_missing_folder_keeps_its_photos(run: Run, tmp_path: Path, store: Store) -> None:
    lib = tmp_path / "drive"
    photo(lib / "a.jpg", 1)
    run(lib)
    shutil.rmtree(lib)
    summary, _ = run(lib)
    assert summary.removed == 0 and store.photos.count() == 1
    assert summary.skipped == [(str(lib), "folder not found (its photos are kept; is the drive connected?)")]


def test_bad_files_are_skipped_with_reasons_and_never_stop_indexing(run: Run, tmp_path: Path, store: Store) -> None:
    lib = tmp_path / "lib"
    (lib / "empty.jpg").parent.mkdir(parents=True)
    (lib / "empty.jpg").write_bytes(b"")
    (lib / "text.jpg").write_text("hello, I am not a photo")
    photo(lib / "good.jpg", 3)
    (lib / ".hidden.jpg").write_text("IMG 4 0")
    (lib / ".cache").mkdir()
    photo(lib / ".cache" / "x.jpg", 5)
    summary, _ = run(lib)
    reasons = dict(summary.skipped)
    assert summary.new == 1
    assert reasons == {str(lib / "empty.jpg"): "empty file",
                       str(lib / "text.jpg"): "not a recognised image format: text.jpg"}
    assert dict(store.photos.errors()) == reasons
    # The next runs try the bad file again (it may have been half copied), up to the cap; then they
    # report it without re-reading it. A fixed file is then indexed.
    for _ in range(MAX_FAILURES - 1):
        run.reader.reads.clear()
        summary, _ = run(lib)
        assert dict(summary.skipped) == reasons and run.reader.reads == [str(lib / "text.jpg")]
    run.reader.reads.clear()
    summary, _ = run(lib)
    assert dict(summary.skipped) == reasons and run.reader.reads == []
    photo(lib / "text.jpg", 6)
    summary, _ = run(lib)
    assert summary.new == 1 and store.photos.errors() == [(str(lib / "empty.jpg"), "empty file")]


def test_symlink_loops_are_not_followed(run: Run, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    photo(lib / "sub" / "a.jpg", 1)
    os.symlink(lib, lib / "sub" / "back-to-top")            # a folder loop
    os.symlink(lib / "x.jpg", lib / "y.jpg")                  # a file loop: x -> y -> x
    os.symlink(lib / "y.jpg", lib / "x.jpg")
    os.symlink(lib / "nowhere.jpg", lib / "broken.jpg")
    summary, _ = run(lib)
    assert summary.new == 1
    reasons = dict(summary.skipped)
    assert reasons[str(lib / "sub" / "back-to-top")] == "symlink loop or duplicate folder link"
    assert reasons[str(lib / "broken.jpg")] == "broken or looping symlink"
    assert str(lib / "x.jpg") in reasons and str(lib / "y.jpg") in reasons


def test_folder_deleted_while_indexing(run: Run, tmp_path: Path, store: Store) -> None:
    lib = tmp_path / "lib"
    photo(lib / "a" / "1.jpg", 1)
    photo(lib / "b" / "2.jpg", 2)
    photo(lib / "b" / "3.jpg", 3)
    real_read = run.reader.read

    def read_and_delete(path: Path) -> DecodedPhoto:
        shutil.rmtree(lib / "b", ignore_errors=True)
        return real_read(path)

    run.reader.read = read_and_delete  # type: ignore[method-assign]
    summary, _ = run(lib)
    assert summary.new == 1
    assert dict(summary.skipped) == {str(lib / "b" / "2.jpg"): "file disappeared while indexing",
                                     str(lib / "b" / "3.jpg"): "file disappeared while indexing"}
    assert store.photos.errors() == []   # nothing to remember about files that are gone


def test_unreadable_file_is_skipped(run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lib = tmp_path / "lib"
    locked = photo(lib / "locked.jpg", 1)
    photo(lib / "ok.jpg", 2)
    if os.geteuid() == 0:   # root reads anything: make the open fail the way a locked file does
        real_open = open

        def guarded_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
            if str(file) == str(locked):
                raise PermissionError(13, "Permission denied", str(file))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr("builtins.open", guarded_open)
    else:
        locked.chmod(0)
    summary, _ = run(lib)
    assert summary.new == 1
    assert dict(summary.skipped) == {str(locked): "cannot read file (permission denied)"}


def test_a_photo_that_failed_is_retried_though_unchanged_capped_and_on_request(run: Run, tmp_path: Path,
                                                                               store: Store) -> None:
    """Permission denied leaves size and mtime as they were: fixing it must still get the photo indexed."""
    lib = tmp_path / "lib"
    locked = photo(lib / "locked.jpg", 1, "7")
    real_read = run.reader.read
    denied = {str(locked)}

    def read(path: Path) -> DecodedPhoto:
        if str(path) in denied:
            raise PermissionError(13, "Permission denied", str(path))
        return real_read(path)

    run.reader.read = read  # type: ignore[method-assign]
    for _ in range(MAX_FAILURES):
        summary, _ = run(lib)
        assert dict(summary.skipped) == {str(locked): "cannot read file (permission denied)"}
    assert store.photos.failures(str(locked)) == MAX_FAILURES
    run.reader.reads.clear()
    denied.clear()                      # the user fixes the permission: size and mtime do not change
    summary, _ = run(lib)               # past the cap, a plain scan leaves it alone...
    assert summary.new == 0 and run.reader.reads == []
    summary = [e for e in index_paths(store, run.settings, [lib], reader=run.reader, faces=SeedFaces(),
                                      retry_failed=True) if isinstance(e, IndexSummary)][0]
    assert summary.new == 1 and summary.faces == 1 and summary.skipped == []     # ...and asked, it tries again
    assert store.photos.errors() == [] and store.faces.count() == 1


def test_a_photo_that_failed_once_is_indexed_by_the_next_scan(run: Run, tmp_path: Path, store: Store) -> None:
    lib = tmp_path / "lib"
    locked = photo(lib / "locked.jpg", 1)
    real_read = run.reader.read
    fail = [True]

    def read(path: Path) -> DecodedPhoto:
        if fail[0]:
            raise PermissionError(13, "Permission denied", str(path))
        return real_read(path)

    run.reader.read = read  # type: ignore[method-assign]
    summary, _ = run(lib)
    assert summary.new == 0 and store.photos.failures(str(locked)) == 1
    fail[0] = False
    summary, _ = run(lib)
    assert summary.new == 1 and store.photos.errors() == [] and store.photos.failures(str(locked)) == 0


def test_cancel_stops_between_photos_and_a_rerun_completes_without_duplicates(run: Run, tmp_path: Path,
                                                                              store: Store) -> None:
    lib = tmp_path / "lib"
    for i in range(20):
        photo(lib / f"{i:02}.jpg", i + 1, str(100 + i % 3))
    cancel = threading.Event()
    events = index_paths(store, run.settings, [lib], reader=run.reader, faces=SeedFaces(), embedder=run.embedder,
                         cancel=cancel, batch_size=4)
    for event in events:
        if isinstance(event, Progress) and event.stage == "index" and event.done == 10:
            cancel.set()
        last = event
    assert isinstance(last, IndexSummary) and last.cancelled
    first = store.photos.count()
    assert 0 < first < 20 and first % 4 == 0   # whole batches only, each photo committed with its faces
    assert store.faces.count() == first
    summary, _ = run(lib)
    assert summary.new == 20 - first and summary.unchanged == first
    assert store.photos.count() == 20 and store.faces.count() == 20
    paths = [p.path for p in store.photos.list(limit=100)]
    assert len(paths) == len(set(paths)) == 20


def test_clip_embeddings_are_batched_across_photos(run: Run, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    for i in range(19):
        photo(lib / f"{i:02}.jpg", i + 1)
    run(lib)
    assert run.embedder.batches == [8, 8, 3]
    for i in range(19):
        stored = run.store.photos.embedding(run.store.photos.by_path(str(lib / f"{i:02}.jpg")).id)
        assert np.allclose(stored, _unit(i + 1, 512))   # each vector lands on its own photo


def test_a_copy_is_another_path_of_the_same_photo_not_a_move(run: Run, tmp_path: Path, store: Store) -> None:
    lib = tmp_path / "lib"
    a = photo(lib / "a.jpg", 1)
    run(lib)
    shutil.copy(a, lib / "copy.jpg")
    summary, _ = run(lib)
    assert (summary.new, summary.moved, summary.copies) == (0, 0, 1) and store.photos.count() == 1
    only = store.photos.by_path(str(a))
    assert store.photos.paths(only.id) == [str(a), str(lib / "copy.jpg")]


def test_content_hash_streams_large_files(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (3 * 1024 * 1024 + 5))
    other = tmp_path / "other.bin"
    other.write_bytes(b"x" * (3 * 1024 * 1024 + 4) + b"y")
    assert content_hash(big) != content_hash(other) and len(content_hash(big)) == 40


def test_a_person_in_a_new_photo_fires_their_reminder_once(run: Run, tmp_path: Path, store: Store) -> None:
    sister = store.concepts.add("Mia", "person")
    store.concepts.add_ref(sister.id, "face", _unit(1007, 128))      # seed face 7 is Mia
    trigger_id = store.triggers.add(sister.id, "ask her about the new flat", "SKS")
    lib = tmp_path / "lib"
    photo(lib / "old.jpg", 1, "7", "2015-06-01T10:00:00+02:00 48.85 2.35")  # taken before the instruction
    summary, _ = run(lib)
    assert summary.reminders == []                                    # an old photo is not "showing up again"
    photo(lib / "new1.jpg", 2, "7")                                   # file time now: taken after it
    photo(lib / "new2.jpg", 3, "7,8")
    photo(lib / "stranger.jpg", 4, "8")
    summary, _ = run(lib)
    assert [(r.name, r.keyword, r.trigger_id) for r in summary.reminders] == [("Mia", "SKS", trigger_id)]
    assert Path(summary.reminders[0].path).name in {"new1.jpg", "new2.jpg"}
    assert "ask her about the new flat" in summary.reminders[0].text()
    assert summary.as_dict()["reminders"][0]["name"] == "Mia"
    assert store.triggers.list()[0].fired_count == 1
    summary, _ = run(lib)                                             # nothing new: nothing fires
    assert summary.reminders == []


def test_next_photos_are_decoded_and_searched_for_faces_while_a_batch_is_embedded(store: Store,
                                                                                  tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    for i in range(16):
        photo(lib / f"{i:02}.jpg", i + 1, str(100 + i))
    ninth_searched = threading.Event()

    class WatchingFaces(SeedFaces):
        def detect(self, pixels: np.ndarray) -> list[DetectedFace]:
            if pixels[0, 0, 0] == 9:
                ninth_searched.set()
            return super().detect(pixels)

    class WaitingEmbedder(SeedEmbedder):
        def embed_images(self, images: list[np.ndarray]) -> np.ndarray:
            if not self.batches:    # the first batch (photos 1-8) waits for the worker to reach photo 9
                self.overlapped = ninth_searched.wait(timeout=10)
            return super().embed_images(images)

    embedder = WaitingEmbedder()
    events = list(index_paths(store, Settings(), [lib], reader=TextReader(), faces=WatchingFaces(),
                              embedder=embedder, batch_size=8))
    assert embedder.overlapped and embedder.batches == [8, 8]
    summary = events[-1]
    assert isinstance(summary, IndexSummary) and summary.new == 16 and summary.faces == 16
    for i in range(16):    # every photo still gets its own faces and embedding
        record = store.photos.by_path(str(lib / f"{i:02}.jpg"))
        assert np.allclose(store.photos.embedding(record.id), _unit(i + 1, 512))
    assert [e.done for e in events if isinstance(e, Progress) and e.stage == "index"] == list(range(1, 17))
