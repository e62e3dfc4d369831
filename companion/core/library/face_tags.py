"""Names from other apps (XMP face regions, Google Takeout's people) put on the faces of a new photo.

Runs inside the photo's commit (``indexing._commit``), after matching. Each tag with a box
is paired with the detected face it overlaps best (intersection over union, at least
:data:`MIN_IOU`; each face and each tag used once, best pairs first); that face becomes the
person's: it joins their face group as the user's own choice, becomes one of their keys and
a sighting (``recognition._confirm``), and the card is made when no card has the name. The
user's own word wins: a face the user put in another person's group, or said is not this
person, keeps that. A tag whose box meets no detected face (or that has no box) still records
that the person is in the photo, as a ``user`` sighting without a face.

A *hint* (a name without a box: Takeout's ``people``) names the face only when the photo has
exactly one face and one such name; otherwise it becomes an open suggestion on each face
("Is this Anna?") that the user confirms or rejects in People.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from companion.core.library import recognition
from companion.core.library.xmp_faces import FaceTag
from companion.core.store import Store
from companion.core.types import Box, Concept

MIN_IOU = 0.2
# The distance a hint's suggestion is stored with: it comes from a name, not from a face vector.
HINT_DISTANCE = 0.0


@dataclass
class TagReport:
    named_faces: list[int] = field(default_factory=list)
    concepts: list[int] = field(default_factory=list)       # every person the tags put in the photo
    suggestions: int = 0


def iou(a: Box, b: Box) -> float:
    width = min(a.right, b.right) - max(a.left, b.left)
    height = min(a.bottom, b.bottom) - max(a.top, b.top)
    if width <= 0 or height <= 0:
        return 0.0
    overlap = width * height
    union = (a.right - a.left) * (a.bottom - a.top) + (b.right - b.left) * (b.bottom - b.top) - overlap
    return overlap / union if union > 0 else 0.0


def apply(store: Store, photo_id: int, size: tuple[int, int], faces: list[tuple[int, Box]],
          tags: list[FaceTag], hints: Sequence[str] = ()) -> TagReport:
    """Name the faces of ``photo_id`` from ``tags`` (boxes normalised to ``size``, the photo as shown) and ``hints``."""
    report = TagReport()
    width, height = size
    pairs: list[tuple[float, int, int]] = []
    for t, tag in enumerate(tags):
        if tag.box is None:
            continue
        box = Box(round(tag.box[0] * width), round(tag.box[1] * height),
                  round(tag.box[2] * width), round(tag.box[3] * height))
        pairs += [(iou(box, face_box), t, face_id) for face_id, face_box in faces]
    used_tags: set[int] = set()
    used_faces: set[int] = set()
    for score, t, face_id in sorted(pairs, reverse=True):
        if score < MIN_IOU or t in used_tags or face_id in used_faces:
            continue
        used_tags.add(t)
        used_faces.add(face_id)
        concept_id = _name_face(store, face_id, tags[t].name)
        if concept_id is not None:
            report.named_faces.append(face_id)
            report.concepts.append(concept_id)
    for t, tag in enumerate(tags):
        if t not in used_tags:
            report.concepts.append(_in_photo(store, photo_id, tag.name))
    names = [h for h in dict.fromkeys(" ".join(h.split()) for h in hints) if h
             and h.casefold() not in {tag.name.casefold() for tag in tags}]
    free = [face_id for face_id, _ in faces if face_id not in used_faces]
    if len(names) == 1 and len(faces) == 1 and free:
        concept_id = _name_face(store, free[0], names[0])
        if concept_id is not None:
            report.named_faces.append(free[0])
            report.concepts.append(concept_id)
    else:
        for name in names:
            concept = _card(store, name)
            for face_id in free:
                if concept.id not in store.faces.rejected(face_id) and store.faces.suggest(face_id, concept.id,
                                                                                           HINT_DISTANCE):
                    report.suggestions += 1
            if not free:
                report.concepts.append(_in_photo(store, photo_id, name))
    report.concepts = sorted(set(report.concepts))
    return report


def _card(store: Store, name: str) -> Concept:
    return store.concepts.by_name(name) or store.concepts.add(name, "person")


def _name_face(store: Store, face_id: int, name: str) -> int | None:
    """Make the face the named person's, unless the user said otherwise; the concept id, or None."""
    concept = _card(store, name)
    face = store.faces.get(face_id)
    if face is None or concept.id in store.faces.rejected(face_id):
        return None
    if face.concept_id is not None and face.concept_id != concept.id \
            and store.faces.cluster_source(face_id) == "user":
        return None                        # the user's own naming wins
    if face.concept_id == concept.id and store.faces.cluster_source(face_id) == "user":
        return concept.id                  # already theirs: nothing twice
    cluster_id = store.faces.cluster_of_concept(concept.id)
    if cluster_id is None:
        cluster_id = store.faces.new_cluster(concept.id)
    store.faces.set_cluster([face_id], cluster_id, source="user")
    store.faces.clear_open_suggestions(face_id)
    recognition._confirm(store, concept.id, [face_id])
    if face.concept_id is not None and face.concept_id != concept.id:     # matched to someone else automatically
        recognition._unobserve_if_gone(store, face.concept_id, face.photo_id)
    return concept.id


def _in_photo(store: Store, photo_id: int, name: str) -> int:
    concept = _card(store, name)
    recognition._observe(store, concept.id, photo_id, "user", 1.0)
    return concept.id
