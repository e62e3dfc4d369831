"""Retrieval: cards, timelines, last sighting, last action, triggers and hybrid memory search.

"Where did I last see X" is the newest *sighting* (a photo of X, or a turn in
which the user says they were with X); "what was I doing the last time I told
you about X" is the action of the newest turn about X. Both come straight from
the records, so the answer never depends on the model to find them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from companion.core.answer.perceive import Recognized
from companion.core.memory.consolidate import profile_history
from companion.core.protocols import TextEmbedder
from companion.core.store import Store
from companion.core.types import Concept, Memory, Observation, Source, Trigger, tidy_place

MAX_STEPS = 5
RRF_K = 60


@dataclass
class LastSeen:
    name: str
    time: datetime | None
    place: str
    source_type: Literal["photo", "turn"]
    source_id: int


@dataclass
class LastAction:
    name: str
    action: str
    time: datetime | None
    place: str
    turn_id: int


@dataclass
class ConceptContext:
    concept: Concept
    recognized: Recognized
    timeline: list[Observation] = field(default_factory=list)
    last_seen: LastSeen | None = None
    last_action: LastAction | None = None
    triggers: list[Trigger] = field(default_factory=list)


@dataclass
class Context:
    query: str
    concepts: list[ConceptContext] = field(default_factory=list)
    memories: list[Memory] = field(default_factory=list)
    profile: dict[str, list[tuple[str, datetime | None, list[int]]]] = field(default_factory=dict)
    steps: int = 0

    def sources(self, store: Store) -> list[Source]:
        """Every record the answer may cite, de-duplicated."""
        out: dict[tuple[str, int], Source] = {}
        for item in self.concepts:
            for obs in item.timeline[:5]:
                if obs.photo_id is not None:
                    photo = store.photos.get(obs.photo_id)
                    out.setdefault(("photo", obs.photo_id), Source(
                        "photo", obs.photo_id, obs.time, tidy_place(obs.place), photo.path if photo else ""))
                elif obs.turn_id is not None:
                    turn = store.conversations.get_turn(obs.turn_id)
                    out.setdefault(("turn", obs.turn_id), Source(
                        "turn", obs.turn_id, obs.time, tidy_place(obs.place), turn.text[:160] if turn else ""))
        for memory in self.memories:
            out.setdefault(("memory", memory.id), Source("memory", memory.id, memory.time, tidy_place(memory.place),
                                                         memory.content[:160]))
        return list(out.values())


def last_seen(store: Store, concept: Concept, exclude_photo: int | None = None) -> LastSeen | None:
    """The newest sighting (photo or "I was with X" turn); the question photo itself does not count."""
    for obs in store.observations.timeline(concept.id, kind="sighting", limit=20):
        if obs.photo_id is not None and obs.photo_id == exclude_photo:
            continue
        if obs.photo_id is not None:
            return LastSeen(concept.name, obs.time, obs.place, "photo", obs.photo_id)
        if obs.turn_id is not None:
            return LastSeen(concept.name, obs.time, obs.place, "turn", obs.turn_id)
    return None


def last_action(store: Store, concept: Concept) -> LastAction | None:
    """The action of the newest turn about the concept that says what the user was doing."""
    obs = store.observations.last_action(concept.id)
    if obs is None:
        return None
    return LastAction(concept.name, obs.action, obs.time, obs.place, int(obs.turn_id or 0))


def search_memories(store: Store, text: str, text_embedder: TextEmbedder | None = None, *, limit: int = 6,
                    since: datetime | None = None, until: datetime | None = None,
                    exclude: set[int] | None = None) -> list[Memory]:
    """Hybrid search: FTS5 (bm25) and vector ranks fused by reciprocal rank fusion, then a time window."""
    scores: dict[int, float] = {}
    hits = [[m for m, _ in store.memories.search_text(text, limit * 4)]]
    if text_embedder is not None and text.strip():
        hits.append([m for m, _ in store.memories.search_vector(text_embedder.embed([text])[0], limit * 4)])
    for ranked_ids in hits:
        for rank, memory_id in enumerate(ranked_ids):
            scores[memory_id] = scores.get(memory_id, 0.0) + 1.0 / (RRF_K + rank + 1)
    ranked = [m for m in sorted(scores, key=lambda m: -scores[m]) if not (exclude and m in exclude)]
    rows = store.memories.get_many(ranked)   # one query for every candidate, not one each
    found = [rows[m] for m in ranked if m in rows and _within(rows[m], since, until)]
    return found[:limit]


def _within(memory: Memory, since: datetime | None, until: datetime | None) -> bool:
    if since is not None and (memory.time is None or memory.time < since):
        return False
    return until is None or (memory.time is not None and memory.time <= until)


def retrieve(store: Store, query_text: str, perceived: list[Recognized], text_embedder: TextEmbedder | None = None, *,
             since: datetime | None = None, until: datetime | None = None,
             exclude_photo: int | None = None, memories: bool = True) -> Context:
    """The record tools about the concepts of the question and the photo: cards, timelines, last sighting,
    last thing told, triggers; with ``memories``, a hybrid memory search too (``answer/search.py``
    searches turns and memories for every question)."""
    context = Context(query_text)
    for recognized in perceived:
        concept = store.concepts.get(recognized.concept_id)
        if concept is None:      # forgotten meanwhile
            continue
        context.concepts.append(ConceptContext(
            concept, recognized,
            timeline=[o for o in store.observations.timeline(concept.id, limit=20)
                      if o.photo_id is None or o.photo_id != exclude_photo],
            last_seen=last_seen(store, concept, exclude_photo), last_action=last_action(store, concept),
            triggers=store.triggers.for_concepts([concept.id])))
    context.profile = dict(profile_history(store))
    if not memories:
        return context
    names = " ".join(c.concept.name for c in context.concepts)
    context.memories = search_memories(store, f"{query_text} {names}", text_embedder, since=since, until=until)
    # The concepts' own newest memories, even when the question shares no word with them.
    linked = {m.id for m in context.memories}
    for item in context.concepts:
        for memory in store.memories.list(concept_id=item.concept.id, limit=3, since=since, until=until):
            if memory.id not in linked:
                context.memories.append(memory)
                linked.add(memory.id)
    return context


def more(store: Store, context: Context, keywords: str, start: datetime | None = None,
         end: datetime | None = None, text_embedder: TextEmbedder | None = None) -> list[Memory]:
    """One step of the bounded loop: more memories for ``keywords`` in a time window; [] after 5 steps."""
    if context.steps >= MAX_STEPS:
        return []
    context.steps += 1
    new = search_memories(store, keywords, text_embedder, since=start, until=end,
                          exclude={m.id for m in context.memories})
    context.memories.extend(new)
    return new
