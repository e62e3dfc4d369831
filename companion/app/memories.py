"""Memories as the window lists them (newest first, by kind or words, with the names they are about),
editing and forgetting one, and the persona that shapes answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from companion.core.errors import InvalidInputError
from companion.core.types import Memory, Persona, Turn, tidy_place

if TYPE_CHECKING:
    from companion.app.services import Services


@dataclass(frozen=True)
class MemoryItem:
    memory: Memory
    people: list[str]
    place: str


ORIGINS = {"chatgpt": "ChatGPT", "claude": "Claude"}


def imported_from(memory: Memory) -> str:
    """The line that marks a memory another app held as such ("imported from ChatGPT"); "" for one learnt here."""
    return f"imported from {ORIGINS.get(memory.origin, memory.origin)}" if memory.origin else ""


def memories(services: Services, kind: str | None = None, text: str = "",
             limit: int = 1000) -> tuple[list[MemoryItem], Persona]:
    """Memories newest first (filtered by kind and text), with the names they are about, and the persona."""
    store = services.store
    if text:
        found = [store.memories.get(i) for i, _rank in store.memories.search_text(text, 200)]
        rows = [m for m in found if m is not None and (kind is None or m.kind == kind)]
        rows.sort(key=lambda m: (m.time is not None, m.time), reverse=True)
    else:
        rows = store.memories.list(kind, limit=limit)
    names: dict[int, str] = {c.id: c.name for c in store.concepts.list()}
    items = [MemoryItem(m, [names[c] for c in m.concept_ids if c in names], tidy_place(m.place)) for m in rows]
    return items, store.persona.get()


def find_memories(services: Services, kind: str | None = None, about: str | None = None, text: str = "",
                  limit: int = 50) -> list[Memory]:
    """``companion memories list``: the ``limit`` best full-text hits for ``text`` (else the newest),
    only of ``kind`` and only about the concept ``about`` (a name or id) when given."""
    store = services.store
    concept_id = store.concepts.resolve(about).id if about else None
    if text:
        ids = [memory_id for memory_id, _rank in store.memories.search_text(text, limit)]
        return [m for m in (store.memories.get(i) for i in ids) if m is not None
                and (kind is None or m.kind == kind) and (concept_id is None or concept_id in m.concept_ids)]
    return store.memories.list(kind, concept_id=concept_id, limit=limit)


def memory(services: Services, memory_id: int) -> Memory:
    """One memory; ``NotFoundError`` when there is none with that id."""
    return services.store.memories.require(memory_id)


@dataclass(frozen=True)
class MemoryDetail:
    """A memory with what it is about and the conversation turns it came from."""

    memory: Memory
    concepts: list[str]
    turns: list[Turn]


def memory_detail(services: Services, memory_id: int) -> MemoryDetail:
    store = services.store
    found = store.memories.require(memory_id)
    names = [c.name for c in (store.concepts.get(i) for i in found.concept_ids) if c]
    turns = [t for t in (store.conversations.get_turn(i) for i in found.source_turn_ids) if t]
    return MemoryDetail(found, names, turns)


def edit_memory(services: Services, memory_id: int, content: str | None = None, *,
                keywords: list[str] | None = None, kind: str | None = None) -> Memory:
    """Correct a memory (None keeps a field); new content is embedded again when the text embedder
    is installed, so memory search finds the corrected words."""
    embedding = None
    if content is not None:
        embedder = services.optional.text_embedder
        embedding = embedder.embed([content])[0] if embedder else None
    return services.store.memories.edit(memory_id, content=content, keywords=keywords, kind=kind,
                                        embedding=embedding)


def forget_memory(services: Services, memory_id: int) -> bool:
    return services.store.forget_memory(memory_id)


def persona(services: Services) -> Persona:
    return services.store.persona.get()


def reset_persona(services: Services) -> None:
    services.store.persona.reset()


def tone(persona: Persona) -> str:
    """How the persona shapes answers, in words ("be calm and brief"); empty when neutral."""
    from companion.core.memory.persona import tone as persona_tone

    return persona_tone(persona)


def describe_persona(persona: Persona) -> str:
    """The persona's traits in words, for ``/persona`` in ``companion chat``."""
    from companion.core.memory.persona import describe

    return describe(persona)


def remember_for(services: Services, text: str, *, client: str, about: str | None = None) -> Memory:
    """A memory another app adds on the user's behalf (``companion mcp``'s remember tool), marked with the
    app's name in its keywords so the user can tell it from their own; about the card ``about`` when given.
    Embedded when the text model is installed, so memory search finds it like any other."""
    from companion.core.store.memories import NewMemory

    content = " ".join(text.split())
    if not content:
        raise InvalidInputError("a memory needs some text")
    concept = services.store.concepts.resolve(about.strip()) if about and about.strip() else None
    embedder = services.optional.text_embedder
    embedding = embedder.embed([content])[0] if embedder else None
    mark = f"added by {client.strip() or 'another app'}"
    memory_id = services.store.memories.add(NewMemory(
        "semantic", content, keywords=(mark,), concept_ids=(concept.id,) if concept else (),
        subject=concept.name if concept else ""), embedding)
    return services.store.memories.require(memory_id)
