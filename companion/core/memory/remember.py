"""Remembering one turn: observations, semantic memories, triggers, profile facts and persona.

Deterministic extraction (``companion.core.memory.extract``) carries every
record-backed fact; a model, when present, adds grounded keywords/place/action
through schema-constrained JSON (read once into ``ModelFacts``; what the turn does
not contain is dropped in ``ground``) and never overrides concept links. Every
memory records who said it and whom it is about (``memory/speakers.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from companion.core import language, model_json
from companion.core.deps import Deps
from companion.core.memory import dates, persona, speakers
from companion.core.memory.extract import Fact, TriggerFact, TurnFacts, extract_turn
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


@dataclass(frozen=True)
class ModelFacts:
    """The model's extraction of a turn, read by ``EXTRACT_SCHEMA``; after :func:`ground`, only the turn's words."""

    content: str = ""
    people: tuple[str, ...] = ()
    place: str = ""
    time: str = ""
    action: str = ""
    instruction: str = ""
    keyword: str = ""


def model_extract(deps: Deps, text: str, when: datetime) -> ModelFacts | None:
    """The model's facts for a turn, read by the schema (None without a model or on unusable output)."""
    if deps.model is None:
        return None
    names = ", ".join(c.name for c in deps.store.concepts.list()[:50]) or "(none)"
    prompt = render_prompt("extract", time=when.isoformat(timespec="minutes"), names=names,
                           turn=data_block("turn", text))
    request = GenerationRequest([ChatMessage("user", prompt)], max_tokens=EXTRACT_TOKENS, temperature=0.0,
                                json_schema=EXTRACT_SCHEMA)
    values = model_json.read(complete(deps.model, request), EXTRACT_SCHEMA)
    if values is None:
        return None
    reminder = model_json.fields(values, "reminder")
    return ModelFacts(model_json.text(values, "content"), tuple(model_json.texts(values, "people")),
                      model_json.text(values, "place"), model_json.text(values, "time"),
                      model_json.text(values, "action"), reminder.get("instruction", ""), reminder.get("keyword", ""))


def ground(facts: ModelFacts, text: str, known: dict[str, Concept]) -> ModelFacts:
    """The one place where a model's values that the turn does not contain are dropped.

    Place and action must be the turn's words; a time 60 % of them (dates resolve the phrase);
    people must be known concepts named in the turn; a reminder needs its keyword written in the turn
    and an instruction mostly made of its words; the one-line content 80 % of them.
    """
    def keep(value: str, share: float = 1.0) -> str:
        return value if value and grounded(value, text, share) else ""

    keyword = facts.keyword if facts.keyword and re.search(rf"(?<!\w){re.escape(facts.keyword)}(?!\w)", text) else ""
    instruction = facts.instruction or text
    return ModelFacts(keep(facts.content, 0.8),
                      tuple(n for n in facts.people if n.lower() in known and grounded(n, text)),
                      keep(facts.place), keep(facts.time, 0.6), " ".join(keep(facts.action).split()[:8]),
                      instruction if keyword and grounded(instruction, text, 0.6) else "", keyword)


def merge(deps: Deps, facts: TurnFacts, model: ModelFacts, text: str, when: datetime,
          recent: list[Concept] | None = None) -> None:
    """PersonaVLM's update stage, checked: the model's grounded fields fill what the rules left empty."""
    known = {c.name.lower(): c for c in deps.store.concepts.list()}
    model = ground(model, text, known)
    people = [known[n.lower()] for n in model.people]
    statements = [f for f in facts.facts if not f.question]
    for fact in statements:
        _fill(fact, model, people, when)
    # The model's one-line memory adds its search words; the stored memory keeps the user's own sentence,
    # the record the checker holds answers to.
    if model.content:
        facts.keywords += [w for w in re.findall(r"[^\W\d_]{4,}", model.content) if w not in facts.keywords][:4]
    if model.keyword and not facts.triggers:
        _model_trigger(facts, statements, model.keyword, text, recent)


def _model_trigger(facts: TurnFacts, statements: list[Fact], keyword: str, text: str,
                   recent: list[Concept] | None) -> None:
    """A reminder the model read, about the first concept the turn names (else the one just talked about)."""
    about = [c for f in statements for c in f.concepts] or list(recent or [])[:1]
    if about:
        facts.triggers.append(TriggerFact([about[0].id], text.strip(), keyword))


def _fill(fact: Fact, model: ModelFacts, people: list[Concept], when: datetime) -> None:
    """What the rules left empty in one sentence, from the model's grounded values found in that sentence."""
    for concept in people:
        if concept.id not in {c.id for c in fact.concepts} and grounded(concept.name, fact.sentence):
            fact.concepts.append(concept)
    if not fact.place and model.place and grounded(model.place, fact.sentence):
        fact.place = model.place
    if not fact.action and fact.concepts and model.action and grounded(model.action, fact.sentence):
        fact.action = model.action
    if fact.when is None and model.time and grounded(model.time, fact.sentence, share=0.6):
        fact.when = dates.parse_when(model.time, when)


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
                  image_concepts: list[Concept] | None = None, *, typed_now: bool = False) -> tuple[int, list[Concept]]:
    """Learn from one stored user turn; returns (memories written, concepts it was about).

    A turn someone else wrote (an imported group chat) is theirs: its "I" is the speaker, its
    memories are about the speaker, and it gives no sightings, reminders, profile facts or persona.

    The reminder gate: only a turn the user ``typed_now`` in this chat makes active reminders; one from
    anywhere else (an import) makes pending ones, which fire only once the user confirms them.
    """
    if turn.role != "user":
        return 0, []
    facts = read_turn(deps, turn.text, turn.time, recent, image_concepts, turn.speaker)
    return write_turn(deps, turn, facts, typed_now=typed_now)


def read_turn(deps: Deps, text: str, when: datetime, recent: list[Concept] | None = None,
              image_concepts: list[Concept] | None = None, speaker: str = "") -> TurnFacts:
    """What a user turn says: the rules' facts, widened by the model's grounded JSON. Writes nothing, so a
    caller can ask the model (seconds) before it opens the transaction that stores the turn."""
    said = speakers.split_speaker(text, speaker, [c.name for c in deps.store.concepts.list()])
    facts = extract_turn(deps, said.text, when, recent, image_concepts, speaker=said.speaker)
    if deps.model is not None and _gaps(facts, said.text):
        extracted = model_extract(deps, said.text, when)
        if extracted is not None:
            merge(deps, facts, extracted, said.text, when, recent)
    return facts


def write_turn(deps: Deps, turn: Turn, facts: TurnFacts, *, typed_now: bool = False) -> tuple[int, list[Concept]]:
    """Store what ``read_turn`` found in the stored user ``turn``; returns (memories written, concepts it was about).

    ``typed_now``: the user typed the turn in this chat, so its reminders are active (see ``remember_turn``)."""
    store = deps.store
    about: dict[int, Concept] = {}
    written = sum(_remember_fact(deps, turn, facts, fact, about) for fact in facts.facts)
    for trigger in facts.triggers:
        for concept_id in trigger.concept_ids:
            store.triggers.add(concept_id, trigger.instruction, trigger.keyword, turn.id, pending=not typed_now)
            about.setdefault(concept_id, store.concepts.require(concept_id))
    for key, value in facts.profile:
        content = f"{key}: {value}"
        store.memories.add(NewMemory("semantic", content, (PROFILE_KEYWORD, key), turn.time,
                                     source_turn_ids=(turn.id,)), embed_text(deps, content))
        written += 1
    if not facts.speaker:     # the user's own words (someone else's turn tells nothing of the user's persona)
        persona.observe(store, turn.text, turn.id)
    return written, list(about.values())


def _remember_fact(deps: Deps, turn: Turn, facts: TurnFacts, fact: Fact, about: dict[int, Concept]) -> int:
    """Observations for the concepts a sentence names, and its memory when it says something; 1 if written."""
    store, speaker = deps.store, facts.speaker
    _observe(deps, turn, fact, speaker, about)
    if fact.question or not fact.says_something:
        return 0
    subject = store.concepts.by_name(fact.subject) if fact.subject else None
    linked = [*fact.concepts, *([subject] if subject is not None else [])]
    if not (speaker or linked or fact.place or fact.action):
        return 0
    memory = NewMemory("semantic", fact.sentence, _keywords(facts, fact, linked), fact.when or turn.time,
                       fact.place, fact.action, tuple(dict.fromkeys(c.id for c in linked)), (turn.id,),
                       speaker=speaker, subject=fact.subject)
    # The vector knows who said it ("Caroline: I went to a support group"): questions name the person.
    store.memories.add(memory, embed_text(deps, f"{speaker}: {fact.sentence}" if speaker else fact.sentence))
    return 1


def _keywords(facts: TurnFacts, fact: Fact, linked: list[Concept]) -> tuple[str, ...]:
    keywords = [c.name for c in linked] + [k for k in (fact.place, fact.action) if k]
    keywords += [k for k in facts.keywords if grounded(k, fact.sentence)]
    return tuple(dict.fromkeys(keywords))


def _observe(deps: Deps, turn: Turn, fact: Fact, speaker: str, about: dict[int, Concept]) -> None:
    """A sighting or a mention of each concept the sentence names (someone else's turn: mentions, no action)."""
    for concept in fact.concepts:
        about[concept.id] = concept
        sighting = concept.id in fact.sightings
        deps.store.observations.add(concept.id, time=(fact.when or turn.time) if sighting else turn.time,
                                    place=fact.place, source="conversation",
                                    kind="sighting" if sighting else "mention", turn_id=turn.id,
                                    action="" if speaker else fact.action)
