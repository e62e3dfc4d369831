"""The one ``Evidence`` of a question: what the records and retrieval found, ranked, deduplicated and packed.

``build`` runs retrieval for every question (``search``: turns and memories, by words and by
meaning, fused), widens the best turns with the turns around them (what a reply answers, what
a photo turn's caption says) and a best turn that asks something with the reply to it, ranks
by the fused score, boosted where an item is by or about the people asked about, inside the
window asked about, or at the place asked about (filters that boost, never the only route),
and adds what the plan's record queries found: cards, last sightings, last things told,
reminders, a window's or a place's sightings and photos, facts.
Record queries add evidence; they never replace it.

The Evidence then owns:
- the prompt's record lines, within a token budget the model can afford (records first, then
  what retrieval found, best first, shown in the order things were said under one heading per day);
- the citations (``sources``): the records and the best retrieved items;
- which names, places and days an answer may state (the checker's allow-lists);
- the reminders to fire (triggers of the concepts present in the photo).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from companion.core import language
from companion.core.answer import search
from companion.core.answer.perceive import Perception
from companion.core.answer.records import Records, gather, record_sources, records_lines
from companion.core.answer.retrieve import Context, retrieve
from companion.core.answer.understand import Plan
from companion.core.deps import Deps
from companion.core.memory import dates, speakers
from companion.core.memory.extract import sentences
from companion.core.store import Store
from companion.core.types import Memory, Reminder, Source, Turn, city, tidy_place

BUDGET = 950          # tokens of record lines when the model's context allows (Gemma 3's tokenizer)
CITED = 5             # retrieved items cited under an answer, besides the records
MAX_SHOWN = 30        # retrieved items shown, however short (a budget of one-line notes would be a long list)
NEIGHBOURS = 8        # the best turns whose neighbours are shown too
QUESTIONS = 24        # the best turns whose question's reply is shown too
NEIGHBOUR_SHARE = 0.3
REPLY_SHARE = 0.8      # the reply to a question the best turns put: what answers it
BY_PERSON = 2.0       # an item said by or about a person the question names
NAMES_PERSON = 1.2    # an item that names them
IN_WINDOW = 1.5
AT_PLACE = 1.3
CHARS_PER_TOKEN = 3.6  # without a model to count: Gemma 3's tokenizer on conversational English

ItemKind = Literal["turn", "memory"]


@dataclass(frozen=True)
class Item:
    """One thing retrieval found: a turn (with who said it and when) or a memory of its own."""

    kind: ItemKind
    id: int
    text: str
    said: datetime | None          # when it was said (a turn) or when it happened (a memory)
    speaker: str                   # who said it ("" is the user)
    subject: str                   # whom it is about ("" is the user)
    place: str
    score: float
    found: float = 0.0             # the score retrieval gave it, before the plan's boosts

    def people(self) -> tuple[str, ...]:
        return tuple(p for p in (self.speaker, self.subject) if p)

    def day(self, lang: language.Language) -> str:
        """The day it was said, the heading of its group of lines ("8 May 2023")."""
        return f"{dates.short(self.said, lang)} {self.said.year}" if self.said else dates.describe(None, lang)

    def line(self, lang: language.Language) -> str:
        """The prompt line under its day: "Caroline: I went ... yesterday [7 May 2023] ..."."""
        return self._head(lang) + annotate(self.text, self.said, lang)

    def bare_line(self, lang: language.Language) -> str:
        """The prompt line before its relative dates are resolved (never longer than ``line``)."""
        return self._head(lang) + self.text

    def _head(self, lang: language.Language) -> str:
        who = self.speaker or (lang.text("you_said") if self.kind == "turn" else "")
        return f"{who}: " if who else ""

    def source(self) -> Source:
        return Source("turn" if self.kind == "turn" else "memory", self.id, self.said, tidy_place(self.place),
                      self.text[:160], self.speaker)


def annotate(text: str, said: datetime | None, lang: language.Language) -> str:
    """Relative dates resolved where they stand: "yesterday" said on 8 May 2023 reads "yesterday [7 May 2023]"."""
    if said is None:
        return text
    out, position = [], 0
    for phrase in dates.relative_phrases(text, said, lang):
        out += [text[position:phrase.end], f" [{phrase.describe(lang)}]"]
        position = phrase.end
    return "".join(out) + text[position:]


@dataclass
class Evidence:
    plan: Plan
    context: Context                  # cards, last sightings, last things told, triggers
    records: Records                  # the plan's record queries
    ranked: list[Item] = field(default_factory=list)     # everything retrieval found, best first
    reminders: list[Reminder] = field(default_factory=list)
    people: list[str] = field(default_factory=list)      # known people and pets (whom a sentence may be about)
    weights: dict[str, float] = field(default_factory=dict)   # how telling each topic word is (rarer: more)
    neutral: list[Item] = field(default_factory=list)   # what the question finds without its person's name
    budget: int = BUDGET
    count_tokens: Callable[[str], int] | None = None
    _shown: tuple[tuple[int, int], list[Item]] | None = None
    _lines: dict[tuple[str, int], str] = field(default_factory=dict)

    def tokens(self, text: str) -> int:
        if self.count_tokens is not None:
            return self.count_tokens(text)
        return int(len(text) / CHARS_PER_TOKEN) + 1

    def record_lines(self) -> list[str]:
        lines = records_lines(self.records, self.plan)
        for item in self.context.concepts:
            c = item.concept
            lines.append(f"[card] {c.name} ({c.category}, {item.recognized.source} "
                         f"{item.recognized.confidence:.2f}): {c.info}")
            if item.last_seen:
                s = item.last_seen
                lines.append(f"[last seen] {c.name}: {dates.describe(s.time)}, {s.place or 'place unknown'} "
                             f"({s.source_type} {s.source_id})")
            if item.last_action:
                a = item.last_action
                lines.append(f"[last told] {c.name}: {a.action} ({dates.describe(a.time)}, turn {a.turn_id})")
        lines += [f"[reminder] {r.text()}" for r in self.reminders]
        return lines

    def shown(self) -> list[Item]:
        """The retrieved items that fit the budget after the record lines, best first.

        Lines are grouped under the day they were said: a day's heading is paid for once, by the first
        item of that day that fits."""
        key = (len(self.ranked), self.budget)
        if self._shown is not None and self._shown[0] == key:
            return self._shown[1]
        lang = self.plan.language
        used = sum(self.tokens(line) + 1 for line in self.record_lines())
        kept: list[Item] = []
        days: set[str] = set()
        for item in self.ranked:
            if len(kept) >= MAX_SHOWN:
                break
            day = item.day(lang)
            heading = 0 if day in days else self.tokens(f"{day}:") + 1
            # A line's dates are resolved only when it may fit: resolving never shortens it.
            if used + heading + self.tokens(item.bare_line(lang)) + 1 > self.budget:
                continue
            cost = heading + self.tokens(self.line(item)) + 1
            if used + cost > self.budget:
                continue
            kept.append(item)
            days.add(day)
            used += cost
        self._shown = (key, kept)
        return kept

    def line(self, item: Item) -> str:
        if (item.kind, item.id) not in self._lines:
            self._lines[(item.kind, item.id)] = item.line(self.plan.language)
        return self._lines[(item.kind, item.id)]

    def lines(self) -> list[str]:
        """The prompt's record block: the record queries' lines, then what was said in the order it was said,
        under the day it was said ("8 May 2023:")."""
        lang = self.plan.language
        out = self.record_lines()
        day = None
        for item in sorted(self.shown(), key=lambda i: (i.said.timestamp() if i.said else 0.0, i.id)):
            if item.day(lang) != day:
                day = item.day(lang)
                out.append(f"{day}:")
            out.append(self.line(item))
        return out

    def text(self) -> str:
        return "\n".join(self.lines()) or "(no records)"

    def sources(self, store: Store) -> list[Source]:
        """What the answer cites: the records' photos, turns and memories, then the best retrieved items."""
        out = record_sources(store, self.records) + self.context.sources(store)
        out += [item.source() for item in self.shown()[:CITED]]
        seen: dict[tuple[str, int], Source] = {}
        for source in out:
            seen.setdefault((source.type, source.id), source)
        return list(seen.values())

    def names(self) -> set[str]:
        """Names an answer may state: the records' people and the speakers and subjects of what is shown."""
        names = {s.name for s in self.records.shown()} | {c.concept.name for c in self.context.concepts}
        names |= {p for item in self.shown() for p in item.people()}
        return names

    def places(self) -> list[str]:
        """Places an answer may state, as cities."""
        found = [c.last_seen.place for c in self.context.concepts if c.last_seen]
        found += [self.plan.place.label()] if self.plan.place is not None else []
        found += self._record_places()
        if not ("where" in self.plan.asks and self.plan.last):   # "where did I last see X": only that place
            found += self._told_places()
        return [city(p) for p in found if p]

    def _record_places(self) -> list[str]:
        records = self.records
        return ([s.place for s in records.sightings] + [m.place for m in records.memories]
                + [p.place.label() for p in records.photos if p.place]
                + [p.place for rows in records.places.values() for p in rows])

    def _told_places(self) -> list[str]:
        context = self.context
        return ([c.last_action.place for c in context.concepts if c.last_action] + [m.place for m in context.memories]
                + [m.place for ms in self.records.facts.values() for m in ms] + [item.place for item in self.shown()])

    def texts(self) -> list[str]:
        """Everything the evidence says, for checking that an answer is grounded in it."""
        return self.lines()


def build(deps: Deps, plan: Plan, perception: Perception, *, budget: int = BUDGET) -> Evidence:
    """Retrieval and the plan's record queries for one question."""
    store = deps.store
    context = retrieve(store, plan.question, perception.recognized, deps.text_embedder,
                       exclude_photo=perception.photo_id, memories=False)
    evidence = Evidence(plan, context, gather(store, plan), budget=budget,
                        count_tokens=deps.model.count_tokens if deps.model is not None else None)
    evidence.people = store.concepts.names(("person", "pet"))
    evidence.weights = weights(store, plan.topic)
    evidence.ranked = rank(store, plan, deps, evidence.people)
    if plan.event and plan.topic and len(plan.people) == 1:
        evidence.neutral = neutral(store, plan, deps, evidence.people)
    for item in context.concepts:
        if item.recognized.source in ("face", "clip"):   # present in the photo: always fire
            evidence.reminders += [Reminder(item.concept.name, t.instruction, t.keyword, t.id) for t in item.triggers]
    return evidence


def weights(store: Store, topic: tuple[str, ...]) -> dict[str, float]:
    """Inverse document frequency of each topic word over what was said: "charity" tells more than "realize"."""
    total = store.conversations.count_turns() + 1
    return {w: math.log(total / (1 + n)) + 1.0 for w, n in store.conversations.frequencies(list(topic)).items()}


def rank(store: Store, plan: Plan, deps: Deps, people: list[str]) -> list[Item]:
    """Everything retrieval found, as items, best first, with the turns around the best turns."""
    scores, memories = search.search(store, plan, deps.text_embedder)
    turns = store.conversations.get_turns([key[1] for key in scores if key[0] == "turn"])
    items: dict[tuple[str, int], Item] = {}
    for (kind, ident), score in scores.items():
        if kind == "turn" and ident in turns:
            items[(kind, ident)] = _boost(_turn_item(turns[ident], score, people), plan)
        elif kind == "memory" and ident in memories:
            items[(kind, ident)] = _boost(from_memory(memories[ident], score), plan)
    _around(store, items, turns, plan, people)
    return sorted(items.values(), key=lambda i: -i.score)


def _around(store: Store, items: dict[tuple[str, int], Item], turns: dict[int, Turn], plan: Plan,
            people: list[str]) -> None:
    """The turns around the best turns, and the reply to a question one of them asks (what answers it)."""
    best = sorted((i for i in items.values() if i.kind == "turn"), key=lambda i: -i.found)
    for at, item in enumerate(best[:QUESTIONS]):
        asks = _asks(turns[item.id].text)
        if at >= NEIGHBOURS and not asks:
            continue
        for turn in store.conversations.around(turns[item.id]):
            share = REPLY_SHARE if asks and _replies(turns[item.id], turn) else NEIGHBOUR_SHARE
            found = _boost(_turn_item(turn, item.found * share, people), plan)
            key = ("turn", turn.id)
            if key not in items or items[key].score < found.score:
                items[key] = found


def _asks(text: str) -> bool:
    return any(s.rstrip().endswith("?") for s in sentences(text))


def _replies(asked: Turn, reply: Turn) -> bool:
    """Whether ``reply`` is someone else's next turn after ``asked`` (what answers its question: "What got
    you into running?" -> "I've been running farther to de-stress")."""
    return (reply.time, reply.id) > (asked.time, asked.id) and reply.speaker != asked.speaker


def neutral(store: Store, plan: Plan, deps: Deps, people: list[str]) -> list[Item]:
    """What the question finds with its person's name taken out: whom is the asked thing known about?"""
    question = search.without_names(plan.question, [plan.people[0].name])
    return rank(store, replace(plan, question=question, people=[]), deps, people)[:search.DEPTH]


def _turn_item(turn: Turn, score: float, people: list[str]) -> Item:
    said = speakers.split_speaker(turn.text, turn.speaker, people)
    return Item("turn", turn.id, said.text, turn.time, said.speaker, said.speaker, "", score)


def from_memory(memory: Memory, score: float) -> Item:
    """A memory as an item of its own (a session's summary, a habit, a profile fact, one found by the model's
    retrieval step)."""
    return Item("memory", memory.id, memory.content, memory.time, memory.speaker, memory.subject, memory.place,
                score)


def _boost(item: Item, plan: Plan) -> Item:
    """Filters as boosts: by or about the people asked about, in the window, at the place."""
    factor = 1.0
    names = {p.name.lower() for p in plan.people}
    if names & {p.lower() for p in item.people()}:
        factor *= BY_PERSON
    elif names and any(n in item.text.lower() for n in names):
        factor *= NAMES_PERSON
    if plan.window is not None and item.said in plan.window:
        factor *= IN_WINDOW
    if plan.place is not None and item.place and city(item.place).lower() == (plan.place.city or "").lower():
        factor *= AT_PLACE
    return Item(item.kind, item.id, item.text, item.said, item.speaker, item.subject, item.place,
                item.score * factor, item.score)
