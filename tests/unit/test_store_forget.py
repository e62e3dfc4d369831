"""Forgetting a concept or a memory leaves no trace in any table, index or file."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from companion.core.store import Store
from companion.core.store.memories import NewMemory
from companion.core.store.photos import PhotoRecord
from companion.core.types import Box

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc)


def vec(dim: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=dim).astype("f4")
    return v / np.linalg.norm(v)


def every_text_in_database(store: Store) -> str:
    """All text in every table, including FTS shadow tables and vec0 internals."""
    dump = []
    for (table,) in store.db.query("SELECT name FROM sqlite_master WHERE type = 'table'"):
        for row in store.db.query(f'SELECT * FROM "{table}"'):
            dump.extend(str(value) for value in row if isinstance(value, str))
    return "\n".join(dump)


def seed_anna(store: Store, tmp_path: Path) -> int:
    anna = store.concepts.add("Anna", "person", "my sister, loves climbing")
    ref_file = tmp_path / "concept_images" / f"concept-{anna.id}-0123abcd.jpg"   # the profile's own copy
    ref_file.parent.mkdir()
    ref_file.write_bytes(b"jpeg bytes")
    pid = store.photos.upsert(PhotoRecord("/p/1.jpg", "h1", 1, 1.0, T0, "exif", None, None, None, 10, 10, None))
    face = store.faces.add(pid, Box(0, 0, 5, 5), 0.9, vec(128, 1))
    cluster = store.faces.new_cluster()
    store.faces.set_cluster([face], cluster)
    store.faces.name_cluster(cluster, anna.id)
    store.concepts.add_ref(anna.id, "face", vec(128, 1), image_path=str(ref_file), face_id=face, photo_id=pid)
    store.concepts.add_ref(anna.id, "image", vec(512, 2))
    store.observations.add(anna.id, time=T0, place="Lyon", source="face", kind="sighting", photo_id=pid)
    conv = store.conversations.start()
    turn = store.conversations.add_turn(conv.id, "user", "Went bouldering with Anna in Grenoble", T0)
    store.conversations.add_turn(conv.id, "user", "The weather was great", T0)
    store.observations.add(anna.id, time=T0, place="Grenoble", source="conversation", kind="sighting",
                           turn_id=turn.id, action="bouldering")
    store.memories.add(NewMemory("semantic", "Anna went bouldering in Grenoble", ("Anna", "bouldering"),
                                 concept_ids=(anna.id,), source_turn_ids=(turn.id,)), vec(384, 3))
    # Learnt from the same turn but naming nobody: only the turn links it to Anna.
    store.memories.add(NewMemory("episodic", "Climbed a 6b route at the Grenoble gym", ("climbing",),
                                 source_turn_ids=(turn.id,)), vec(384, 4))
    store.triggers.add(anna.id, "if Anna shows up again remind me about her birthday", "BIRTHDAY")
    return anna.id


def test_forget_concept_leaves_no_trace(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "c.db")
    anna = seed_anna(store, tmp_path)
    other = store.memories.add(NewMemory("semantic", "I like tea", ("tea",)), vec(384, 9))
    report = store.forget_concept(anna)

    assert report.name == "Anna" and report.faces == 1 and report.memories == 2 and report.turns == 1
    for table in ("concepts", "concept_refs", "observations", "triggers", "memory_concepts", "vec_ref_faces",
                  "vec_ref_images", "faces", "vec_faces"):
        assert store.db.query_one(f"SELECT count(*) FROM {table}")[0] == 0, table
    assert store.db.query_one("SELECT count(*) FROM memories")[0] == 1  # the unrelated memory stays
    assert store.memories.get(other) is not None
    assert store.db.query_one("SELECT count(*) FROM vec_memories")[0] == 1
    assert store.memories.search_text("bouldering") == []
    assert store.conversations.search("Anna") == []
    assert [t.text for t in store.conversations.turns()] == ["The weather was great"]
    assert "Anna" not in every_text_in_database(store)
    assert "bouldering" not in every_text_in_database(store)
    assert "6b route" not in every_text_in_database(store)   # what was learnt from her turns goes too
    assert not (tmp_path / "concept_images" / f"concept-{anna}-0123abcd.jpg").exists()
    assert store.photos.by_path("/p/1.jpg") is not None  # the user's photo itself is theirs to keep
    assert store.db.query_one("PRAGMA integrity_check")[0] == "ok"
    store.close()


def test_forget_memory_removes_row_links_fts_and_vector(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "c.db")
    anna = store.concepts.add("Anna", "person")
    mid = store.memories.add(NewMemory("semantic", "Anna's secret recipe uses cardamom", ("cardamom",),
                                       concept_ids=(anna.id,)), vec(384, 1))
    assert store.forget_memory(mid)
    for table in ("memories", "memory_concepts", "memory_turns", "vec_memories"):
        assert store.db.query_one(f"SELECT count(*) FROM {table}")[0] == 0, table
    assert store.memories.search_text("cardamom") == []
    assert "cardamom" not in every_text_in_database(store)
    store.close()
