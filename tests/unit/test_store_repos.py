"""Create, read, update and delete for every table of the memory store."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from companion.core.errors import InvalidInputError, NotFoundError
from companion.core.store import Store
from companion.core.store.memories import NewMemory
from companion.core.store.photos import PhotoRecord
from companion.core.types import Box, Place

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=timezone(timedelta(hours=2)))


def unit(dim: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=dim).astype("f4")
    return v / np.linalg.norm(v)


@pytest.fixture()
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = Store.open(tmp_path / "c.db")
    yield s
    s.close()


def photo(path: str = "/p/1.jpg", when: datetime = T0, city: str = "Lyon") -> PhotoRecord:
    return PhotoRecord(path=path, content_hash="h" + path, size=10, mtime=1.0, taken_at=when, taken_at_source="exif",
                       latitude=45.76, longitude=4.83, place=Place(city, "Auvergne-Rhone-Alpes", "France", "FR"),
                       width=4000, height=3000, thumbnail=None)


def test_photos_crud(store: Store) -> None:
    pid = store.photos.upsert(photo())
    got = store.photos.get(pid)
    assert got is not None and got.place is not None and got.place.city == "Lyon" and got.taken_at == T0
    assert store.photos.upsert(photo(city="Paris")) == pid  # same path updates, never duplicates
    assert store.photos.get(pid).place.city == "Paris"  # type: ignore[union-attr]
    assert store.photos.move("/p/1.jpg", "/q/1.jpg")
    assert store.photos.by_path("/q/1.jpg").id == pid  # type: ignore[union-attr]
    store.photos.mark_error("/p/bad.jpg", 0, 1.0, "zero-byte file")
    assert store.photos.errors() == [("/p/bad.jpg", "zero-byte file")]
    assert store.photos.delete("/q/1.jpg") == pid
    assert store.photos.get(pid) is None


def test_faces_and_clusters(store: Store) -> None:
    pid = store.photos.upsert(photo())
    a = store.faces.add(pid, Box(1, 2, 30, 40), 0.9, unit(128, 1))
    b = store.faces.add(pid, Box(50, 2, 80, 40), 0.8, unit(128, 2))
    cluster = store.faces.new_cluster()
    store.faces.set_cluster([a, b], cluster)
    assert [c.size for c in store.faces.clusters(named=False)] == [2]
    new = store.faces.split([b])
    assert store.faces.get(b).cluster_id == new  # type: ignore[union-attr]
    store.faces.merge(new, cluster)
    anna = store.concepts.add("Anna", "person")
    store.faces.name_cluster(cluster, anna.id)
    assert {f.id for f in store.faces.of_concept(anna.id)} == {a, b}
    store.faces.remove(a)
    assert store.faces.get(a) is None
    assert store.db.query_one("SELECT count(*) FROM vec_faces")[0] == 1


def test_concepts_crud(store: Store) -> None:
    anna = store.concepts.add("Anna", "person", "my sister")
    with pytest.raises(InvalidInputError, match="already exists"):
        store.concepts.add("anna", "person")
    with pytest.raises(InvalidInputError, match="category"):
        store.concepts.add("Rex", "dinosaur")
    edited = store.concepts.edit(anna.id, name="Anna Maria", info="older sister")
    assert (edited.name, edited.info) == ("Anna Maria", "older sister")
    assert store.concepts.resolve("anna maria").id == anna.id
    assert [c.name for c in store.concepts.named_in("I met Anna Maria's dog")] == ["Anna Maria"]
    assert store.concepts.named_in("Annabel came") == []
    ref = store.concepts.add_ref(anna.id, "face", unit(128, 3), image_path="/ref.jpg")
    assert [r.id for r in store.concepts.refs(anna.id)] == [ref]
    with pytest.raises(NotFoundError):
        store.concepts.resolve("Nobody")


def test_observations_timeline_is_newest_first(store: Store) -> None:
    rex = store.concepts.add("Rex", "pet")
    pid = store.photos.upsert(photo())
    store.observations.add(rex.id, time=T0, place="Lyon", source="clip", kind="sighting", photo_id=pid, confidence=0.9)
    store.observations.add(rex.id, time=T0 + timedelta(days=3), place="Paris", source="conversation", kind="sighting",
                           action="walking in the park")
    store.observations.add(rex.id, time=T0 + timedelta(days=5), place="", source="conversation", kind="mention")
    assert [o.place for o in store.observations.timeline(rex.id)] == ["", "Paris", "Lyon"]
    assert store.observations.latest(rex.id, "sighting").place == "Paris"  # type: ignore[union-attr]
    # Re-matching a photo updates its observation rather than adding a second one.
    store.observations.add(rex.id, time=T0, place="Lyon", source="clip", kind="sighting", photo_id=pid, confidence=0.5)
    assert len(store.observations.for_photo(pid)) == 1


def test_conversations_sessions_and_turns(store: Store) -> None:
    conv = store.conversations.start("chat")
    t1 = store.conversations.add_turn(conv.id, "user", "Hello there", T0)
    t2 = store.conversations.add_turn(conv.id, "assistant", "Hi!", T0 + timedelta(minutes=5))
    t3 = store.conversations.add_turn(conv.id, "user", "Back again", T0 + timedelta(hours=3))
    sessions = {r[0] for r in store.db.query("SELECT session_id FROM turns")}
    assert len(sessions) == 2  # the 3-hour gap opened a new session
    assert [t.id for t in store.conversations.turns(conv.id)] == [t1.id, t2.id, t3.id]
    closed = store.conversations.closed_sessions(T0 + timedelta(hours=5), 60)
    assert len(closed) == 2
    store.conversations.mark_consolidated(closed[0])
    assert len(store.conversations.closed_sessions(T0 + timedelta(hours=5), 60)) == 1
    store.conversations.delete_turn(t2.id)
    assert store.conversations.get_turn(t2.id) is None


def test_memories_crud(store: Store) -> None:
    anna = store.concepts.add("Anna", "person")
    mid = store.memories.add(NewMemory("semantic", "Anna loves climbing", ("climbing",), time=T0,
                                       concept_ids=(anna.id,)), unit(384, 1))
    got = store.memories.require(mid)
    assert got.concept_ids == [anna.id] and got.keywords == ["climbing"]
    store.memories.edit(mid, content="Anna loves bouldering", keywords=["bouldering"])
    assert store.memories.list("semantic", concept_id=anna.id)[0].content == "Anna loves bouldering"
    assert store.memories.list(since=T0 + timedelta(days=1)) == []
    with pytest.raises(InvalidInputError):
        store.memories.add(NewMemory("dream", "x"))
    assert store.forget_memory(mid)
    assert store.memories.get(mid) is None


def test_triggers_and_persona(store: Store) -> None:
    anna = store.concepts.add("Anna", "person")
    tid = store.triggers.add(anna.id, "remind me with the keyword SKS", "SKS")
    store.triggers.mark_fired(tid)
    (trigger,) = store.triggers.for_concepts([anna.id])
    assert trigger.fired_count == 1 and trigger.keyword == "SKS"
    store.triggers.set_active(tid, False)
    assert store.triggers.for_concepts([anna.id]) == []
    assert store.triggers.delete(tid)

    persona = store.persona.get()
    persona.openness, persona.interactions = 4.2, 3
    store.persona.save(persona)
    assert store.persona.get().openness == pytest.approx(4.2)
    assert len(store.persona.history()) == 1
    store.persona.reset()
    assert store.persona.get().openness == 3 and store.persona.history() == []


def test_sightings_and_memories_by_city_find_every_spelling_of_the_label_through_the_city_index(store: Store) -> None:
    """'When was I last in Vienna?': a photo's label and a told city match the same city, through its index."""
    from companion.core.store.places import PlaceFilter

    anna = store.concepts.add("Anna", "person").id
    store.observations.add(anna, time=T0, place="Vienna, Vienna, Austria", source="face", kind="sighting")
    store.observations.add(anna, time=T0 + timedelta(days=1), place=" vienna", source="conversation", kind="sighting")
    store.observations.add(anna, time=T0 + timedelta(days=2), place="Vienna Woods", source="face", kind="sighting")
    store.memories.add(NewMemory("semantic", "Hiking in Vienna.", ("Vienna",), T0, "Vienna, Vienna, Austria"),
                       unit(384, 1))
    vienna = PlaceFilter("Vienna")
    assert [s.place for s in store.observations.sightings(place=vienna)] == [" vienna", "Vienna, Vienna, Austria"]
    assert [m.content for m in store.memories.list(place=vienna)] == ["Hiking in Vienna."]
    assert [(p.place, p.count) for p in store.observations.places(anna)] == [("Vienna Woods", 1), (" vienna", 2)]
    for sql, index in (("observations o", "observations_city_ts"), ("memories o", "memories_city_ts")):
        condition, values = vienna.label_sql("o.place")
        rows = store.db.query(f"EXPLAIN QUERY PLAN SELECT * FROM {sql} WHERE {condition}", values)
        plan = " ".join(r[3] for r in rows)
        assert index in plan, plan
