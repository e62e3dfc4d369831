"""Matching one photo's faces and image vector against concept keys.

Used by indexing (a photo joining the library), by grouping and re-matching, and by answering
(the photo the user asks about), so all recognise the same people with the same rules.

Faces (:func:`match_face`): two distances and a margin, as Immich and Apple do. One threshold
could not separate people: on real faces one person reached 0.074 and two different people
came as close as 0.067 (benchmarks/README.md, "Faces you can trust"). So a face is

- **assigned** to its nearest person when the distance is within ``face_match_distance``, the
  next person is at least ``face_match_margin`` farther, and the face is sharp and large enough
  (``face_min_quality``);
- otherwise, when the nearest person is within ``face_suggest_distance``, a **suggestion**
  ("Is this Matt?") the user accepts or rejects: not a sighting until accepted;
- otherwise nobody. A person the user said the face is not is never offered again, and a
  face below ``face_min_quality`` (tiny or blurred: its vector says little) is nobody's.

*One face per person* in a photo: a face cannot go to someone an earlier (larger) face in
the same photo already claimed.

The image vector matches pet/object/place keys within ``1 - image_match_similarity``; people
are recognised by face only.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from companion.config import Settings
from companion.core.store import Store

# Person keys read per face: enough that the second person is found behind one person's many keys.
KEYS_PER_SEARCH = 64


@dataclass(frozen=True)
class FaceMatch:
    """The nearest person to a face, how far, and whether that is sure enough to assign it alone."""

    concept_id: int
    distance: float
    sure: bool          # False: a suggestion for the user to answer


def match_face(store: Store, settings: Settings, embedding: np.ndarray, quality: float = 1.0,
               exclude: Collection[int] = ()) -> FaceMatch | None:
    """The face's nearest person within ``face_suggest_distance`` (see the module docstring), or None."""
    if quality < settings.face_min_quality:
        return None
    limit = max(settings.face_suggest_distance, settings.face_match_distance)
    found, horizon = store.concepts.nearest_concepts("face", embedding, KEYS_PER_SEARCH)
    people = [m for m in found if m[0] not in exclude]
    if not people or people[0][1] > limit:
        return None
    concept_id, nearest = people[0]
    # The next person, or (when every key read was this person's) at least as far as the farthest key read.
    second = people[1][1] if len(people) > 1 else horizon
    sure = nearest <= settings.face_match_distance and second - nearest >= settings.face_match_margin
    return FaceMatch(concept_id, nearest, sure)


def match_faces(store: Store, settings: Settings, embeddings: Sequence[np.ndarray],
                qualities: Sequence[float] | None = None) -> list[FaceMatch | None]:
    """Per face, in the order given (largest first): its match, one face per person (sure ones claim)."""
    claimed: set[int] = set()
    found: list[FaceMatch | None] = []
    for index, embedding in enumerate(embeddings):
        quality = qualities[index] if qualities is not None else 1.0
        match = match_face(store, settings, embedding, quality, exclude=claimed)
        if match is not None and match.sure:
            claimed.add(match.concept_id)   # one face per person
        found.append(match)
    return found


def assign_faces(store: Store, settings: Settings,
                 embeddings: Sequence[np.ndarray]) -> list[tuple[int, float] | None]:
    """Per face: ``(concept id, distance)`` when the face is surely that person, else None (a name is never
    guessed: a suggestion stays an unknown face in an answer)."""
    return [(m.concept_id, m.distance) if m is not None and m.sure else None
            for m in match_faces(store, settings, embeddings)]


def match_image(store: Store, settings: Settings, vector: np.ndarray) -> list[tuple[int, float]]:
    """``(concept id, distance)`` of the non-person concepts whose image keys match ``vector``."""
    found = []
    for concept_id, distance in store.concepts.match("image", vector, 1.0 - settings.image_match_similarity):
        concept = store.concepts.get(concept_id)
        if concept is not None and concept.category != "person":   # people are recognised by face only
            found.append((concept_id, distance))
    return found
