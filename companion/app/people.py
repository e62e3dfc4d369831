"""People as the window shows them: cards with a face, face groups waiting for a name, suggestions
("Is this Matt?") to accept or reject, a person's page.

Image pixels are not read here: a :class:`FaceRef` says which file and which
box, and the window cuts the crop itself (on a worker). Naming, merging and
splitting face groups are ``app.library``'s; editing cards is ``app.concepts``'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from companion.app import library
from companion.core.library.recognition import GROUP_MIN_PHOTOS
from companion.core.types import Box, Concept, Memory, Photo, Trigger

if TYPE_CHECKING:
    from companion.app.services import Services


@dataclass(frozen=True)
class FaceRef:
    """Where to cut a face from: an image file (and its stored thumbnail) plus a box in full-size pixels."""

    path: str
    thumbnail: str | None
    width: int
    box: Box | None


@dataclass(frozen=True)
class FaceGroup:
    cluster_id: int
    size: int
    faces: list[tuple[int, FaceRef]]    # (face id, where)


@dataclass(frozen=True)
class PersonCard:
    concept: Concept
    face: FaceRef | None


@dataclass(frozen=True)
class Suggestion:
    """"Is this <concept>?": a face near a person but not clearly theirs; no sighting until accepted."""

    face_id: int
    concept: Concept
    face: FaceRef
    distance: float


@dataclass(frozen=True)
class People:
    groups: list[FaceGroup]
    cards: list[PersonCard]
    more_groups: int = 0     # unnamed groups not listed (a huge library)
    suggestions: list[Suggestion] = field(default_factory=list)


@dataclass(frozen=True)
class PersonPage:
    card: PersonCard
    photos: list[Photo]
    memories: list[Memory]
    reminders: list[Trigger]
    faces: int = 0


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


def card(services: Services, concept: Concept) -> PersonCard:
    return PersonCard(concept, face_of(services, concept))


def people(services: Services, max_groups: int = 60, faces_per_group: int = 8) -> People:
    """Unnamed face groups (largest first), every card with its picture, and the open suggestions."""
    store = services.store
    clusters = store.faces.clusters(named=False, min_photos=GROUP_MIN_PHOTOS)
    groups = []
    for cluster in clusters[:max_groups]:
        faces = [(f.id, _face_ref(store.photos.get(f.photo_id), f.box))
                 for f in store.faces.in_cluster(cluster.id)[:faces_per_group]]
        groups.append(FaceGroup(cluster.id, cluster.size, [(i, r) for i, r in faces if r is not None]))
    cards = [card(services, c) for c in store.concepts.list()]
    return People(groups, cards, max(0, len(clusters) - max_groups), suggestions(services))


def person_page(services: Services, concept_id: int, max_photos: int = 400) -> PersonPage | None:
    store = services.store
    concept = store.concepts.get(concept_id)
    if concept is None:
        return None
    return PersonPage(card(services, concept),
                      library.photo_page(services, person=concept_id, limit=max_photos).photos,
                      store.memories.list(concept_id=concept_id, limit=200),
                      store.triggers.for_concepts([concept_id], active_only=False),
                      len(store.faces.of_concept(concept_id)))


def group_faces(services: Services, cluster_id: int, limit: int = 200) -> list[tuple[int, FaceRef]]:
    store = services.store
    out = [(f.id, _face_ref(store.photos.get(f.photo_id), f.box)) for f in store.faces.in_cluster(cluster_id)[:limit]]
    return [(i, r) for i, r in out if r is not None]


def suggestions(services: Services, concept_id: int | None = None, limit: int = 60) -> list[Suggestion]:
    """Open "Is this ...?" questions (of one person), the closest first."""
    store = services.store
    out = []
    for item in store.faces.suggestions(concept_id, limit):
        concept, face = store.concepts.get(item.concept_id), store.faces.get(item.face_id)
        ref = _face_ref(store.photos.get(item.photo_id), face.box if face else None)
        if concept is not None and ref is not None:
            out.append(Suggestion(item.face_id, concept, ref, item.distance))
    return out


def accept_suggestion(services: Services, face_id: int, concept_id: int) -> None:
    """Yes, this is them: the face becomes the person's (a key and a sighting)."""
    from companion.core.library.recognition import accept_suggestion as accept

    accept(services.store, face_id, concept_id, settings=services.settings)


def reject_suggestion(services: Services, face_id: int, concept_id: int) -> None:
    """No, it is not them: never asked again for this face."""
    from companion.core.library.recognition import reject_suggestion as reject

    reject(services.store, face_id, concept_id)
