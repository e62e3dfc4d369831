"""Retrieval on its own: last sighting (photo vs turn), last action, triggers, hybrid search, the loop."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from companion.core.answer.perceive import Recognized
from companion.core.answer.retrieve import MAX_STEPS, last_action, last_seen, more, retrieve, search_memories
from companion.core.store.photos import PhotoRecord
from companion.core.types import Place
from tests.unit._personal import T0, deps, say


def _photo(d, name: str, days: float, city: str) -> int:  # type: ignore[no-untyped-def]
    return d.store.photos.upsert(PhotoRecord(f"/photos/{name}.jpg", name, 1, 0.0, T0 + timedelta(days=days), "exif",
                                             None, None, Place(city, "", "France", "FR"), 10, 10, None))


def test_newest_sighting_wins_whether_photo_or_turn(tmp_path) -> None:
    d = deps(tmp_path)
    anna = d.store.concepts.add("Anna", "person")
    photo = _photo(d, "a", 3, "Annecy")
    d.store.observations.add(anna.id, time=T0 + timedelta(days=3), place="Annecy, France", source="face",
                             kind="sighting", photo_id=photo, confidence=0.9)
    say(d, (1, "I was with Anna in Lyon."))
    seen = last_seen(d.store, anna)
    assert seen is not None and seen.source_type == "photo" and seen.source_id == photo
    assert seen.place.startswith("Annecy")
    say(d, (5, "Yesterday I had dinner with Anna in Grenoble."), (6, "If Anna shows up again remind me: CAKE"))
    seen = last_seen(d.store, anna)
    assert seen.source_type == "turn" and "Grenoble" in seen.place
    # The question photo itself never counts as the last sighting.
    assert last_seen(d.store, anna, exclude_photo=photo).source_type == "turn"


def test_last_action_is_the_newest_turn_that_says_what_you_did(tmp_path) -> None:
    d = deps(tmp_path)
    anna = d.store.concepts.add("Anna", "person")
    say(d, (0, "I was skiing in Chamonix with Anna."), (2, "Anna and I were painting the fence."),
        (3, "Where is Anna?"))
    act = last_action(d.store, anna)
    assert act is not None and act.action == "painting the fence"


def test_retrieve_gathers_cards_timelines_triggers_and_memories(tmp_path) -> None:
    d = deps(tmp_path)
    anna = d.store.concepts.add("Anna", "person", "my sister")
    say(d, (0, "I went hiking in Chamonix with Anna."), (1, "If Anna appears again, remind me with the keyword SKS."),
        (2, "I bought a new bicycle in Paris."))
    context = retrieve(d.store, "where did I last see her?", [Recognized(anna.id, "Anna", "person", 0.9, "face")])
    item = context.concepts[0]
    assert item.last_seen is not None and item.triggers[0].keyword == "SKS"
    assert [o.time for o in item.timeline] == sorted([o.time for o in item.timeline], reverse=True)
    assert any("Chamonix" in m.content for m in context.memories)
    assert {s.type for s in context.sources(d.store)} >= {"turn", "memory"}


def test_hybrid_search_respects_time_windows_and_the_loop_is_bounded(tmp_path) -> None:
    d = deps(tmp_path)
    say(d, (0, "I was swimming in Nice."), (30, "I was swimming in Marseille."))
    everything = [m for m in search_memories(d.store, "swimming") if m.kind == "semantic"]
    assert len(everything) == 2
    late = [m for m in search_memories(d.store, "swimming", since=T0 + timedelta(days=10)) if m.kind == "semantic"]
    assert len(late) == 1 and "Marseille" in late[0].content
    context = retrieve(d.store, "nothing matches", [])
    for _ in range(MAX_STEPS):
        more(d.store, context, "swimming")
    assert context.steps == MAX_STEPS
    assert more(d.store, context, "swimming") == [] and context.steps == MAX_STEPS


def test_forgotten_concept_disappears_from_retrieval(tmp_path) -> None:
    d = deps(tmp_path)
    anna = d.store.concepts.add("Anna", "person")
    say(d, (0, "I went hiking in Chamonix with Anna."))
    d.store.forget_concept(anna.id)
    context = retrieve(d.store, "Anna hiking Chamonix", [Recognized(anna.id, "Anna", "person", 1.0, "text")])
    assert context.concepts == [] and all("Anna" not in m.content for m in context.memories)


class _TopicEmbedder:
    """A TextEmbedder double that knows meaning, not spelling: words of one topic share a direction."""

    name, dim = "topics", 384      # the store's memory vectors are MiniLM-sized
    TOPICS = ({"puppy", "dog", "pet"}, {"swimming", "sea", "beach"}, {"car", "tyres", "garage"})

    def embed(self, texts):  # type: ignore[no-untyped-def]
        rows = []
        for text in texts:
            words = "".join(ch if ch.isalnum() else " " for ch in text.lower()).split()
            row = np.zeros(self.dim, dtype=np.float32)
            row[:3] = [sum(w in topic for w in words) for topic in self.TOPICS]
            row[3] = 0.1                                                    # never all zero
            rows.append(row / np.linalg.norm(row))
        return np.stack(rows)


def test_hybrid_search_finds_a_memory_by_meaning_alone(tmp_path) -> None:
    # No word of the question is in the memory, so only the vector half can find it.
    d = deps(tmp_path)
    d.text_embedder = _TopicEmbedder()
    say(d, (0, "Got a puppy called Rex from the shelter."), (1, "I was swimming in Nice."),
        (2, "Bought new tyres for the car."))
    question = "Which dog is ours now?"
    assert not any("Rex" in m.content for m in search_memories(d.store, question))   # words alone: nothing
    found = search_memories(d.store, question, d.text_embedder, limit=2)
    assert found and "Rex" in found[0].content
