"""The record queries a plan runs: who was seen in a window, when and with whom at a place, facts about a person.

Each query is one indexed SQL query in a store repository
(``ObservationRepo.sightings / places``, ``PhotoRepo.taken / count_taken``,
``MemoryRepo.list``); this module picks the ones the plan needs and ranks
what they return. The statements (``statements``) turn the result into
sentences, and the same rows go into the prompt and the answer's sources.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from companion.core import language
from companion.core.answer.understand import Plan
from companion.core.memory import dates
from companion.core.store import Store
from companion.core.store.observations import PlaceCount, Sighting
from companion.core.types import Memory, Photo, Source

LIMIT = 40           # newest sightings in scope (the prompt's lines, the latest one, places in a window)
MAX_LINES = 12       # sightings, memories and places in the prompt and the sources
PEOPLE = 12          # people listed for a window or a place ("who did I see in June?"), the latest seen first
MEMORIES = 30        # memories per query (each is hydrated with its links)
CANDIDATES = 20      # facts ranked per person
FACTS = 3


Latest = tuple[datetime | None, str, list[str], str, int]


@dataclass
class Records:
    """What the plan's queries found."""

    queries: list[str] = field(default_factory=list)              # which ran (for the JSON output)
    sightings: list[Sighting] = field(default_factory=list)       # in the window and/or at the place, newest first
    seen: list[Sighting] = field(default_factory=list)            # each person there once, at their latest
    photos: list[Photo] = field(default_factory=list)             # taken in the window and/or at the place
    photo_count: int = 0
    memories: list[Memory] = field(default_factory=list)          # semantic memories in the window / at the place
    places: dict[str, list[PlaceCount]] = field(default_factory=dict)   # person -> places seen with them
    facts: dict[str, list[Memory]] = field(default_factory=dict)        # person -> ranked facts

    def empty(self) -> bool:
        return not (self.sightings or self.photos or self.photo_count or self.memories)

    def people(self) -> dict[str, Sighting]:
        """Who was seen, each at their latest sighting; the people seen most recently first."""
        return {s.name: s for s in self.seen}

    def shown(self) -> list[Sighting]:
        """The sightings the prompt and the sources show: each person's latest, then the newest others."""
        return list(dict.fromkeys([*self.seen, *self.sightings]))[:MAX_LINES]

    def latest(self) -> Latest | None:
        """The newest record: (time, place, people with you then, source type, source id)."""
        candidates = [c for c in [self._latest_sighting()] if c is not None]
        for photo in self.photos[:1]:
            label = photo.place.label() if photo.place else ""
            candidates.append((photo.taken_at, label, [], "photo", photo.id))
        for memory in self.memories[:1]:
            candidates.append((memory.time, memory.place, [], "memory", memory.id))
        dated = [c for c in candidates if c[0] is not None]
        return max(dated, key=lambda c: c[0]) if dated else None   # type: ignore[arg-type, return-value]

    def _latest_sighting(self) -> Latest | None:
        seen = [s for s in self.sightings if s.kind == "sighting" and s.time is not None]
        if not seen:
            return None
        newest = max(seen, key=lambda s: s.time)   # type: ignore[arg-type, return-value]
        # Who else is in that photo, or was named in that turn (one pass over the rows).
        if newest.photo_id is not None:
            same = [x.name for x in seen if x.photo_id == newest.photo_id]
            return newest.time, newest.place, list(dict.fromkeys(same)), "photo", newest.photo_id
        same = [x.name for x in seen if x.turn_id is not None and x.turn_id == newest.turn_id]
        return newest.time, newest.place, list(dict.fromkeys(same)), "turn", int(newest.turn_id or 0)


def _until(end: datetime) -> datetime:
    """``MemoryRepo.list``'s ``until`` is inclusive; a window's end is not."""
    return end - timedelta(microseconds=1)


def gather(store: Store, plan: Plan) -> Records:
    """Run the queries the plan needs (none for a plain "where did I last see her?")."""
    records = Records()
    person_ids = [p.concept_id for p in plan.people] if plan.people and not plan.anyone else None
    if plan.window is not None or plan.place is not None:
        _in_scope(store, plan, records, person_ids)
        return records
    if "count" in plan.asks:
        records.queries.append("photo_count")
        ids = person_ids or [None]  # type: ignore[list-item]
        records.photo_count = sum(store.photos.count_taken(concept_id=cid) for cid in ids)
    for person in [] if plan.event else plan.people:   # what happened is retrieval's; facts are a record
        if "facts" in plan.asks or not plan.asks:
            records.queries.append("facts")
            records.facts[person.name] = rank_facts(store, person.concept_id, person.name, plan.question)
        if "where" in plan.asks and not plan.last:
            records.queries.append("places")
            records.places[person.name] = store.observations.places(person.concept_id)
    return records


def _in_scope(store: Store, plan: Plan, records: Records, person_ids: list[int] | None) -> None:
    """Sightings, photos and memories in the plan's window and/or at its place."""
    window, place = plan.window, plan.place
    since, until = (window.start, window.end) if window else (None, None)
    records.queries.append("sightings")
    records.sightings = store.observations.sightings(since=since, until=until, place=place,
                                                     concept_ids=person_ids, limit=LIMIT)
    records.seen = store.observations.seen(since=since, until=until, place=place, concept_ids=person_ids,
                                           limit=PEOPLE)
    records.photos = store.photos.taken(since=since, until=until, place=place, limit=20)
    records.photo_count = store.photos.count_taken(since=since, until=until, place=place)
    one = person_ids[0] if person_ids and len(person_ids) == 1 else None
    records.memories = [m for m in store.memories.list("semantic", since=since, until=_until(until) if until else None,
                                                       place=place, limit=MEMORIES, concept_id=one)
                        if m.action or m.place or m.concept_ids]
    records.queries += ["photos", "memories"]


def rank_facts(store: Store, concept_id: int, name: str, question: str, limit: int = FACTS) -> list[Memory]:
    """What the user said about a person, best first.

    A sentence with the person as its subject ("Anna now works as a nurse") beats one that only
    mentions them ("I went hiking with Anna"); then words shared with the question; then the
    newest. Reminder instructions are not facts.
    """
    instructions = {t.instruction for t in store.triggers.for_concepts([concept_id], active_only=False)}
    lang = language.detect(question)
    ignore = {w.lower() for w in lang.own("", "markers", []) or []} | {name.lower()}
    asked = {_stem(w) for w in language.words_of(question) if w not in ignore and len(w) > 2}
    scored = []
    memories = store.memories.about(concept_id, name, limit=CANDIDATES)
    for rank, memory in enumerate(memories):
        if memory.content in instructions:
            continue
        content = memory.content.strip()
        subject = bool(re.match(rf"\W*(?:my \w+ )?{re.escape(name)}\b", content, re.I))
        shared = len(asked & {_stem(w) for w in language.words_of(content)})
        scored.append((-(2 * subject + shared), rank, memory))
    ranked = sorted(scored, key=lambda s: (s[0], s[1]))
    # Where the user said something *about* the person, that is the answer; their outings come after.
    if ranked and ranked[0][0] < 0:
        ranked = [s for s in ranked if s[0] < 0]
    return [m for *_, m in ranked[:limit]]


def _stem(word: str) -> str:
    return word[:-1] if word.endswith("s") and len(word) > 3 else word


def records_lines(records: Records, plan: Plan) -> list[str]:
    """The query results as lines of the prompt's record block."""
    scoped = plan.window is not None or plan.place is not None
    scope = " ".join(x for x in (plan.window.label(plan.language) if plan.window else "",
                                 plan.place.label() if plan.place else "") if x)
    lines = [_sighting_line(s, scope) for s in records.shown()]
    if scoped:
        lines.append(f"[photos {scope}] {records.photo_count} photo(s)")
    lines += [f"[memory {m.id}] {dates.describe(m.time)}: {m.content}" for m in records.memories[:MAX_LINES]]
    lines += [f"[places with {name}] {p.place}: {p.count} time(s), last {dates.describe(p.last)}"
              for name, places in records.places.items() for p in places[:MAX_LINES]]
    lines += [f"[fact about {name}, memory {m.id}] {dates.describe(m.time)}: {m.content}"
              for name, facts in records.facts.items() for m in facts]
    if scoped and records.empty():
        lines.append(f"[nothing {scope}] no photos, sightings or notes")
    return lines


def _sighting_line(s: Sighting, scope: str) -> str:
    origin = f"photo {s.photo_id}" if s.photo_id is not None else f"turn {s.turn_id}"
    verb = "seen" if s.kind == "sighting" else "mentioned"
    return (f"[{verb} {scope}] {s.name}: {dates.describe(s.time)}, {s.place or 'place unknown'} ({origin})"
            + (f", {s.action}" if s.action else ""))


def record_sources(store: Store, records: Records) -> list[Source]:
    """The records an answer cites: the photos, turns and memories the queries found."""
    out: list[Source] = []
    for s in records.shown():
        if s.photo_id is not None:
            photo = store.photos.get(s.photo_id)
            out.append(Source("photo", s.photo_id, s.time, s.place, photo.path if photo else ""))
        elif s.turn_id is not None:
            turn = store.conversations.get_turn(s.turn_id)
            out.append(Source("turn", s.turn_id, s.time, s.place, turn.text[:160] if turn else ""))
    for p in records.photos[:MAX_LINES]:
        out.append(Source("photo", p.id, p.taken_at, p.place.label() if p.place else "", p.path))
    for m in [*records.memories[:MAX_LINES], *(m for ms in records.facts.values() for m in ms)]:
        out.append(Source("memory", m.id, m.time, m.place, m.content[:160]))
    return out
