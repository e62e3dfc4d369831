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

from companion.core import language
from companion.core.deps import Deps
from companion.core.memory import dates, persona
from companion.core.memory.extract import TriggerFact, TurnFacts, extract_turn
from companion.core.prompts import data_block, render_prompt
from companion.core.protocols import ChatMessage, GenerationRequest, complete
from companion.core.store.memories import NewMemory
from companion.core.types import Concept, Turn

PROFILE_KEYWORD = "profile"

def _string(limit: int) -> dict[str, Any]:
    return {"type": "string", "maxLength": limit}


# Every string is bounded: a small model repeats itself inside a string until it runs out of tokens, and
# JSON cut off there is lost. With bounds the grammar closes each field, so the object always completes
# within max_tokens (benchmarks/README.md, "Per-turn extraction with the model").
EXTRACT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "content": _string(100),
        "people": {"type": "array", "items": _string(30), "maxItems": 4},
        "place": _string(40),
        "time": _string(30),
        "action": _string(40),
        "reminder": {"type": "object", "properties": {"instruction": _string(60), "keyword": _string(20)},
                     "required": ["instruction", "keyword"]},
    },
    "required": ["content", "people", "place", "time", "action", "reminder"],
}
EXTRACT_TOKENS = 240     # the longest object the schema allows, in Gemma tokens, with room to spare


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
    names = ", ".join(c.name for c in deps.store.concepts.list()[:50]) or "(none)"
    prompt = render_prompt("extract", time=when.isoformat(timespec="minutes"), names=names,
                           turn=data_block("turn", text))
    request = GenerationRequest([ChatMessage("user", prompt)], max_tokens=EXTRACT_TOKENS, temperature=0.0,
                                json_schema=EXTRACT_SCHEMA)
    try:
        value = json.loads(complete(deps.model, request))
    except (ValueError, TypeError):
        return {}
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def merge(deps: Deps, facts: TurnFacts, model: dict[str, Any], text: str, when: datetime,
          recent: list[Concept] | None = None) -> None:
    """PersonaVLM's update stage, checked: the model's fields fill what the rules left empty.

    Every value must be grounded in the turn (its words are the turn's); people must be known
    concepts named in the turn; a time must be a phrase of the turn that dates resolve; a reminder
    needs its keyword written in the turn and someone to be about.
    """
    for keyword in model.get("keywords") or []:
        if isinstance(keyword, str) and grounded(keyword, text) and keyword not in facts.keywords:
            facts.keywords.append(keyword.strip())
    place, action, time = _text(model.get("place")), _text(model.get("action")), _text(model.get("time"))
    content = _text(model.get("content"))
    known = {c.name.lower(): c for c in deps.store.concepts.list()}
    people = [known[n.strip().lower()] for n in model.get("people") or []
              if isinstance(n, str) and n.strip().lower() in known and grounded(n, text)]
    statements = [f for f in facts.facts if not f.question]
    for fact in statements:
        for concept in people:
            if concept.id not in {c.id for c in fact.concepts} and grounded(concept.name, fact.sentence):
                fact.concepts.append(concept)
        if not fact.place and place and grounded(place, fact.sentence):
            fact.place = place
        if not fact.action and fact.concepts and action and grounded(action, fact.sentence):
            fact.action = " ".join(action.split()[:8])
        if fact.when is None and time and grounded(time, fact.sentence, share=0.6):
            fact.when = dates.parse_when(time, when)
    # The model's one-line memory adds its search words; the stored memory keeps the user's own sentence,
    # the record the checker holds answers to.
    if content and grounded(content, text, share=0.8):
        facts.keywords += [w for w in re.findall(r"[^\W\d_]{4,}", content) if w not in facts.keywords][:4]
    reminder = model.get("reminder")
    reminder = reminder if isinstance(reminder, dict) else {}
    keyword = _text(reminder.get("keyword"))
    if keyword and not facts.triggers and re.search(rf"(?<!\w){re.escape(keyword)}(?!\w)", text):
        about = [c for f in statements for c in f.concepts] or list(recent or [])[:1]
        instruction = _text(reminder.get("instruction")) or text
        if about and grounded(instruction, text, share=0.6):
            facts.triggers.append(TriggerFact([about[0].id], text.strip(), keyword))


def _gaps(facts: TurnFacts, text: str) -> bool:
    """Whether the rules left something for the model: a statement about someone with no action, or a
    turn in a language without a table. Questions are not facts.

    The model's call is grammar-constrained, and llama.cpp checks the grammar against the whole
    vocabulary before sampling: with Gemma's 262k tokens that is about a second per token on a
    2-core CPU, so a turn the rules read completely is not sent.
    """
    statements = [f for f in facts.facts if not f.question]
    instructions = {t.instruction for t in facts.triggers}
    if any(f.concepts and not f.action and f.sentence not in instructions for f in statements):
        return True
    return bool(statements) and not language.known(text)


def embed_text(deps: Deps, text: str) -> Any:
    return deps.text_embedder.embed([text])[0] if deps.text_embedder is not None else None


def remember_turn(deps: Deps, turn: Turn, recent: list[Concept] | None = None,
                  image_concepts: list[Concept] | None = None) -> tuple[int, list[Concept]]:
    """Learn from one stored user turn; returns (memories written, concepts it was about)."""
    if turn.role != "user":
        return 0, []
    facts = extract_turn(deps, turn.text, turn.time, recent, image_concepts)
    if deps.model is not None and _gaps(facts, turn.text):
        merge(deps, facts, model_extract(deps, turn.text, turn.time), turn.text, turn.time, recent)
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
        keywords += [k for k in facts.keywords if grounded(k, fact.sentence)]
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
