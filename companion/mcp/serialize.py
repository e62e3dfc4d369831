"""The app's typed results as small, cited JSON for another app's model: ids, dates, places, paths.

Every function takes a frozen dataclass from ``companion.app`` (or a core type it re-exports) and
returns plain dicts and lists, nothing else: what a client model reads is decided here, in one
place. Dates are ISO 8601 with their offset; a field with nothing in it is left out, so a result
stays short; a record cited by an answer says which record it is (``type`` and ``id``) and where
to look (a photo's path, a turn's first words).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:    # types only: `companion mcp` must answer `initialize` within a second of its launch
    from companion.app.activity import ActivityEntry
    from companion.app.chat import Answer
    from companion.app.library import PhotoDetail
    from companion.app.recall import FoundMemory, PersonRecord, PersonSummary, PhotoPeople, Seen
    from companion.core.types import Concept, Photo, Source

Json = dict[str, object]


def _compact(item: Json) -> Json:
    """``item`` without empty values (None, "", [], {}): a model reads every field it gets."""
    return {k: v for k, v in item.items() if v is not None and v != "" and v != [] and v != {}}


def when(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def card(concept: Concept) -> Json:
    return _compact({"id": concept.id, "name": concept.name, "category": concept.category})


def source(item: Source) -> Json:
    """A record an answer rests on: a photo (its path), a memory or a conversation turn (its first words)."""
    key = "path" if item.type == "photo" else "text"
    return _compact({"type": item.type, "id": item.id, "date": when(item.time), "place": item.place,
                     key: item.snippet})


def seen(item: Seen | None) -> Json | None:
    if item is None:
        return None
    return _compact({"date": when(item.time), "place": item.place, "source": source(item.source)})


def last_seen(person: Concept, item: Seen | None) -> Json:
    found = seen(item)
    if found is None:
        return {"person": card(person), "seen": False}
    return {"person": card(person), "seen": True, **found}


def photo(item: Photo) -> Json:
    place = item.place.label() if item.place else ""
    return _compact({"id": item.id, "path": item.path, "date": when(item.taken_at), "place": place})


def photos_of(person: Concept, photos: list[Photo]) -> Json:
    return {"person": card(person), "count": len(photos), "photos": [photo(p) for p in photos]}


def memory(item: FoundMemory) -> Json:
    m = item.memory
    return _compact({"id": m.id, "kind": m.kind, "text": m.content, "date": when(m.time), "place": m.place,
                     "about": item.about})


def memories(query: str, found: list[FoundMemory]) -> Json:
    return {"query": query, "count": len(found), "memories": [memory(m) for m in found]}


def person(item: PersonSummary) -> Json:
    return _compact({**card(item.concept), "about": item.concept.info, "photos": item.photos,
                     "last_seen": seen(item.last_seen)})


def people(items: list[PersonSummary]) -> Json:
    return {"count": len(items), "people": [person(p) for p in items]}


def person_record(item: PersonRecord) -> Json:
    return _compact({**person(item.summary), "recent_photos": [photo(p) for p in item.photos],
                     "memories": [memory(m) for m in item.memories]})


def photo_people(item: PhotoPeople) -> Json:
    """Who is in a photo; ``from`` says whether the library's records or a match made now said so."""
    people_in = [_compact({**card(p.concept), "how": p.how,
                           "confidence": round(p.confidence, 3) if p.confidence is not None else None})
                 for p in item.people]
    return _compact({"path": item.path, "photo_id": item.photo.id if item.photo else None,
                     "from": "library records" if item.photo else "recognised now",
                     "date": when(item.taken_at), "place": item.place, "people": people_in,
                     "unknown_faces": item.unknown_faces, "notes": item.notes})


def photo_record(item: PhotoDetail) -> Json:
    faces = [_compact({"box": box.as_list(), "name": name}) for box, name in item.faces]
    return _compact({**photo(item.photo), "date_note": item.date_note, "people": item.people, "faces": faces,
                     "other_paths": [p for p in item.paths if p != item.photo.path]})


def answer(item: Answer) -> Json:
    """The full answer and the records it cites; ``model`` is absent when it came from the records alone."""
    return _compact({"answer": item.answer, "sources": [source(s) for s in item.sources], "model": item.model,
                     "notice": item.notice})


def activity(item: ActivityEntry) -> Json:
    return {"id": item.id, "time": when(item.time), "client": item.client, "tool": item.tool,
            "detail": item.detail, "outcome": item.outcome, "results": item.results}


def dump(item: Json) -> str:
    """JSON text for a resource (tools return the dict; the SDK writes both text and structured content)."""
    import json

    return json.dumps(item, ensure_ascii=False)
