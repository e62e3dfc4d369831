"""Remembering one turn: observations, semantic memories, triggers, profile facts and persona.

Deterministic extraction (``companion.core.memory.extract``) carries every
record-backed fact; a model, when present, adds grounded keywords/place/action
through schema-constrained JSON and never overrides concept links.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from companion.core.deps import Deps
from companion.core.memory import persona
from companion.core.memory.extract import TurnFacts, extract_turn
from companion.core.prompts import data_block, render_prompt
from companion.core.protocols import ChatMessage, GenerationRequest, complete
from companion.core.store.memories import NewMemory
from companion.core.types import Concept, Turn

PROFILE_KEYWORD = "profile"

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


def grounded(value: str, text: str, share: float = 1.0) -> bool:
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
        if isinstance(keyword, str) and grounded(keyword, text) and keyword not in facts.keywords:
            facts.keywords.append(keyword.strip())
    for fact in facts.facts:
        if fact.question:
            continue
        place, action = model.get("place"), model.get("action")
        if not fact.place and isinstance(place, str) and grounded(place, fact.sentence):
            fact.place = place.strip()
        if not fact.action and fact.concepts and isinstance(action, str) and grounded(action, fact.sentence):
            fact.action = " ".join(action.split()[:8])


def embed_text(deps: Deps, text: str) -> Any:
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
        store.memories.add(memory, embed_text(deps, fact.sentence))
        written += 1
    for trigger in facts.triggers:
        for concept_id in trigger.concept_ids:
            store.triggers.add(concept_id, trigger.instruction, trigger.keyword, turn.id)
            about.setdefault(concept_id, store.concepts.require(concept_id))
    for key, value in facts.profile:
        content = f"{key}: {value}"
        store.memories.add(NewMemory("semantic", content, (PROFILE_KEYWORD, key), turn.time,
                                     source_turn_ids=(turn.id,)), embed_text(deps, content))
        written += 1
    persona.observe(store, turn.text, turn.id)
    return written, list(about.values())
