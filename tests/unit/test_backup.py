"""Backup and restore: one archive that brings back the same people, faces, memories and answers.

A backup taken while photos are being indexed in another thread restores to a sound database;
a restore checks the whole archive before it changes anything, refuses a backup from a newer
Companion, a cut-short or tampered archive and a profile that already holds a life (unless
asked to replace it), and a full disk loses nothing.
"""

from __future__ import annotations

import errno
import json
import threading
import zipfile
from pathlib import Path

import pytest

from companion.app import backup as backups
from companion.app import chat, concepts, library
from companion.app.services import Services
from companion.core.answer.events import Done
from companion.core.errors import DiskFullError, InvalidInputError
from companion.core.library.indexing import index_paths
from companion.core.store.backup import check_copy
from companion.core.store.migrations import MIGRATIONS
from tests.unit._personal import say
from tests.unit.test_indexing import SeedFaces, TextReader, photo


def _life(services: Services, folder: Path) -> None:
    """A small life: photos with faces, a named person, a pet with a reference photo, memories from chat."""
    folder.mkdir()
    for seed in range(1, 5):
        photo(folder / f"p{seed}.jpg", seed, "7,8" if seed % 2 else "7", "2024-06-01T12:00:00+00:00 60.17 24.94")
    for _ in index_paths(services.store, services.settings, [folder], reader=TextReader(), faces=SeedFaces()):
        pass
    face = services.store.faces.for_photo(services.store.photos.by_path(str(folder / "p1.jpg")).id)[0]
    cluster = services.store.faces.new_cluster()
    services.store.faces.set_cluster([face.id], cluster, "user")
    library.name_face_group(services, cluster, "Anna")
    reference = folder / "rex.png"
    from tests.unit._photos import picture
    picture(3).save(reference)
    concepts.add_concept(services, "Rex", "pet", "a black labrador", images=[reference])
    say(services.deps(), (0.0, "I went hiking with Anna in Nuuksio."), (1.0, "My favourite food is ramen."))


def _answer(services: Services, question: str) -> str:
    done = [e for e in chat.ask(services, question, temporary=True) if isinstance(e, Done)]
    return done[-1].answer.answer


def _facts(services: Services) -> dict[str, object]:
    store = services.store
    return {
        "people": sorted(c.name for c in store.concepts.list()),
        "faces": sorted((f.photo_id, f.box.left, f.box.top) for p in (1, 2, 3, 4) for f in store.faces.for_photo(p)),
        "named_faces": sorted(f.id for f in store.faces.of_concept(store.concepts.by_name("Anna").id)),
        "memories": sorted(m.content for m in store.memories.list(limit=1000)),
        "refs": [Path(r.image_path).read_bytes() for r in store.concepts.refs(store.concepts.by_name("Rex").id)
                 if r.image_path],
        "answers": [_answer(services, q) for q in ("What is my favourite food?", "Who is Anna?")],
    }


def test_backup_then_restore_into_a_fresh_profile_brings_back_the_same_life(tmp_path: Path) -> None:
    services = Services.open(tmp_path / "home")
    _life(services, tmp_path / "photos")
    library.add_watched_folder(services, tmp_path / "photos")
    before = _facts(services)
    archive = tmp_path / "life.zip"
    report = backups.backup_profile(services, archive)
    services.close()
    assert report.concept_images == 1 and str(tmp_path / "photos") in report.watched_folders

    with zipfile.ZipFile(archive) as handle:
        manifest = json.loads(handle.read("manifest.json"))
        names = set(handle.namelist())
    assert manifest["format"] == "companion-backup" and manifest["format_version"] == backups.FORMAT_VERSION
    assert manifest["database"]["migrations"] == [name for name, _ in MIGRATIONS]
    assert not any(n.startswith(("models/", "cache/")) for n in names)       # left out by default

    restored = backups.restore_home(tmp_path / "fresh", archive)
    assert restored.people == 1 and restored.photos == 4 and not restored.replaced
    fresh = Services.open(tmp_path / "fresh")
    try:
        assert check_copy(fresh.paths.db_path).problems == ()
        assert _facts(fresh) == before
        assert fresh.settings.watched_folders == [str(tmp_path / "photos")]
    finally:
        fresh.close()


def test_a_backup_taken_while_photos_are_indexed_in_another_thread_is_consistent(tmp_path: Path) -> None:
    services = Services.open(tmp_path / "home")
    folder = tmp_path / "photos"
    folder.mkdir()
    for seed in range(1, 121):
        photo(folder / f"p{seed:03}.jpg", seed, "5,6,7", "2024-06-01T12:00:00+00:00 60.17 24.94")
    started, archives = threading.Event(), []

    def run_index() -> None:
        writer = Services.open(tmp_path / "home")          # its own connections, as another window would be
        try:
            for _ in index_paths(writer.store, writer.settings, [folder], reader=TextReader(), faces=SeedFaces(),
                                 batch_size=1, prefetch=0):
                started.set()
        finally:
            writer.close()

    indexing = threading.Thread(target=run_index)
    indexing.start()
    started.wait(30)
    for n in range(3):
        archives.append(backups.backup_profile(services, tmp_path / f"during-{n}.zip").path)
    indexing.join()
    services.close()
    counts = []
    for n, archive in enumerate(archives):
        backups.restore_home(tmp_path / f"fresh-{n}", archive)
        fresh = Services.open(tmp_path / f"fresh-{n}")
        try:
            assert check_copy(fresh.paths.db_path).problems == ()
            photos = fresh.store.photos.count()
            # Every photo whole: three faces each, never half a photo's faces.
            assert fresh.store.faces.count() == 3 * photos
            counts.append(photos)
        finally:
            fresh.close()
    assert counts[0] < 120        # taken mid-run, and still whole


def test_restore_never_replaces_a_profile_without_being_asked(tmp_path: Path) -> None:
    services = Services.open(tmp_path / "home")
    concepts.add_concept(services, "Old", "person")
    archive = backups.backup_profile(services, tmp_path / "b.zip").path
    concepts.add_concept(services, "Newer", "person")
    services.close()
    with pytest.raises(InvalidInputError, match="--replace"):
        backups.restore_home(tmp_path / "home", archive)
    services = Services.open(tmp_path / "home")
    assert {c.name for c in services.store.concepts.list()} == {"Old", "Newer"}
    services.close()
    report = backups.restore_home(tmp_path / "home", archive, replace=True)
    assert report.replaced
    services = Services.open(tmp_path / "home")
    assert {c.name for c in services.store.concepts.list()} == {"Old"}
    services.close()


def _rewrite(archive: Path, target: Path, change: dict[str, bytes | None]) -> Path:
    """A copy of ``archive`` with members replaced (bytes), removed (None) or added."""
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(target, "w") as out:
        for name in source.namelist():
            if name in change:
                continue
            out.writestr(name, source.read(name))
        for name, data in change.items():
            if data is not None:
                out.writestr(name, data)
    return target


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    services = Services.open(tmp_path / "home")
    concepts.add_concept(services, "Anna", "person")
    reference = tmp_path / "dog.png"
    from tests.unit._photos import picture
    picture(9).save(reference)
    concepts.add_concept(services, "Dog", "pet", images=[reference])
    path = backups.backup_profile(services, tmp_path / "good.zip").path
    services.close()
    return path


def _manifest(archive: Path) -> dict:  # type: ignore[type-arg]
    with zipfile.ZipFile(archive) as handle:
        return json.loads(handle.read("manifest.json"))  # type: ignore[no-any-return]


def _nothing_restored(home: Path) -> None:
    db = home / "data" / "companion.db"
    assert not db.exists() or db.stat().st_size == 0 or _empty(home)
    assert not [p for p in (home / "data").glob(".restore-*")]


def _empty(home: Path) -> bool:
    services = Services.open(home)
    try:
        return services.store.concepts.count() == 0
    finally:
        services.close()


@pytest.mark.parametrize("case, message", [
    ("newer-companion", "newer Companion"),
    ("newer-format", "newer Companion"),
    ("truncated", "cut short"),
    ("tampered", "checksum"),
    ("unlisted", "does not list"),
    ("zip-slip", "unsafe path"),
    ("not-a-backup", "not a Companion backup"),
    ("damaged-db", "integrity check"),
    ("newer-schema", "newer Companion"),
])
def test_a_bad_archive_is_refused_with_a_clear_message_and_restores_nothing(
        tmp_path: Path, archive: Path, case: str, message: str) -> None:
    manifest = _manifest(archive)
    bad = tmp_path / f"{case}.zip"
    if case == "newer-companion":
        manifest["companion_version"] = "99.0.0"
        _rewrite(archive, bad, {"manifest.json": json.dumps(manifest).encode()})
    elif case == "newer-format":
        manifest["format_version"] = backups.FORMAT_VERSION + 1
        _rewrite(archive, bad, {"manifest.json": json.dumps(manifest).encode()})
    elif case == "truncated":
        data = archive.read_bytes()
        bad.write_bytes(data[: len(data) * 2 // 3])
    elif case == "tampered":
        with zipfile.ZipFile(archive) as handle:
            db = bytearray(handle.read(backups.DB_MEMBER))
        db[-100] ^= 0xFF
        _rewrite(archive, bad, {backups.DB_MEMBER: bytes(db)})
    elif case == "unlisted":
        _rewrite(archive, bad, {"data/concept_images/extra.jpg": b"x"})
    elif case == "zip-slip":
        manifest["files"].append({"path": "../../evil.txt", "size": 1, "sha256": "0"})
        _rewrite(archive, bad, {"manifest.json": json.dumps(manifest).encode(), "../../evil.txt": b"x"})
    elif case == "not-a-backup":
        _rewrite(archive, bad, {"manifest.json": b'{"format": "something-else"}'})
    elif case in ("damaged-db", "newer-schema"):
        from companion.core.store.db import connect
        with zipfile.ZipFile(archive) as handle:
            db_bytes = handle.read(backups.DB_MEMBER)
        work = tmp_path / "work.db"
        work.write_bytes(db_bytes)
        if case == "damaged-db":
            raw = bytearray(work.read_bytes())
            page = 4096
            raw[page * 3: page * 3 + 200] = b"\x07" * 200      # garbage over an interior page
            work.write_bytes(bytes(raw))
        else:
            conn = connect(work)
            conn.execute("INSERT INTO schema_migrations (name, applied_at) VALUES ('9999_future', 'x')")
            conn.execute("PRAGMA journal_mode = DELETE")
            conn.close()
        import hashlib
        data = work.read_bytes()
        for entry in manifest["files"]:
            if entry["path"] == backups.DB_MEMBER:
                entry["size"], entry["sha256"] = len(data), hashlib.sha256(data).hexdigest()
        _rewrite(archive, bad, {"manifest.json": json.dumps(manifest).encode(), backups.DB_MEMBER: data})
    with pytest.raises(Exception, match=message) as caught:
        backups.restore_home(tmp_path / "fresh", bad)
    assert "nothing was restored" in str(caught.value) or "restore it" in str(caught.value)
    _nothing_restored(tmp_path / "fresh")
    assert not (tmp_path / "evil.txt").exists()


def test_a_full_disk_while_writing_a_backup_keeps_the_earlier_one(tmp_path: Path, archive: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    earlier = archive.read_bytes()
    services = Services.open(tmp_path / "home")
    concepts.add_concept(services, "Later", "person")

    def full(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(backups, "_fsync", full)
    with pytest.raises(DiskFullError, match="disk is full"):
        backups.backup_profile(services, archive)
    services.close()
    assert archive.read_bytes() == earlier
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_full_disk_while_restoring_leaves_the_profile_as_it_was(tmp_path: Path, archive: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    services = Services.open(tmp_path / "other")
    concepts.add_concept(services, "Mine", "person")
    reference = tmp_path / "mine.png"
    from tests.unit._photos import picture
    picture(5).save(reference)
    concepts.add_concept(services, "Cat", "pet", images=[reference])
    services.close()
    real_move = backups.shutil.move

    def full(source: str, target: object) -> object:
        if ".restore-" in str(source):          # the archive's reference photos, after its database went in
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_move(source, target)

    monkeypatch.setattr(backups.shutil, "move", full)
    with pytest.raises(DiskFullError, match="nothing was restored"):
        backups.restore_home(tmp_path / "other", archive, replace=True)
    monkeypatch.setattr(backups.shutil, "move", real_move)
    services = Services.open(tmp_path / "other")
    try:
        assert {c.name for c in services.store.concepts.list()} == {"Mine", "Cat"}
        assert len(list(services.paths.concept_images_dir.rglob("*.*"))) == 1
        refs = services.store.concepts.refs(services.store.concepts.by_name("Cat").id)
        assert refs and all(Path(r.image_path).is_file() for r in refs if r.image_path)
    finally:
        services.close()


def test_models_and_thumbnails_only_when_asked(tmp_path: Path) -> None:
    services = Services.open(tmp_path / "home")
    (services.paths.models_dir / "m.gguf").write_bytes(b"GGUF model")
    (services.paths.thumbnails_dir / "ab").mkdir()
    (services.paths.thumbnails_dir / "ab" / "t.jpg").write_bytes(b"thumb")
    plain = backups.backup_profile(services, tmp_path / "plain.zip")
    full = backups.backup_profile(services, tmp_path / "full.zip", include_models=True, include_thumbnails=True)
    services.close()
    assert not plain.models and full.models and full.thumbnails
    backups.restore_home(tmp_path / "fresh", full.path)
    assert (tmp_path / "fresh" / "models" / "m.gguf").read_bytes() == b"GGUF model"
    assert (tmp_path / "fresh" / "cache" / "thumbnails" / "ab" / "t.jpg").read_bytes() == b"thumb"


def test_too_little_room_to_restore_is_said_before_anything_is_written(tmp_path: Path, archive: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil as real_shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(backups.shutil, "disk_usage", lambda _path: usage(10**9, 10**9 - 10**6, 10**6))
    with pytest.raises(DiskFullError, match="nothing was restored"):
        backups.restore_home(tmp_path / "fresh", archive)
    monkeypatch.setattr(backups.shutil, "disk_usage", real_shutil.disk_usage)
    _nothing_restored(tmp_path / "fresh")
