"""Retrieval for every question: what was said, found by words and by meaning, over turns and memories.

Each query runs three searches: FTS5 (bm25, porter stems) over the user's turns, FTS5 over
memories, and MiniLM vectors over memories (a semantic memory is one sentence of a turn, so
its vector matches a sentence, not a whole rambling turn). Their ranks are fused by
reciprocal rank fusion, and a memory that came from one turn credits that turn: the answer
shows the turn, with who said it and when. Memories that summarise or stand alone
(sessions, habits, the profile) stay items of their own.

Queries come from the question (``queries``): the whole question for meaning, its topic
words for text search, and, for questions that join several things or people ("Jon and
Gina", "the parade and the conference"), one query per part, each with a smaller weight:
query decomposition by entity and event, without a model.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from companion.core import language
from companion.core.answer.understand import Plan
from companion.core.protocols import TextEmbedder
from companion.core.store import Store
from companion.core.types import Memory

RRF_K = 60
DEPTH = 40           # hits per search and query
PART_WEIGHT = 0.6    # a decomposed part's queries, against the whole question's 1.0
MEANING = 2.0        # the vector search's weight against each text search's 1.0
MAX_PARTS = 4

Key = tuple[str, int]    # ("turn", id) | ("memory", id)


@dataclass(frozen=True)
class Query:
    text: str                  # for meaning (MiniLM)
    words: tuple[str, ...]     # for text search (FTS5)
    weight: float = 1.0


def queries(plan: Plan) -> list[Query]:
    """The whole question, then one query per joined part and per person when it names several."""
    names = [p.name for p in plan.people]
    # For meaning, the question without its names when it has a topic: MiniLM then weighs what is asked,
    # not who (every line of a conversation is someone's); the names still boost their items.
    main = Query(without_names(plan.question, names) if plan.topic else plan.question,
                 plan.topic or tuple(w for n in names for w in language.words_of(n)))
    out = [main]
    for part in _parts(plan):
        out.append(Query(" ".join([*names[:1], *part]), part, PART_WEIGHT))
    named = [p.name for p in plan.people if p.source == "text"]   # the photo's people need no query of their own
    if len(named) > 1:
        for name in named:
            out.append(Query(f"{name} {' '.join(plan.topic)}", (*plan.topic, *language.words_of(name)),
                             PART_WEIGHT))
    return out[:1 + MAX_PARTS + len(names)]


def _parts(plan: Plan) -> list[tuple[str, ...]]:
    """Topic words split where the question joins things ("and", "or", commas): one part each."""
    joiners = r"\s*(?:,|;|\band\b|\bor\b|\bund\b|\boder\b|\bet\b|\bou\b|\by\b|\bo\b)\s*"
    pieces = [set(language.words_of(p)) for p in re.split(joiners, plan.question, flags=re.I)]
    parts = [tuple(w for w in plan.topic if w in piece) for piece in pieces]
    parts = [p for p in parts if p]
    return parts if len(parts) > 1 else []


def _fuse(scores: dict[Key, float], ranked: list[Key], weight: float) -> None:
    for rank, key in enumerate(dict.fromkeys(ranked)):
        scores[key] += weight / (RRF_K + rank + 1)


def search(store: Store, plan: Plan, embedder: TextEmbedder | None) -> tuple[dict[Key, float], dict[int, Memory]]:
    """Fused scores of turns and memories for the plan's queries, and the memories that were hit."""
    scores: dict[Key, float] = defaultdict(float)
    asked = queries(plan)
    vectors = embedder.embed([q.text for q in asked]) if embedder is not None else None
    memory_hits: list[tuple[list[int], float]] = []
    for index, query in enumerate(asked):
        if query.words:
            for hits in _turn_hits(store, query, plan):
                _fuse(scores, hits, query.weight)
            memory_hits.append(([m for m, _ in store.memories.search_text(" ".join(query.words), DEPTH)],
                                query.weight))
        if vectors is not None:
            memory_hits.append(([m for m, _ in store.memories.search_vector(vectors[index], DEPTH)],
                                query.weight * MEANING))
    memories = store.memories.get_many(list(dict.fromkeys(m for ids, _ in memory_hits for m in ids)))
    for ids, weight in memory_hits:
        # A session's summary repeats its turns, which are searched themselves.
        _fuse(scores, [_credit(memories[m]) for m in ids if m in memories and memories[m].kind != "episodic"],
              weight)
    return dict(scores), memories


def _turn_hits(store: Store, query: Query, plan: Plan) -> list[list[Key]]:
    """FTS5 over what was said, and over what was said in the plan's window when it names one: in a long
    history, the window's own best turns would rank below others' and never be fused."""
    found = [store.conversations.search_ranked(list(query.words), DEPTH)]
    if plan.window is not None:
        found.append(store.conversations.search_ranked(list(query.words), DEPTH, since=plan.window.start,
                                                       until=plan.window.end))
    return [[("turn", t) for t, _ in hits] for hits in found]


def without_names(question: str, names: list[str]) -> str:
    """The question with the people's names (and their possessives) taken out."""
    for name in names:
        question = re.sub(rf"\b{re.escape(name)}(?:['’]s?)?", " ", question)
    return question


def _credit(memory: Memory) -> Key:
    """A sentence remembered from one turn counts for that turn; other memories count for themselves."""
    if memory.kind == "semantic" and len(memory.source_turn_ids) == 1:
        return ("turn", memory.source_turn_ids[0])
    return ("memory", memory.id)
