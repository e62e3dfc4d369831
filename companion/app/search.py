"""Search everywhere, for the window's header: people, photos and memories for the same words at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from companion.app import library
from companion.app.people import PersonCard, card
from companion.core.types import Memory, Photo

if TYPE_CHECKING:
    from companion.app.services import Services


@dataclass(frozen=True)
class Found:
    """One search: people, photos and memories at once."""

    query: str
    people: list[PersonCard]
    photos: list[Photo]
    memories: list[Memory]
    described: bool = False     # CLIP matched photos to the words: the Photos grid can page through them all

    @property
    def empty(self) -> bool:
        return not (self.people or self.photos or self.memories)


def search(services: Services, text: str, per_kind: int = 8) -> Found:
    """People whose name or card matches, photos (of them, at a matching place, then CLIP's nearest)
    and memories (full text). Each photo list is the first page of ``library.photo_page``."""
    query = " ".join(text.split())
    if not query:
        return Found(query, [], [], [])
    store = services.store
    needle = query.casefold()
    matched = [c for c in store.concepts.list() if needle in c.name.casefold() or needle in c.info.casefold()]
    matched.sort(key=lambda c: (not c.name.casefold().startswith(needle), c.name.casefold()))
    cards = [card(services, c) for c in matched[:per_kind]]
    photos: dict[int, Photo] = {}
    for person in cards[:3]:
        for p in library.photo_page(services, person=person.concept.id, limit=per_kind).photos:
            photos.setdefault(p.id, p)
    for p in library.photo_page(services, place=query, limit=per_kind).photos:
        photos.setdefault(p.id, p)
    described = len(photos) < per_kind and services.optional.image_embedder is not None
    if described:
        for p in library.photo_page(services, text=query, limit=per_kind).photos:
            photos.setdefault(p.id, p)
    memories = [m for m in (store.memories.get(i) for i, _rank in store.memories.search_text(query, per_kind))
                if m is not None]
    return Found(query, cards, list(photos.values())[:per_kind * 2], memories, described)
