"""Vector KNN agrees with a numpy brute force; full-text search finds what was said."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from companion.core.store import Store
from companion.core.store.memories import NewMemory
from companion.core.store.photos import PhotoRecord


@pytest.fixture()
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = Store.open(tmp_path / "c.db")
    yield s
    s.close()


def normalised(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    v = rng.normal(size=(n, dim)).astype("f4")
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_image_knn_matches_numpy_brute_force(store: Store) -> None:
    rng = np.random.default_rng(7)
    vectors = normalised(rng, 300, 512)
    ids = []
    for i, vector in enumerate(vectors):
        record = PhotoRecord(f"/p/{i}.jpg", str(i), 1, 1.0, None, "file", None, None, None, 1, 1, None)
        pid = store.photos.upsert(record)
        store.photos.set_embedding(pid, vector)
        ids.append(pid)
    for query in normalised(rng, 5, 512):
        got = store.photos.search(query, k=10)
        distances = 1 - vectors @ query
        expected = [ids[i] for i in np.argsort(distances)[:10]]
        assert [p.id for p, _ in got] == expected
        assert [d for _, d in got] == pytest.approx(sorted(distances)[:10], abs=1e-5)


def test_face_knn_respects_max_distance(store: Store) -> None:
    rng = np.random.default_rng(1)
    pid = store.photos.upsert(PhotoRecord("/p.jpg", "h", 1, 1.0, None, "file", None, None, None, 1, 1, None))
    from companion.core.types import Box

    base = normalised(rng, 1, 128)[0]
    near = base + 0.05 * normalised(rng, 1, 128)[0]
    far = normalised(rng, 1, 128)[0]
    a = store.faces.add(pid, Box(0, 0, 1, 1), 1.0, near / np.linalg.norm(near))
    store.faces.add(pid, Box(0, 0, 1, 1), 1.0, far)
    assert [f for f, _ in store.faces.nearest(base, k=5, max_distance=0.2)] == [a]


def test_memory_vector_search_matches_numpy(store: Store) -> None:
    rng = np.random.default_rng(3)
    vectors = normalised(rng, 50, 384)
    ids = [store.memories.add(NewMemory("semantic", f"memory {i}"), v) for i, v in enumerate(vectors)]
    query = normalised(rng, 1, 384)[0]
    expected = [ids[i] for i in np.argsort(1 - vectors @ query)[:5]]
    assert [m for m, _ in store.memories.search_vector(query, 5)] == expected


def test_full_text_search_over_memories_and_turns(store: Store) -> None:
    m1 = store.memories.add(NewMemory("semantic", "We went hiking in the Alps", ("hiking", "Alps")))
    store.memories.add(NewMemory("semantic", "The car needs new tyres", ("car",)))
    assert [m for m, _ in store.memories.search_text("hike alps")] == [m1]  # porter stemming: hike ~ hiking
    conv = store.conversations.start()
    turn = store.conversations.add_turn(conv.id, "user", "Grandma's birthday is on Sunday",
                                        datetime(2024, 1, 1, tzinfo=timezone.utc))
    assert [t.id for t in store.conversations.search("birthday")] == [turn.id]
    # Punctuation and FTS operators in user text are data, not query syntax.
    assert store.conversations.search('birthday" OR NOT (') == [store.conversations.get_turn(turn.id)]
    store.memories.edit(m1, content="We went sailing", keywords=["sailing"])
    assert store.memories.search_text("hiking") == []  # the old text left the index with the edit
    assert [m for m, _ in store.memories.search_text("sailing")] == [m1]


def test_words_most_memories_contain_do_not_rank_every_memory(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from companion.core.store import memories

    monkeypatch.setattr(memories, "PRUNE_FROM", 30)
    ids = [store.memories.add(NewMemory("semantic", f"the walk number {i} in the park")) for i in range(40)]
    tent = store.memories.add(NewMemory("semantic", "Anna lent me the tent"))
    # "the" is in every memory: it no longer pulls all 41 in behind the one about the tent.
    assert [m for m, _ in store.memories.search_text("where is the tent?", 10)] == [tent]
    assert store.memories.search_text("the park", 50) == []               # only common words: nothing to rank
    assert [m for m, _ in store.memories.search_text("walk number 17", 50)] == [ids[17]]
    monkeypatch.setattr(memories, "PRUNE_FROM", 1000)                      # a small store ranks every match
    assert len(store.memories.search_text("where is the tent?", 50)) == 41


def test_pages_go_through_the_library_newest_first_each_photo_once(store: Store) -> None:
    from datetime import timedelta

    t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
    times = [t0 + timedelta(days=i % 7) for i in range(23)] + [None] * 5     # ties and undated photos
    for i, when in enumerate(times):
        store.photos.upsert(PhotoRecord(f"/p/{i}.jpg", str(i), 1, 1.0, when, "exif", None, None, None, 1, 1, None))
    expected = [p.id for p in store.photos.list(limit=100)]
    seen, after = [], None
    while True:
        page = store.photos.page(after=after, limit=4)
        seen += [p.id for p in page.photos]
        if page.next is None:
            break
        after = page.next
    assert seen == expected and len(seen) == 28
    assert store.photos.page(after=after, limit=4).photos == []
    assert [p.taken_at for p in store.photos.list(limit=100)][-5:] == [None] * 5
