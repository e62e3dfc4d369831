"""Questions another program asks about the records, each answered straight from them and cited: when and
where someone was last seen, the photos of someone in a time window or at a place, everyone the library
knows, who is in a photo (a file the caller names, only inside the watched folders or the library).

The MCP adapter (companion/mcp/) stands on these; they are plain use cases, so the command line could too.
Nothing here writes, and nothing loads a model but :func:`who_is_in_photo` on a photo the library has not
indexed (the face model, through its host: released on the idle timer like every model).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from companion.core.errors import InvalidInputError, NotFoundError
from companion.core.types import Concept, Memory, Photo, Source, tidy_place

if TYPE_CHECKING:
    from companion.app.services import Services
    from companion.core.store.photos import PhotoCursor

# A caller gets a page, not the library: a client model reads every line of what it gets.
MAX_PHOTOS = 50


class OutsideLibraryError(InvalidInputError):
    """A path that is neither inside a watched folder nor a photo of the library: refused, never opened."""


@dataclass(frozen=True)
class Seen:
    """Someone's newest sighting: a photo of them, or a turn in which the user said they were with them."""

    person: Concept
    time: datetime | None
    place: str
    source: Source          # the photo (its path) or the conversation turn (its first words)


@dataclass(frozen=True)
class PersonSummary:
    """A card as a list shows it: who, how many photos, when last seen."""

    concept: Concept
    photos: int
    last_seen: Seen | None


@dataclass(frozen=True)
class PersonInPhoto:
    concept: Concept
    how: Literal["face", "clip", "record"]    # a face matched, the whole image matched, or the library's record
    confidence: float | None                  # 1 - distance for a match made now; None from the records


@dataclass(frozen=True)
class PhotoPeople:
    """Who is in a photo: from the library's records when it is indexed, else recognised now."""

    path: str
    photo: Photo | None                  # the library's record (None: not indexed)
    people: list[PersonInPhoto]
    unknown_faces: int                   # faces nobody has named (never given a name)
    taken_at: datetime | None
    place: str
    notes: list[str] = field(default_factory=list)   # what could not be done (no face model, ...)


def person(services: Services, ref: str) -> Concept:
    """The card a caller named (name or id); ``NotFoundError`` when there is none (forgotten ones are gone)."""
    name = ref.strip()
    if not name:
        raise InvalidInputError("say whom (a name or an id)")
    try:
        return services.store.concepts.resolve(name)
    except NotFoundError as exc:
        raise NotFoundError(f"Companion knows nobody called {name!r} (the people tool lists everyone)") from exc


def last_seen(services: Services, ref: str | Concept) -> Seen | None:
    """When and where ``ref`` was last seen (a photo, or a turn saying so); None when never."""
    from companion.core.answer.retrieve import last_seen as newest

    concept = ref if isinstance(ref, Concept) else person(services, ref)
    found = newest(services.store, concept)
    if found is None:
        return None
    place = tidy_place(found.place)
    if found.source_type == "photo":
        photo = services.store.photos.get(found.source_id)
        snippet = photo.path if photo else ""
    else:
        turn = services.store.conversations.get_turn(found.source_id)
        snippet = turn.text[:160] if turn else ""
    return Seen(concept, found.time, place, Source(found.source_type, found.source_id, found.time, place, snippet))


def people(services: Services, category: str | None = None) -> list[PersonSummary]:
    """Every card (of ``category``), by name, with its photo count and last sighting."""
    from companion.app import library
    return [PersonSummary(c, library.photo_count(services, c.id), last_seen(services, c))
            for c in services.store.concepts.list(category)]


def _instant(value: datetime) -> float:
    """Seconds since the epoch; a time without a zone is read as UTC (as the store orders them)."""
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()


def photos_of(services: Services, ref: str, *, since: datetime | None = None, until: datetime | None = None,
              place: str = "", limit: int = 20) -> tuple[Concept, list[Photo]]:
    """Photos of ``ref``, newest first, taken in ``since <= t < until`` (either end open) and at ``place``
    (a city, region or country, as the Photos grid filters); at most ``limit`` (≤ MAX_PHOTOS)."""
    from companion.app import library

    if since is not None and until is not None and until <= since:
        raise InvalidInputError("the window ends before it starts")
    concept = person(services, ref)
    limit = max(1, min(limit, MAX_PHOTOS))
    found: list[Photo] = []
    cursor: PhotoCursor | int | None = None
    while len(found) < limit:
        page = library.photo_page(services, person=concept.id, place=place.strip() or None, after=cursor)
        for photo in page.photos:
            if since is None and until is None:
                found.append(photo)
            elif photo.taken_at is not None:
                moment = _instant(photo.taken_at)
                if until is not None and moment >= _instant(until):
                    continue
                if since is not None and moment < _instant(since):
                    return concept, found      # newest first: the rest are older still (undated come last)
                found.append(photo)
            if len(found) == limit:
                break
        if page.next is None:
            break
        cursor = page.next
    return concept, found


def _inside(path: Path, folder: str) -> bool:
    root = Path(folder).expanduser().resolve()
    return path == root or root in path.parents


def allowed_photo(services: Services, path: str) -> Path:
    """``path`` resolved, when it is inside a watched folder or is a photo of the library; else
    :class:`OutsideLibraryError` (the file is not opened: a caller cannot probe the disk through it).

    Links are followed before the check, so a link inside a watched folder to a file elsewhere is refused.
    """
    if not path.strip():
        raise InvalidInputError("no photo path given")
    given = Path(path).expanduser()
    if not given.is_absolute():
        raise OutsideLibraryError(f"give the photo's full path (not {path!r})")
    resolved = given.resolve()
    if any(_inside(resolved, f) for f in services.settings.watched_folders):
        return resolved
    store = services.store
    if store.photos.has_path(str(resolved)) and not resolved.is_symlink():
        return resolved
    raise OutsideLibraryError(f"{path} is outside the watched folders; Companion only looks at photos in them "
                              "(Settings ▸ Folders)")


def who_is_in_photo(services: Services, path: str) -> PhotoPeople:
    """Who is in the photo at ``path`` (refused outside the watched folders and the library): the records of
    an indexed photo (faces named, sightings), else faces and image keys matched now, with the same
    rules as indexing. A face that matches nobody stays unknown: a name is never guessed."""
    resolved = allowed_photo(services, path)
    if not resolved.is_file():
        raise InvalidInputError(f"no photo at {path}")
    store = services.store
    known = store.photos.by_path(str(resolved))
    if known is not None and known.status == "ok":
        return _from_records(services, known)
    from companion.core.answer.perceive import perceive

    seen = perceive(services.deps(with_model=False), resolved)
    if seen.photo_id is not None:
        indexed = store.photos.get(seen.photo_id)
        if indexed is not None:         # the same bytes are in the library (a copy): its records
            return _from_records(services, indexed, str(resolved))
    people = [PersonInPhoto(c, "face" if r.source == "face" else "clip", r.confidence)
              for r in seen.recognized if (c := store.concepts.get(r.concept_id)) is not None]
    return PhotoPeople(str(resolved), None, people, seen.unknown_faces, seen.taken_at, tidy_place(seen.place),
                       list(seen.notes))


def _from_records(services: Services, photo: Photo, path: str | None = None) -> PhotoPeople:
    store = services.store
    people: dict[int, PersonInPhoto] = {}
    unknown = 0
    for face in store.faces.for_photo(photo.id):
        concept = store.concepts.get(face.concept_id) if face.concept_id else None
        if concept is None:
            unknown += 1
        else:
            people.setdefault(concept.id, PersonInPhoto(concept, "face", None))
    for observation in store.observations.for_photo(photo.id):
        concept = store.concepts.get(observation.concept_id)
        if concept is not None:
            how: Literal["face", "clip", "record"] = "clip" if observation.source == "clip" else "record"
            people.setdefault(concept.id, PersonInPhoto(concept, how, None))
    place = photo.place.label() if photo.place else ""
    return PhotoPeople(path or photo.path, photo, list(people.values()), unknown, photo.taken_at, tidy_place(place))


@dataclass(frozen=True)
class FoundMemory:
    memory: Memory
    about: list[str]        # the names of the cards it is about


def search_memories(services: Services, text: str, *, about: str | None = None,
                    limit: int = 10) -> list[FoundMemory]:
    """Memories for ``text``, best first: full text and, when the text model is installed, meaning (fused
    by rank, as answering searches them); only those about ``about`` (a name or id) when given."""
    from companion.core.answer.retrieve import search_memories as hybrid

    query = " ".join(text.split())
    if not query:
        raise InvalidInputError("say what to search for")
    limit = max(1, min(limit, MAX_PHOTOS))
    concept = person(services, about) if about and about.strip() else None
    found = hybrid(services.store, query, services.optional.text_embedder, limit=limit * 4 if concept else limit)
    if concept is not None:
        found = [m for m in found if concept.id in m.concept_ids][:limit]
    names = {c.id: c.name for c in services.store.concepts.list()}
    return [FoundMemory(m, [names[c] for c in m.concept_ids if c in names]) for m in found]


@dataclass(frozen=True)
class PersonRecord:
    """A person's card as another app reads it: the card, how often and when last seen, the newest photos
    and memories about them (a handful each: the full lists are a tool call away)."""

    summary: PersonSummary
    photos: list[Photo]
    memories: list[FoundMemory]


def person_record(services: Services, ref: str, *, photos: int = 5, memories: int = 10) -> PersonRecord:
    from companion.app import library

    concept = person(services, ref)
    names = {c.id: c.name for c in services.store.concepts.list()}
    about = services.store.memories.list(concept_id=concept.id, limit=memories)
    return PersonRecord(PersonSummary(concept, library.photo_count(services, concept.id), last_seen(services, concept)),
                        library.photo_page(services, person=concept.id, limit=photos).photos,
                        [FoundMemory(m, [names[c] for c in m.concept_ids if c in names]) for m in about])
