"""Consolidating closed sessions (PersonaVLM tiers): episodic summaries, procedural habits, the core profile.

A session is closed after ``Settings.session_gap_minutes`` without a turn. Without a model,
a session's summary is its key sentences (those with the most content words, never
greetings or thanks); habits are the user's own repeated activities.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from companion.core.deps import Deps
from companion.core.memory import dates, speakers
from companion.core.memory.extract import first_lower, is_verb, sentences
from companion.core.memory.remember import PROFILE_KEYWORD, embed_text, grounded
from companion.core.prompts import data_block, render_prompt
from companion.core.protocols import ChatMessage, GenerationRequest, complete
from companion.core.store import Store
from companion.core.store.memories import NewMemory
from companion.core.types import Turn

MAX_HABITS = 5
KEY_SENTENCES = 3    # sentences of a session summary written without a model


def consolidate(deps: Deps, before: datetime) -> int:
    """Summarise every session that ended more than the gap before ``before``; refresh habits and profile."""
    store = deps.store
    closed = store.conversations.closed_sessions(before, deps.settings.session_gap_minutes)
    written = 0
    for index, session_id in enumerate(closed):
        turns = [t for t in store.conversations.turns(session_id=session_id) if t.role == "user"]
        episode = _episode(deps, session_id, turns) if turns else None   # a model's summary: before the lock
        # The episode, the mark and, with the last session, the habits and profile rebuilt from them commit
        # together: a crash anywhere leaves that session to consolidate again, never summarised twice.
        with store.db.transaction():
            if episode is not None:
                store.memories.add(*episode)
                written += 1
            store.conversations.mark_consolidated(session_id)
            if index == len(closed) - 1:
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
        if candidate and grounded(candidate, text, share=0.7):
            summary = candidate
    if not summary:
        summary = f"Conversation on {dates.describe(turns[0].time)}: " + " / ".join(key_sentences(deps, turns))
    concept_ids = {c.id for t in turns for c in deps.store.concepts.named_in(t.text)}
    names = [c.name for c in deps.store.concepts.list() if c.id in concept_ids]
    memory = NewMemory("episodic", summary, tuple(names), turns[0].time, concept_ids=tuple(sorted(concept_ids)),
                       source_turn_ids=tuple(t.id for t in turns), session_id=session_id)
    return memory, embed_text(deps, summary)


def key_sentences(deps: Deps, turns: list[Turn], limit: int = KEY_SENTENCES) -> list[str]:
    """A session's key facts without a model: the sentences that say the most (never greetings or thanks),
    in the order they were said, each with its speaker when someone else wrote it."""
    people = [c.name for c in deps.store.concepts.list()]
    found: list[tuple[int, int, str]] = []
    for turn in turns:
        said = speakers.split_speaker(turn.text, turn.speaker, people)
        for sentence in sentences(said.text):
            words = len(speakers.content_words(sentence, people))
            if words >= speakers.MIN_CONTENT_WORDS and not sentence.rstrip().endswith("?"):
                text = sentence[:160] if not said.speaker else f"{said.speaker}: {sentence[:160]}"
                found.append((-words, len(found), text))
    if not found:   # nothing but greetings: the first sentence still says when the chat was
        found = [(0, 0, re.split(r"(?<=[.!?])\s", turns[0].text.strip())[0][:160])]
    return [text for _, _, text in sorted(sorted(found)[:limit], key=lambda f: f[1])]


def refresh_habits(deps: Deps) -> int:
    """At most five habits: the user doing the same activity on the same weekday, on two or more dates.

    Only the user's own memories count (not what someone else in an imported chat did), and only an
    action that starts with a verb form ("swimming at the lake", "baked bread").
    """
    seen: dict[tuple[str, int], set[str]] = defaultdict(set)
    sources: dict[tuple[str, int], list[int]] = defaultdict(list)
    phrases: dict[tuple[str, int], Counter[str]] = defaultdict(Counter)
    for memory in deps.store.memories.list("semantic", limit=2000):
        head = memory.action.split()[0].lower() if memory.action else ""
        if head and memory.time and not memory.speaker and is_verb(head):
            key = (head, memory.time.weekday())
            seen[key].add(memory.time.date().isoformat())
            sources[key] += memory.source_turn_ids
            phrases[key][first_lower(memory.action)] += 1
    habits = Counter({key: len(days) for key, days in seen.items() if len(days) >= 2}).most_common(MAX_HABITS)
    with deps.store.db.transaction():     # replaced, never missing
        deps.store.memories.delete_kind("procedural")
        for (head, weekday), count in habits:
            phrase = phrases[(head, weekday)].most_common(1)[0][0]
            content = f"On {dates.WEEKDAYS[weekday].capitalize()}s you often: {phrase} ({count} times)."
            deps.store.memories.add(NewMemory("procedural", content, (head, dates.WEEKDAYS[weekday]),
                                              source_turn_ids=tuple(sorted(set(sources[(head, weekday)])))),
                                    embed_text(deps, content))
    return len(habits)


def profile_history(store: Store) -> dict[str, list[tuple[str, datetime | None, list[int]]]]:
    """key -> [(value, time, source turns)], newest first, from the per-turn profile facts."""
    history: dict[str, list[tuple[str, datetime | None, list[int]]]] = defaultdict(list)
    for memory in store.memories.with_keyword(PROFILE_KEYWORD, "semantic", limit=2000):
        if ":" in memory.content:
            key, value = memory.content.split(":", 1)
            history[key.strip()].append((value.strip(), memory.time, memory.source_turn_ids))
    return history


def refresh_profile(deps: Deps) -> int:
    """Rewrite the short core profile: one line per key, the newest value wins."""
    history = profile_history(deps.store)
    with deps.store.db.transaction():     # replaced, never missing
        deps.store.memories.delete_kind("core")
        for key, values in history.items():
            value, when, turn_ids = values[0]
            content = f"{key}: {value}"
            if len(values) > 1 and values[1][0].lower() != value.lower():
                content += f" (changed on {dates.describe(when)}; before: {values[1][0]})"
            deps.store.memories.add(NewMemory("core", content, (PROFILE_KEYWORD, key), when,
                                              source_turn_ids=tuple(turn_ids)), embed_text(deps, content))
    return len(history)
