"""The in-memory vector indexes answer what exact search answers, and never disagree with the database.

They are loaded on the first search and follow the database through the change log: a
forget, a rollback, another connection or another process must all show in the next search.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from companion.core.store import Store, vectors
from companion.core.store.memories import NewMemory
from companion.core.store.photos import PhotoRecord
from companion.core.types import Box
from companion.core.vectors import unit_rows

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc)


@pytest.fixture()
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = Store.open(tmp_path / "c.db")
    yield s
    s.close()


def unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    v = rng.normal(size=(n, dim)).astype("f4")
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def add_photos(store: Store, vectors_: np.ndarray, start: int = 0) -> list[int]:
    ids = []
    with store.db.transaction():
        for i, vector in enumerate(vectors_, start=start):
            pid = store.photos.upsert(PhotoRecord(f"/p/{i}.jpg", str(i), 1, 1.0, T0, "exif", None, None, None, 1, 1,
                                                  None))
            store.photos.set_embedding(pid, vector)
            ids.append(pid)
    return ids


def sqlite_vec_knn(store: Store, table: str, key: str, query: np.ndarray, k: int) -> list[int]:
    """What the store answered before the index: sqlite-vec's exact KNN."""
    rows = store.db.query(f"SELECT {key} FROM {table} WHERE embedding MATCH ? AND k = ? ORDER BY distance",
                          (query.astype("<f4").tobytes(), k))
    return [int(r[0]) for r in rows]


def test_index_search_equals_exact_search_on_a_seeded_set(store: Store) -> None:
    rng = np.random.default_rng(11)
    photo_vectors = unit(rng, 3000, 512)
    photo_ids = add_photos(store, photo_vectors)
    memory_vectors = unit(rng, 500, 384)
    memory_ids = [store.memories.add(NewMemory("semantic", f"memory {i}"), v) for i, v in enumerate(memory_vectors)]
    for query in unit(rng, 25, 512):
        expected = [photo_ids[i] for i in np.argsort(1 - photo_vectors @ query)[:20]]
        assert [p.id for p, _ in store.photos.search(query, 20)] == expected
        assert sqlite_vec_knn(store, "vec_images", "photo_id", query, 20) == expected
        # Paging through the ranking gives the same photos, in the same order.
        assert [p.id for p, _ in store.photos.search(query, 10, offset=10)] == expected[10:]
    for query in unit(rng, 25, 384):
        expected = [memory_ids[i] for i in np.argsort(1 - memory_vectors @ query)[:10]]
        assert [m for m, _ in store.memories.search_vector(query, 10)] == expected
        assert sqlite_vec_knn(store, "vec_memories", "memory_id", query, 10) == expected


def test_new_and_replaced_vectors_are_found_at_once(store: Store) -> None:
    rng = np.random.default_rng(2)
    ids = add_photos(store, unit(rng, 50, 512))
    store.photos.search(unit(rng, 1, 512)[0], 5)            # loads the index
    target = unit(rng, 1, 512)[0]
    [new] = add_photos(store, target[None, :], start=100)
    assert store.photos.search(target, 1)[0][0].id == new
    store.photos.set_embedding(ids[0], target)              # replaced: the old vector must not answer
    assert {p.id for p, _ in store.photos.search(target, 2)} == {new, ids[0]}
    assert store.vectors["vec_images"].stats()["vectors"] == 51


def test_forgetting_a_concept_removes_its_keys_and_faces_from_the_indexes(store: Store) -> None:
    rng = np.random.default_rng(5)
    anna = store.concepts.add("Anna", "person")
    [pid] = add_photos(store, unit(rng, 1, 512))
    face_vector = unit(rng, 1, 128)[0]
    face = store.faces.add(pid, Box(0, 0, 5, 5), 0.9, face_vector)
    cluster = store.faces.new_cluster()
    store.faces.set_cluster([face], cluster)
    store.faces.name_cluster(cluster, anna.id)
    store.concepts.add_ref(anna.id, "face", face_vector, face_id=face, photo_id=pid)
    key = unit(rng, 1, 512)[0]
    store.concepts.add_ref(anna.id, "image", key)
    memory_vector = unit(rng, 1, 384)[0]
    memory = store.memories.add(NewMemory("semantic", "Anna climbs", concept_ids=(anna.id,)), memory_vector)
    # Loaded and answering before the forget.
    assert store.concepts.match("face", face_vector, 0.1) == [(anna.id, pytest.approx(0.0, abs=1e-6))]
    assert store.concepts.match("image", key, 0.1)[0][0] == anna.id
    assert store.faces.nearest(face_vector, 5, 0.1)[0][0] == face
    assert store.memories.search_vector(memory_vector, 1)[0][0] == memory

    store.forget_concept(anna.id)
    assert store.concepts.match("face", face_vector, 2.0) == []
    assert store.concepts.match("image", key, 2.0) == []
    assert store.faces.nearest(face_vector, 5, 2.0) == []
    assert store.memories.search_vector(memory_vector, 5) == []
    for table in ("vec_ref_faces", "vec_ref_images", "vec_faces", "vec_memories"):
        assert store.vectors[table].stats()["vectors"] == 0, table
        index = store.vectors[table]
        assert not index._matrix.any(), f"{table}: the forgotten vector is still in memory"


def test_forgetting_a_memory_removes_it_from_the_index(store: Store) -> None:
    rng = np.random.default_rng(6)
    vectors_ = unit(rng, 3, 384)
    ids = [store.memories.add(NewMemory("semantic", f"m{i}"), v) for i, v in enumerate(vectors_)]
    assert store.memories.search_vector(vectors_[1], 1)[0][0] == ids[1]
    assert store.forget_memory(ids[1])
    assert ids[1] not in [m for m, _ in store.memories.search_vector(vectors_[1], 3)]


def test_a_rolled_back_write_never_reaches_the_index(store: Store) -> None:
    rng = np.random.default_rng(8)
    add_photos(store, unit(rng, 20, 512))
    target = unit(rng, 1, 512)[0]
    store.photos.search(target, 1)
    with pytest.raises(RuntimeError):
        with store.db.transaction():
            [pid] = add_photos(store, target[None, :], start=50)
            # Inside the transaction its own write is visible, as in SQL...
            assert store.photos.search(target, 1)[0][0].id == pid
            raise RuntimeError("crash before commit")
    # ...and after the rollback it is gone from the index as from the table.
    assert store.photos.search(target, 1)[0][1] > 0.1
    assert store.vectors["vec_images"].stats()["vectors"] == 20


def test_a_write_by_another_connection_is_seen(tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    window, indexer = Store.open(tmp_path / "c.db"), Store.open(tmp_path / "c.db")
    add_photos(window, unit(rng, 10, 512))
    window.photos.search(unit(rng, 1, 512)[0], 1)          # the window's index is loaded
    target = unit(rng, 1, 512)[0]
    [pid] = add_photos(indexer, target[None, :], start=10)
    assert window.photos.search(target, 1)[0][0].id == pid
    indexer.photos.delete("/p/10.jpg")
    assert window.photos.search(target, 1)[0][0].id != pid
    window.close()
    indexer.close()


def test_a_write_by_another_process_is_seen(tmp_path: Path) -> None:
    rng = np.random.default_rng(10)
    store = Store.open(tmp_path / "c.db")
    add_photos(store, unit(rng, 10, 512))
    target = unit(rng, 1, 512)[0]
    store.photos.search(target, 1)
    np.save(tmp_path / "target.npy", target)
    script = textwrap.dedent(f"""
        import numpy as np
        from companion.core.store import Store
        from companion.core.store.photos import PhotoRecord
        s = Store.open({str(tmp_path / "c.db")!r})
        pid = s.photos.upsert(PhotoRecord("/other.jpg", "x", 1, 1.0, None, "file", None, None, None, 1, 1, None))
        s.photos.set_embedding(pid, np.load({str(tmp_path / "target.npy")!r}))
        print(pid)
        s.close()
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO)
    assert store.photos.search(target, 1)[0][0].id == int(out.stdout.strip())
    store.close()


def test_chunk_loader_reads_what_vec0_holds(store: Store) -> None:
    rng = np.random.default_rng(12)
    ids = add_photos(store, unit(rng, 2100, 512))   # three vec0 chunks, with holes below
    with store.db.transaction() as conn:
        for pid in ids[5:1500:7]:
            vectors.remove(conn, "vec_images", pid)
    index = store.vectors["vec_images"]
    conn = store.db.reader()
    fast_ids, fast = index._read_chunks(conn)
    slow_ids, slow = index._read_rows(conn)
    assert sorted(fast_ids.tolist()) == sorted(slow_ids.tolist()) and len(fast_ids) == 2100 - len(ids[5:1500:7])
    order_fast, order_slow = np.argsort(fast_ids), np.argsort(slow_ids)
    assert np.allclose(fast[order_fast], unit_rows(slow[order_slow]), rtol=0, atol=1e-6)


def test_an_index_behind_the_pruned_log_reloads(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vectors, "LOG_KEEP", 5)
    monkeypatch.setattr(vectors, "PRUNE_EVERY", 5)
    rng = np.random.default_rng(13)
    add_photos(store, unit(rng, 3, 512))
    store.photos.search(unit(rng, 1, 512)[0], 1)
    loads = store.vectors["vec_images"].stats()["loads"]
    batch = unit(rng, 30, 512)
    ids = add_photos(store, batch, start=3)             # 30 changes: the log keeps only the last few
    assert store.db.query_one("SELECT count(*) FROM vector_changes")[0] < 30
    assert store.photos.search(batch[0], 1)[0][0].id == ids[0]
    assert store.vectors["vec_images"].stats()["loads"] == loads + 1


def test_a_large_table_answers_its_first_search_without_loading(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vectors, "LOAD_ON_SECOND_SEARCH", 20)
    rng = np.random.default_rng(14)
    photo_vectors = unit(rng, 40, 512)
    ids = add_photos(store, photo_vectors)
    index = store.vectors["vec_images"]
    queries = unit(rng, 3, 512)
    expected = [[ids[i] for i in np.argsort(1 - photo_vectors @ q)[:5]] for q in queries]
    assert [p.id for p, _ in store.photos.search(queries[0], 5)] == expected[0]
    assert not index.stats()["loaded"]            # sqlite-vec answered: a one-shot command pays no load
    assert [p.id for p, _ in store.photos.search(queries[1], 5)] == expected[1]
    assert index.stats()["loaded"]
    assert [p.id for p, _ in store.photos.search(queries[2], 5)] == expected[2]


def test_a_table_too_large_for_memory_is_searched_on_disk(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vectors, "LOAD_ON_SECOND_SEARCH", 10)
    monkeypatch.setattr(vectors, "MAX_IN_MEMORY", 30)
    rng = np.random.default_rng(15)
    photo_vectors = unit(rng, 40, 512)
    ids = add_photos(store, photo_vectors)
    store.vectors.warm()
    index = store.vectors["vec_images"]
    for query in unit(rng, 4, 512):
        order = [ids[i] for i in np.argsort(1 - photo_vectors @ query)]
        assert [p.id for p, _ in store.photos.search(query, 5)] == order[:5]
        assert [p.id for p, _ in store.photos.search(query, 5, offset=5)] == order[5:10]
        allowed = set(ids[::3])
        assert [i for i, _ in index.search(query, 4, only=np.array(sorted(allowed)))] == \
            [i for i in order if i in allowed][:4]
        near = index.within(query, 1.0)
        assert [i for i, _ in near] == [i for i in order if 1 - photo_vectors[ids.index(i)] @ query <= 1.0]
    assert not index.stats()["loaded"]                      # never loaded: memory stays bounded


def test_memory_retrieval_through_the_index_equals_retrieval_through_exact_search(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from companion.core.answer.retrieve import search_memories

    rng = np.random.default_rng(16)
    memory_vectors = unit(rng, 300, 384)
    words = ["hiking", "sailing", "market", "museum", "tent", "birthday"]
    for i, vector in enumerate(memory_vectors):
        store.memories.add(NewMemory("semantic", f"went {words[i % 6]} with person{i % 17}", (words[i % 6],)), vector)
    queries = unit(rng, 10, 384)

    class Embedder:
        name, dim = "seeded", 384
        vector = queries[0]

        def embed(self, texts: list[str]) -> np.ndarray:
            return np.stack([self.vector] * len(texts))

    embedder = Embedder()
    texts = [f"what about the {words[i % 6]} with person{i}?" for i in range(10)]
    fast = []
    for text, query in zip(texts, queries, strict=True):
        embedder.vector = query
        fast.append([m.id for m in search_memories(store, text, embedder, limit=8)])

    def exact(query: np.ndarray, limit: int = 10) -> list[tuple[int, float]]:
        rows = store.db.query("SELECT memory_id, distance FROM vec_memories WHERE embedding MATCH ? AND k = ?",
                              (query.astype("<f4").tobytes(), limit))
        return [(int(r[0]), float(r[1])) for r in rows]

    monkeypatch.setattr(store.memories, "search_vector", exact)
    for text, query, got in zip(texts, queries, fast, strict=True):
        embedder.vector = query
        assert got == [m.id for m in search_memories(store, text, embedder, limit=8)]
