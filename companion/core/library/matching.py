"""Matching one photo's faces and image vector against concept keys.

Used by indexing (a photo joining the library) and by answering (the photo the
user asks about), so both recognise the same people with the same rules:

- each face goes to the nearest person key within ``face_match_distance``,
  and *one face per person*: a face cannot go to someone an earlier face in
  the same photo already claimed (two faces in one photo are two people);
- the image vector matches pet/object/place keys within
  ``1 - image_match_similarity``; people are recognised by face only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from companion.config import Settings
from companion.core.store import Store


def assign_faces(store: Store, settings: Settings,
                 embeddings: Sequence[np.ndarray]) -> list[tuple[int, float] | None]:
    """Per face, in the order given (largest first): ``(concept id, distance)`` or None (nobody)."""
    claimed: set[int] = set()
    assigned: list[tuple[int, float] | None] = []
    for embedding in embeddings:
        matches = [m for m in store.concepts.match("face", embedding, settings.face_match_distance)
                   if m[0] not in claimed]
        if not matches:
            assigned.append(None)
            continue
        claimed.add(matches[0][0])   # one face per person
        assigned.append(matches[0])
    return assigned


def match_image(store: Store, settings: Settings, vector: np.ndarray) -> list[tuple[int, float]]:
    """``(concept id, distance)`` of the non-person concepts whose image keys match ``vector``."""
    found = []
    for concept_id, distance in store.concepts.match("image", vector, 1.0 - settings.image_match_similarity):
        concept = store.concepts.get(concept_id)
        if concept is not None and concept.category != "person":   # people are recognised by face only
            found.append((concept_id, distance))
    return found
