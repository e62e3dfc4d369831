"""A profile's own files are stored relative to it (a copy is self-contained) and deleted crash-safely."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from companion.app import concepts
from companion.app.services import Services
from companion.core.store import Database, Store, migrations
from companion.core.store.files import ProfileFiles


def add_person_with_reference(home: Path, name: str = "Anna") -> Path:
    services = Services.open(home)
    person = services.store.concepts.add(name, "person")
    copy = services.paths.concept_images_dir / f"concept-{person.id}-0a1b2c3d.jpg"
    copy.write_bytes(b"\xff\xd8 the reference photo")
    services.store.concepts.add_ref(person.id, "face", np.ones(128, dtype="f4"), image_path=str(copy))
    services.close()
    return copy


def test_forget_in_a_copied_profile_leaves_the_original_alone(tmp_path: Path) -> None:
    original = add_person_with_reference(tmp_path / "original")
    shutil.copytree(tmp_path / "original", tmp_path / "copy")
    copy = tmp_path / "copy" / original.relative_to(tmp_path / "original")

    services = Services.open(tmp_path / "copy")
    assert concepts.reference_images(services, services.store.concepts.resolve("Anna").id) == [str(copy)]
    concepts.forget_concept(services, "Anna")
    services.close()
    assert original.is_file() and not copy.exists()


def test_a_moved_profile_finds_its_reference_photos(tmp_path: Path) -> None:
    original = add_person_with_reference(tmp_path / "before")
    (tmp_path / "before").rename(tmp_path / "after")
    services = Services.open(tmp_path / "after")
    [path] = concepts.reference_images(services, services.store.concepts.resolve("Anna").id)
    assert Path(path).read_bytes() == b"\xff\xd8 the reference photo"
    assert Path(path) == tmp_path / "after" / original.relative_to(tmp_path / "before")
    services.close()


def test_migration_makes_paths_inside_the_profile_relative(tmp_path: Path) -> None:
    db = Database(tmp_path / "data" / "companion.db")
    migrations.migrate(db, upto="0006_time_and_place_queries")
    db.execute("INSERT INTO concepts (id, name, category, created_at, updated_at) VALUES (3, 'Rex', 'pet', 'x', 'x')")
    refs = ["/old/home/data/concept_images/concept-3-aa11.jpg",            # a copy in the old profile
            r"C:\Users\me\AppData\Local\Companion\concept_images\concept-3-bb22.png",
            "/home/me/Pictures/rex.jpg"]                                    # not a profile copy: stays
    for i, path in enumerate(refs):
        db.execute("INSERT INTO concept_refs (id, concept_id, kind, image_path, created_at) VALUES (?, 3, 'image', ?, "
                   "'x')", (i + 1, path))
    for i, (thumbnail, digest) in enumerate([("/old/cache/thumbnails/ab/abcdef.jpg", "abcdef"),
                                             ("/elsewhere/12/123456.jpg", "123456")]):   # one photo per content
        db.execute("INSERT INTO photos (path, content_hash, size, mtime, thumbnail, indexed_at) "
                   "VALUES (?, ?, 1, 1, ?, 'x')", (f"/p/{i}.jpg", digest, thumbnail))
    db.close()

    files = ProfileFiles(concept_images=tmp_path / "data" / "concept_images", thumbnails=tmp_path / "thumbs")
    store = Store.open(tmp_path / "data" / "companion.db", files=files)
    assert [r.image_path for r in store.concepts.refs(3)] == [
        str(tmp_path / "data" / "concept_images" / "concept-3-aa11.jpg"),
        str(tmp_path / "data" / "concept_images" / "concept-3-bb22.png"),
        "/home/me/Pictures/rex.jpg"]
    assert store.photos.by_path("/p/0.jpg").thumbnail == str(tmp_path / "thumbs" / "ab" / "abcdef.jpg")
    assert store.photos.by_path("/p/1.jpg").thumbnail == "/elsewhere/12/123456.jpg"
    stored = [r[0] for r in store.db.query("SELECT image_path FROM concept_refs ORDER BY id")]
    assert stored == ["concept-3-aa11.jpg", "concept-3-bb22.png", "/home/me/Pictures/rex.jpg"]
    store.close()


def test_only_files_inside_the_profile_are_ever_deleted(tmp_path: Path) -> None:
    files = ProfileFiles(concept_images=tmp_path / "profile")
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(b"x")
    assert files.owned("concept_images", "../outside.jpg") is None
    assert files.owned("concept_images", str(outside)) is None
    assert files.to_row("concept_images", str(outside)) == str(outside)


CRASH_AFTER_COMMIT = """
import os, sys
from companion.app.services import Services
from companion.core.store.files import ProfileFiles
from companion.app import concepts
services = Services.open(sys.argv[1])
ProfileFiles.sweep = lambda self, db: os._exit(9)     # the process dies right after the commit
concepts.forget_concept(services, "Anna")
"""


def test_a_crash_between_commit_and_delete_does_not_orphan_the_photo(tmp_path: Path) -> None:
    photo = add_person_with_reference(tmp_path / "home")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[2]),
                                                        os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", CRASH_AFTER_COMMIT, str(tmp_path / "home")], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 9, result.stderr
    assert photo.is_file()                        # committed, not yet deleted
    services = Services.open(tmp_path / "home")   # the next start finishes the job
    assert not photo.exists()
    assert services.store.concepts.by_name("Anna") is None
    assert services.store.db.query_one("SELECT count(*) FROM pending_deletions")[0] == 0
    services.close()
