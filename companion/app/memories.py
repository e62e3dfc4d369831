"""Memories as the window lists them (newest first, by kind or words, with the names they are about),
editing and forgetting one, and the persona that shapes answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from companion.core.types import Memory, Persona, tidy_place

if TYPE_CHECKING:
    from companion.app.services import Services


@dataclass
class MemoryItem:
    memory: Memory
    people: list[str]
    place: str


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


def edit_memory(services: Services, memory_id: int, content: str) -> Memory:
    return services.store.memories.edit(memory_id, content=content)


def forget_memory(services: Services, memory_id: int) -> bool:
    return services.store.forget_memory(memory_id)


def reset_persona(services: Services) -> None:
    services.store.persona.reset()


def tone(persona: Persona) -> str:
    """How the persona shapes answers, in words ("be calm and brief"); empty when neutral."""
    from companion.core.memory.persona import tone as persona_tone

    return persona_tone(persona)
