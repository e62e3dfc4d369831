"""Remembering: turns -> observations, semantic memories, triggers, profile facts and persona;
closed sessions -> episodic summaries, procedural habits and the core profile (PersonaVLM tiers).

Deterministic extraction (``companion.core.extract``) carries every
record-backed fact; a model, when present, adds grounded keywords/place/action
through schema-constrained JSON and never overrides concept links.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import datetime, timezone
from typing import Any

from companion.core import dates, persona
from companion.core.deps import Deps
from companion.core.extract import TurnFacts, extract_turn
from companion.core.prompts import data_block, render_prompt
from companion.core.protocols import ChatMessage, GenerationRequest, complete
from companion.core.store.memories import NewMemory
from companion.core.types import Concept, Turn

PROFILE_KEYWORD = "profile"
MAX_HABITS = 5

EXTRACT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "content": {"type": "string"},
        "keywords": {"type": "array", "items": {"type": "string"}, "maxItems": 4},
        "time": {"type": "string"},
        "place": {"type": "string"},
        "mentioned": {"type": "array", "items": {"type": "string"}, "maxItems": 4},
        "action": {"type": "string"},
    },
    "required": ["content", "keywords", "time", "place", "mentioned", "action"],
}


def _grounded(value: str, text: str, share: float = 1.0) -> bool:
    """True when (a share of) the words of ``value`` occur in ``text``: model output must come from the turn."""
    words = re.findall(r"\w+", value.lower())
    if not words:
        return False
    hits = sum(1 for w in words if re.search(r"\b" + re.escape(w) + r"\b", text.lower()))
    return hits / len(words) >= share


def model_extract(deps: Deps, text: str, when: datetime) -> dict[str, Any]:
    """The model's JSON facts for a turn ({} without a model or on unusable output)."""
    if deps.model is None:
        return {}
    prompt = render_prompt("extract", time=when.isoformat(timespec="minutes"), turn=data_block("turn", text))
    request = GenerationRequest([ChatMessage("user", prompt)], max_tokens=120, temperature=0.0,
                                json_schema=EXTRACT_SCHEMA)
    try:
        value = json.loads(complete(deps.model, request))
    except (ValueError, TypeError):
        return {}
    return value if isinstance(value, dict) else {}


def _merge(facts: TurnFacts, model: dict[str, Any], text: str) -> None:
    """Fill gaps from the model, only with words the turn really contains."""
    for keyword in model.get("keywords") or []:
        if isinstance(keyword, str) and _grounded(keyword, text) and keyword not in facts.keywords:
            facts.keywords.append(keyword.strip())
    for fact in facts.facts:
        if fact.question:
            continue
        place, action = model.get("place"), model.get("action")
        if not fact.place and isinstance(place, str) and _grounded(place, fact.sentence):
            fact.place = place.strip()
        if not fact.action and fact.concepts and isinstance(action, str) and _grounded(action, fact.sentence):
            fact.action = " ".join(action.split()[:8])


def _embed(deps: Deps, text: str) -> Any:
    return deps.text_embedder.embed([text])[0] if deps.text_embedder is not None else None


def remember_turn(deps: Deps, turn: Turn, recent: list[Concept] | None = None,
                  image_concepts: list[Concept] | None = None) -> tuple[int, list[Concept]]:
    """Learn from one stored user turn; returns (memories written, concepts it was about)."""
    if turn.role != "user":
        return 0, []
    facts = extract_turn(deps, turn.text, turn.time, recent, image_concepts)
    # The model only fills gaps the rules left: a statement about someone with no action found.
    gaps = [f for f in facts.facts if not f.question and f.concepts and not f.action
            and f.sentence not in {t.instruction for t in facts.triggers}]
    if gaps:
        _merge(facts, model_extract(deps, turn.text, turn.time), turn.text)
    store, written, about = deps.store, 0, {}
    for fact in facts.facts:
        for concept in fact.concepts:
            about[concept.id] = concept
            sighting = concept.id in fact.sightings
            store.observations.add(concept.id, time=(fact.when or turn.time) if sighting else turn.time,
                                   place=fact.place, source="conversation",
                                   kind="sighting" if sighting else "mention", turn_id=turn.id,
                                   action=fact.action)
        if fact.question or not (fact.concepts or fact.place or fact.action):
            continue
        keywords = [c.name for c in fact.concepts] + [k for k in (fact.place, fact.action) if k]
        memory = NewMemory("semantic", fact.sentence, tuple(dict.fromkeys(keywords)), fact.when or turn.time,
                           fact.place, fact.action, tuple(c.id for c in fact.concepts), (turn.id,))
        store.memories.add(memory, _embed(deps, fact.sentence))
        written += 1
    for trigger in facts.triggers:
        for concept_id in trigger.concept_ids:
            store.triggers.add(concept_id, trigger.instruction, trigger.keyword, turn.id)
            about.setdefault(concept_id, store.concepts.require(concept_id))
    for key, value in facts.profile:
        content = f"{key}: {value}"
        store.memories.add(NewMemory("semantic", content, (PROFILE_KEYWORD, key), turn.time,
                                     source_turn_ids=(turn.id,)), _embed(deps, content))
        written += 1
    persona.observe(store, turn.text, turn.id)
    return written, list(about.values())


def learn_from_turns(services: Any, turns: list[Turn]) -> int:
    """Learn from stored turns (an import or a chat), then consolidate closed sessions."""
    deps = services if isinstance(services, Deps) else Deps.from_services(services)
    return learn(deps, turns)


def learn(deps: Deps, turns: list[Turn]) -> int:
    written = 0
    recent: dict[int, list[Concept]] = defaultdict(list)
    for turn in sorted(turns, key=lambda t: (t.time, t.id)):
        count, about = remember_turn(deps, turn, recent[turn.conversation_id])
        written += count
        if about:
            recent[turn.conversation_id] = about
    if turns:
        latest = max(t.time for t in turns)
        written += consolidate(deps, max(latest, datetime.now(timezone.utc)))
    return written


# ---- consolidation (at session end) ---------------------------------------------------

def consolidate(deps: Deps, before: datetime) -> int:
    """Summarise every session that ended more than the gap before ``before``; refresh habits and profile."""
    store = deps.store
    closed = store.conversations.closed_sessions(before, deps.settings.session_gap_minutes)
    written = 0
    for session_id in closed:
        turns = [t for t in store.conversations.turns(session_id=session_id) if t.role == "user"]
        if turns:
            store.memories.add(*_episode(deps, session_id, turns))
            written += 1
        store.conversations.mark_consolidated(session_id)
    if closed:
        written += refresh_habits(deps) + refresh_profile(deps)
    return written


def _episode(deps: Deps, session_id: int, turns: list[Turn]) -> tuple[NewMemory, Any]:
    text = "\n".join(t.text for t in turns)
    summary = ""
    if deps.model is not None:
        prompt = render_prompt("summarize", turns=data_block("session", text))
        candidate = complete(deps.model, GenerationRequest([ChatMessage("user", prompt)], max_tokens=60,
                                                           temperature=0.0)).strip()
        # A small model may drift: keep its summary only if it is made of the session's own words.
        if candidate and _grounded(candidate, text, share=0.7):
            summary = candidate
    if not summary:
        firsts = [re.split(r"(?<=[.!?])\s", t.text.strip())[0][:160] for t in turns[:5]]
        summary = f"Conversation on {dates.describe(turns[0].time)}: " + " / ".join(firsts)
    concept_ids = {c.id for t in turns for c in deps.store.concepts.named_in(t.text)}
    names = [c.name for c in deps.store.concepts.list() if c.id in concept_ids]
    memory = NewMemory("episodic", summary, tuple(names), turns[0].time, concept_ids=tuple(sorted(concept_ids)),
                       source_turn_ids=tuple(t.id for t in turns), session_id=session_id)
    return memory, _embed(deps, summary)


def refresh_habits(deps: Deps) -> int:
    """At most five habits: the same activity on the same weekday, on two or more dates."""
    seen: dict[tuple[str, int], set[str]] = defaultdict(set)
    sources: dict[tuple[str, int], list[int]] = defaultdict(list)
    for memory in deps.store.memories.list("semantic", limit=2000):
        if memory.action and memory.time:
            head = memory.action.split()[0].lower()
            seen[(head, memory.time.weekday())].add(memory.time.date().isoformat())
            sources[(head, memory.time.weekday())] += memory.source_turn_ids
    habits = Counter({key: len(days) for key, days in seen.items() if len(days) >= 2}).most_common(MAX_HABITS)
    deps.store.memories.delete_kind("procedural")
    for (head, weekday), count in habits:
        content = f"The user often goes {head} on {dates.WEEKDAYS[weekday].capitalize()}s ({count} times)."
        deps.store.memories.add(NewMemory("procedural", content, (head, dates.WEEKDAYS[weekday]),
                                          source_turn_ids=tuple(sorted(set(sources[(head, weekday)])))),
                                _embed(deps, content))
    return len(habits)


def profile_history(deps_or_store: Any) -> dict[str, list[tuple[str, datetime | None, list[int]]]]:
    """key -> [(value, time, source turns)], newest first, from the per-turn profile facts."""
    store = getattr(deps_or_store, "store", deps_or_store)
    history: dict[str, list[tuple[str, datetime | None, list[int]]]] = defaultdict(list)
    for memory in store.memories.list("semantic", limit=2000):
        if PROFILE_KEYWORD in memory.keywords and ":" in memory.content:
            key, value = memory.content.split(":", 1)
            history[key.strip()].append((value.strip(), memory.time, memory.source_turn_ids))
    return history


def refresh_profile(deps: Deps) -> int:
    """Rewrite the short core profile: one line per key, the newest value wins."""
    deps.store.memories.delete_kind("core")
    for key, values in profile_history(deps).items():
        value, when, turn_ids = values[0]
        content = f"{key}: {value}"
        if len(values) > 1 and values[1][0].lower() != value.lower():
            content += f" (changed on {dates.describe(when)}; before: {values[1][0]})"
        deps.store.memories.add(NewMemory("core", content, (PROFILE_KEYWORD, key), when,
                                          source_turn_ids=tuple(turn_ids)), _embed(deps, content))
    return len(profile_history(deps))
