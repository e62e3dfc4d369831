"""What the window shows: people, a person's page, photo pages, memories, counts, and search everywhere.

Every function is a plain read (or a small write) over :class:`~companion.app.services.Services`,
meant to run on a worker thread; results are dataclasses with no Qt in them. Image
pixels are not read here: a :class:`FaceRef` says which file and which box, and the
window cuts the crop itself.

Paging: :func:`photos_page` is the one call the Photos grid makes per page
(``offset``/``limit``, newest first). A store-level keyset query for very large
libraries can replace its body without the window noticing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from companion.app import library
from companion.core.types import Box, Concept, Memory, Persona, Photo, Trigger, tidy_place

Services = Any  # companion.app.services.Services; kept loose so tests can pass a stand-in


@dataclass(frozen=True)
class FaceRef:
    """Where to cut a face from: an image file (and its stored thumbnail) plus a box in full-size pixels."""

    path: str
    thumbnail: str | None
    width: int
    box: Box | None


@dataclass
class Counts:
    """The numbers in the navigation."""

    people: int
    photos: int
    memories: int
    waiting: int          # face groups waiting for a name


@dataclass
class FaceGroup:
    cluster_id: int
    size: int
    faces: list[tuple[int, FaceRef]]    # (face id, where)


@dataclass
class PersonCard:
    concept: Concept
    face: FaceRef | None


@dataclass
class People:
    groups: list[FaceGroup]
    cards: list[PersonCard]
    more_groups: int = 0     # unnamed groups not listed (a huge library)


@dataclass
class PersonPage:
    card: PersonCard
    photos: list[Photo]
    memories: list[Memory]
    reminders: list[Trigger]
    faces: int = 0


@dataclass
class PhotoDetail:
    photo: Photo
    faces: list[tuple[Box, str | None]]    # each face and the name on it (None: nobody named yet)
    people: list[str] = field(default_factory=list)


@dataclass
class Found:
    """One search: people, photos and memories at once."""

    query: str
    people: list[PersonCard]
    photos: list[Photo]
    memories: list[Memory]

    @property
    def empty(self) -> bool:
        return not (self.people or self.photos or self.memories)


def counts(services: Services) -> Counts:
    store = services.store
    return Counts(people=len(store.concepts.list()), photos=store.photos.count(),
                  memories=store.memories.count(), waiting=len(store.faces.clusters(named=False)))


def _face_ref(photo: Photo | None, box: Box | None) -> FaceRef | None:
    if photo is None:
        return None
    return FaceRef(photo.path, photo.thumbnail, photo.width, box)


def face_of(services: Services, concept: Concept) -> FaceRef | None:
    """The picture of a card: its largest face in the library, else its first reference image."""
    store = services.store
    faces = store.faces.of_concept(concept.id)[:20]
    if faces:
        best = max(faces, key=lambda f: f.box.area)
        return _face_ref(store.photos.get(best.photo_id), best.box)
    for ref in store.concepts.refs(concept.id):
        if ref.image_path:
            photo = store.photos.get(ref.photo_id) if ref.photo_id else None
            return FaceRef(ref.image_path, None, photo.width if photo else 0, ref.box if photo else None)
    return None


def people(services: Services, max_groups: int = 60, faces_per_group: int = 8) -> People:
    """Unnamed face groups (largest first) and every card with its picture."""
    store = services.store
    clusters = store.faces.clusters(named=False)
    groups = []
    for cluster in clusters[:max_groups]:
        faces = [(f.id, _face_ref(store.photos.get(f.photo_id), f.box))
                 for f in store.faces.in_cluster(cluster.id)[:faces_per_group]]
        groups.append(FaceGroup(cluster.id, cluster.size, [(i, r) for i, r in faces if r is not None]))
    cards = [PersonCard(c, face_of(services, c)) for c in store.concepts.list()]
    return People(groups, cards, max(0, len(clusters) - max_groups))


def person_page(services: Services, concept_id: int, max_photos: int = 400) -> PersonPage | None:
    store = services.store
    concept = store.concepts.get(concept_id)
    if concept is None:
        return None
    return PersonPage(PersonCard(concept, face_of(services, concept)),
                      store.photos.list(concept_id=concept_id, limit=max_photos),
                      store.memories.list(concept_id=concept_id, limit=200),
                      store.triggers.for_concepts([concept_id], active_only=False),
                      len(store.faces.of_concept(concept_id)))


def group_faces(services: Services, cluster_id: int, limit: int = 200) -> list[tuple[int, FaceRef]]:
    store = services.store
    out = [(f.id, _face_ref(store.photos.get(f.photo_id), f.box)) for f in store.faces.in_cluster(cluster_id)[:limit]]
    return [(i, r) for i, r in out if r is not None]


def merge_into(services: Services, cluster_ids: list[int], target: int | Concept) -> str:
    """Merge face groups into another group or into a named person; returns what happened, in words."""
    if isinstance(target, Concept):
        for cluster_id in cluster_ids:
            library.name_face_group(services, cluster_id, target.id)
        return f"Added {len(cluster_ids)} group{'s' if len(cluster_ids) != 1 else ''} to {target.name}"
    for cluster_id in cluster_ids:
        if cluster_id != target:
            library.merge_face_groups(services, cluster_id, target)
    return "Merged the groups"


# ---- photos -------------------------------------------------------------------------

@dataclass(frozen=True)
class PhotoQuery:
    """The Photos grid's filters: a person (concept id) and/or a place name."""

    concept_id: int | None = None
    place: str = ""


def photos_page(services: Services, query: PhotoQuery, offset: int, limit: int = 240) -> list[Photo]:
    """One page of the grid, newest first."""
    return services.store.photos.list(concept_id=query.concept_id, place=query.place or None,
                                      limit=limit, offset=offset)


def photo_filters(services: Services, sample: int = 2000, max_places: int = 8) -> tuple[list[Concept], list[str]]:
    """Chips for the grid: people and pets, and the most frequent cities among recent photos."""
    store = services.store
    people = [c for c in store.concepts.list() if c.category in ("person", "pet")]
    cities: dict[str, int] = {}
    for photo in store.photos.list(limit=sample):
        if photo.place and photo.place.city:
            cities[photo.place.city] = cities.get(photo.place.city, 0) + 1
    return people, [c for c, _n in sorted(cities.items(), key=lambda kv: -kv[1])[:max_places]]


def photo_detail(services: Services, photo_id: int) -> PhotoDetail | None:
    store = services.store
    photo = store.photos.get(photo_id)
    if photo is None:
        return None
    faces, names = [], []
    for face in store.faces.for_photo(photo_id):
        concept = store.concepts.get(face.concept_id) if face.concept_id else None
        faces.append((face.box, concept.name if concept else None))
    for observation in store.observations.for_photo(photo_id):
        concept = store.concepts.get(observation.concept_id)
        if concept is not None and concept.name not in names:
            names.append(concept.name)
    return PhotoDetail(photo, faces, names)


def photo(services: Services, photo_id: int) -> Photo | None:
    return services.store.photos.get(photo_id)


def place_text(photo: Photo) -> str:
    """A photo's place for people: "Lisbon, Portugal"."""
    return photo.place.label() if photo.place else ""


# ---- memories -------------------------------------------------------------------------

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


def edit_concept(services: Services, concept_id: int, name: str, category: str, info: str) -> Concept:
    return services.store.concepts.edit(concept_id, name=name, category=category, info=info)


def known_names(services: Services, category: str | None = "person") -> list[str]:
    return [c.name for c in services.store.concepts.list(category)]


def concept(services: Services, concept_id: int) -> Concept | None:
    return services.store.concepts.get(concept_id)


def reference_images(services: Services, concept_id: int) -> list[str]:
    return [r.image_path for r in services.store.concepts.refs(concept_id) if r.image_path]


# ---- search everywhere ----------------------------------------------------------------

def search(services: Services, text: str, per_kind: int = 8) -> Found:
    """People whose name or card matches, photos (of them, at a matching place, then CLIP's nearest)
    and memories (full text), for the header's search box."""
    query = " ".join(text.split())
    if not query:
        return Found(query, [], [], [])
    store = services.store
    needle = query.casefold()
    matched = [c for c in store.concepts.list() if needle in c.name.casefold() or needle in c.info.casefold()]
    matched.sort(key=lambda c: (not c.name.casefold().startswith(needle), c.name.casefold()))
    cards = [PersonCard(c, face_of(services, c)) for c in matched[:per_kind]]
    photos: dict[int, Photo] = {}
    for card in cards[:3]:
        for p in store.photos.list(concept_id=card.concept.id, limit=per_kind):
            photos.setdefault(p.id, p)
    for p in store.photos.list(place=query, limit=per_kind):
        photos.setdefault(p.id, p)
    if len(photos) < per_kind and services.optional("image_embedder") is not None:
        for hit in library.search_photos(services, query, per_kind):
            photos.setdefault(hit[0].id, hit[0])
    memories = [m for m in (store.memories.get(i) for i, _rank in store.memories.search_text(query, per_kind))
                if m is not None]
    return Found(query, cards, list(photos.values())[:per_kind * 2], memories)


def tone(persona: Persona) -> str:
    """How the persona shapes answers, in words ("be calm and brief"); empty when neutral."""
    from companion.core.memory.persona import tone as persona_tone

    return persona_tone(persona)
