"""Perceiving the question photo: who and what is in it, and when and where it was taken.

Faces are matched against person concepts' face keys with a distance threshold
(Settings.face_match_distance); the whole image against pet/object keys with a
similarity threshold (Settings.image_match_similarity). A face that matches
nobody stays an *unknown person*: we never guess a name (RAP's missing
threshold is the failure we avoid).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from companion.core.deps import Deps
from companion.core.errors import BadImageError
from companion.core.hashing import content_hash
from companion.core.library.matching import assign_faces, match_image
from companion.core.types import Box


@dataclass(frozen=True)
class Recognized:
    """A concept found in the photo (source face|clip) or named in the text (source text)."""

    concept_id: int
    name: str
    category: str
    confidence: float
    source: str
    box: Box | None = None      # where the face is (full-size photo pixels), for face matches



@dataclass
class Perception:
    recognized: list[Recognized] = field(default_factory=list)
    unknown_faces: int = 0
    faces: int = 0
    taken_at: datetime | None = None
    taken_at_source: str = ""       # where the date came from ("exif", "file" ...): a guess is said as one
    place: str = ""
    photo_path: str | None = None
    photo_id: int | None = None     # set when the same file is already in the library
    unknown_boxes: list[Box] = field(default_factory=list)   # faces of people nobody has named
    notes: list[str] = field(default_factory=list)   # what could not be done, e.g. no face model


def perceive(deps: Deps, image: Path | str | None) -> Perception:
    """Recognize concepts in ``image``; an empty Perception when there is no image."""
    result = Perception()
    if image is None:
        return result
    path = Path(image).expanduser().resolve()
    if not path.is_file():
        raise BadImageError(f"image not found: {image}")
    result.photo_path = str(path)
    result.photo_id = library_photo(deps, path)
    if deps.photo_reader is None:
        result.notes.append("no photo reader available")
        return result
    photo = deps.photo_reader.read(path)
    result.taken_at, result.taken_at_source = photo.taken_at, photo.taken_at_source
    if photo.latitude is not None and photo.longitude is not None and deps.geocoder is not None:
        place = deps.geocoder.reverse(photo.latitude, photo.longitude)
        result.place = place.label() if place else ""
    best: dict[int, Recognized] = {}
    if deps.face_backend is not None:
        faces = deps.face_backend.detect(photo.pixels)
        result.faces = len(faces)
        assigned = assign_faces(deps.store, deps.settings, [face.embedding for face in faces])
        for face, match in zip(faces, assigned, strict=True):
            box = photo.full_box(face.box)   # what the user sees
            if match is None:
                result.unknown_faces += 1
                result.unknown_boxes.append(box)
                continue
            concept_id, distance = match
            _keep(deps, best, concept_id, 1.0 - distance, "face", box)
    else:
        result.notes.append("no face model available")
    if deps.image_embedder is not None:
        vector = deps.image_embedder.embed_images([photo.pixels])[0]
        for concept_id, distance in match_image(deps.store, deps.settings, vector):
            _keep(deps, best, concept_id, 1.0 - distance, "clip")
    result.recognized = sorted(best.values(), key=lambda r: -r.confidence)
    return result


def library_photo(deps: Deps, path: Path) -> int | None:
    """The library's photo this file is (at one of its paths, or a copy elsewhere with the same bytes), or None."""
    known = deps.store.photos.by_path(str(path))
    if known is not None and known.status == "ok":
        return known.id
    copy = deps.store.photos.copy_at(str(path))
    if copy is not None:
        return copy.photo_id
    try:
        same = deps.store.photos.by_hash(content_hash(str(path)))
    except OSError:
        return None
    return same[0].id if same else None


def _keep(deps: Deps, best: dict[int, Recognized], concept_id: int, confidence: float, source: str,
          box: Box | None = None) -> None:
    concept = deps.store.concepts.get(concept_id)
    if concept is None:
        return
    if concept_id not in best or best[concept_id].confidence < confidence:
        best[concept_id] = Recognized(concept_id, concept.name, concept.category, round(confidence, 3), source, box)


def named_in_text(deps: Deps, text: str, already: list[Recognized]) -> list[Recognized]:
    """Concepts the user named in the question (RAP adds them at distance 0)."""
    seen = {r.concept_id for r in already}
    return [Recognized(c.id, c.name, c.category, 1.0, "text") for c in deps.store.concepts.named_in(text)
            if c.id not in seen]
