"""Faces and image embeddings -> concepts: matching, face groups, naming, re-matching.

- :func:`match_photo` runs while a photo is committed: each face against the
  person keys (``matching.match_face``: assigned when clearly one person,
  else a suggestion the user answers), the image against pet/object/place
  keys (``image_match_similarity``); hits become "sighting" observations with
  the photo's time and place. A suggestion is not a sighting until accepted
  (:func:`accept_suggestion`; :func:`reject_suggestion` never asks again).
- :func:`cluster_faces` groups faces the Immich way (incremental, DBSCAN-like):
  a face with at least ``face_min_cluster_size`` neighbours within
  ``face_cluster_distance`` (itself included) is a *core* face and joins the
  group of its nearest grouped neighbour, or starts a new group; other faces
  are deferred and, on the retry, may only join an existing group. A face
  joins a *named* group only when the person's keys say so with the same
  rule as matching (otherwise it becomes a suggestion): neighbours chain, and
  a chain once made two photos of another person someone's sightings. Faces
  below ``face_min_quality`` (blurred strangers) are never grouped.
- Naming, merging, splitting and removing keep keys and observations in step.
- :func:`rematch_concept` re-reads stored vectors (no model runs) when a
  concept or key is added. Renaming needs nothing: names are read at answer time.
- :func:`forget_concept` finds the faces recognised through a concept's keys, so
  forgetting it does not leave them behind as an unnamed group.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from companion.config import Settings
from companion.core.errors import InvalidInputError, ModelMissingError, NotFoundError
from companion.core.hashing import file_digest
from companion.core.library.matching import FaceMatch, match_face, match_faces, match_image
from companion.core.protocols import ImageEmbedder, PhotoReader, ReferenceModels
from companion.core.store import ForgetReport, Store
from companion.core.store.vectors import VectorIndex
from companion.core.types import Box, Concept, DecodedPhoto, Face, ObservationSource
from companion.paths import PRIVATE_FILE

DEFAULT_NEIGHBOURS = 16
# A group offered for naming holds faces from at least this many photos (or was made by the user): one
# person is in a photo once, so the faces of a single photo (strangers standing together) are not one person.
GROUP_MIN_PHOTOS = 2


@dataclass(frozen=True)
class ClusterReport:
    assigned: int = 0        # faces that joined a group this run
    new_clusters: int = 0
    deferred: int = 0        # non-core faces with no grouped neighbour: retried next run


# ---- observations -----------------------------------------------------------------------


def _observe(store: Store, concept_id: int, photo_id: int, source: ObservationSource, confidence: float) -> None:
    photo = store.photos.get(photo_id)
    if photo is None:
        return
    store.observations.add(concept_id, time=photo.taken_at, place=photo.place.label() if photo.place else "",
                           source=source, kind="sighting", confidence=round(max(0.0, min(1.0, confidence)), 4),
                           photo_id=photo_id)


def _unobserve_if_gone(store: Store, concept_id: int, photo_id: int) -> None:
    """Drop a face sighting once no face of the photo belongs to the concept any more."""
    if not any(f.concept_id == concept_id for f in store.faces.for_photo(photo_id)):
        store.observations.remove(concept_id, photo_id, "face")


def match_photo(store: Store, settings: Settings, photo_id: int, faces: list[tuple[int, np.ndarray, float]],
                vector: np.ndarray | None) -> list[int]:
    """Match a just-written photo against every concept key; returns the concept ids seen.

    ``faces``: (face id, identity vector, quality), largest face first.
    """
    best: dict[tuple[int, ObservationSource], float] = {}
    matches = match_faces(store, settings, [embedding for _, embedding, _ in faces], [q for _, _, q in faces])
    for (face_id, _, _), match in zip(faces, matches, strict=True):
        if match is None:
            continue
        if not match.sure:
            store.faces.suggest(face_id, match.concept_id, match.distance)
            continue
        concept_id, distance = match.concept_id, match.distance
        best[(concept_id, "face")] = max(best.get((concept_id, "face"), 0.0), 1.0 - distance)
        cluster_id = store.faces.cluster_of_concept(concept_id)
        if cluster_id is not None:
            store.faces.set_cluster([face_id], cluster_id, source="auto")
    if vector is not None:
        for concept_id, distance in match_image(store, settings, vector):
            best[(concept_id, "clip")] = max(best.get((concept_id, "clip"), 0.0), 1.0 - distance)
    for (concept_id, source), confidence in best.items():
        _observe(store, concept_id, photo_id, source, confidence)
    return sorted({concept_id for concept_id, _ in best})


def _decide(store: Store, settings: Settings, face_id: int, embedding: np.ndarray) -> FaceMatch | None:
    """``match_face`` for a stored face: its quality, and never a person the user said it is not."""
    face = store.faces.get(face_id)
    quality = face.quality if face is not None else 1.0
    return match_face(store, settings, embedding, quality, exclude=store.faces.rejected(face_id))


# ---- clustering -------------------------------------------------------------------------


def cluster_faces(store: Store, settings: Settings, face_ids: list[int] | None = None) -> ClusterReport:
    """Group unclustered faces (or ``face_ids``) incrementally; see the module docstring."""
    todo = face_ids if face_ids is not None else store.faces.unclustered(settings.face_min_quality)
    k = max(settings.face_min_cluster_size, DEFAULT_NEIGHBOURS)
    assigned = new_clusters = 0
    deferred: list[int] = []
    for face_id in todo:
        outcome = _cluster_one(store, settings, face_id, k, retry=False)
        if outcome == "deferred":
            deferred.append(face_id)
        assigned += outcome in ("joined", "new")
        new_clusters += outcome == "new"
    left = 0
    for face_id in deferred:   # now that core faces have groups, border faces may join one
        outcome = _cluster_one(store, settings, face_id, k, retry=True)
        assigned += outcome == "joined"
        left += outcome == "deferred"
    return ClusterReport(assigned, new_clusters, left)


def cluster_new_faces(store: Store, settings: Settings, face_ids: list[int]) -> ClusterReport:
    """Group faces an indexing run just added, retrying only the deferred faces near them.

    A deferred face can only become core, or find a grouped neighbour, when a face arrives
    within ``face_cluster_distance`` of it, so these are the only faces whose grouping can
    change. :func:`cluster_faces` without ids retries every deferred face (one search each):
    with thousands of one-off strangers in a large library that made indexing one photo cost
    seconds.
    """
    todo = set(face_ids)
    k = max(settings.face_min_cluster_size, DEFAULT_NEIGHBOURS)
    for face_id in face_ids:
        try:
            embedding = store.faces.embedding(face_id)
        except KeyError:
            continue
        near = [f for f, _ in store.faces.nearest(embedding, k, settings.face_cluster_distance) if f != face_id]
        todo.update(f for f, cluster in store.faces.cluster_ids(near).items() if cluster is None)
    return cluster_faces(store, settings, sorted(todo))   # oldest first, as a full run would


def _cluster_one(store: Store, settings: Settings, face_id: int, k: int, retry: bool) -> str:
    if store.faces.cluster_ids([face_id]).get(face_id) is not None:
        return "already"
    face = store.faces.get(face_id)
    if face is None:
        return "gone"
    if face.quality < settings.face_min_quality:
        return "blurred"          # a blurred stranger: kept in its photo, never grouped
    embedding = store.faces.embedding(face_id)
    matches = store.faces.nearest(embedding, k, settings.face_cluster_distance)
    others = [(f, d) for f, d in matches if f != face_id]
    is_core = len(others) + 1 >= settings.face_min_cluster_size
    if not is_core and not retry:
        return "deferred"
    clusters = store.faces.cluster_ids([f for f, _ in others])
    named = store.faces.cluster_concepts({c for c in clusters.values() if c is not None})
    nearest: tuple[int, float] | None = None
    decision: FaceMatch | None = None
    decided = False
    for other, distance in others:
        cluster = clusters.get(other)
        if cluster is None:
            continue
        concept_id = named.get(cluster)
        if concept_id is not None:
            # A named group: only when the person's keys say so, not through a chain of neighbours.
            if not decided:
                decision, decided = _decide(store, settings, face_id, embedding), True
            if decision is None or not decision.sure or decision.concept_id != concept_id:
                continue
        nearest = (cluster, distance)
        break
    if nearest is None and decision is not None and not decision.sure:
        store.faces.suggest(face_id, decision.concept_id, decision.distance)
    if nearest is None and not is_core:
        return "deferred"
    cluster_id: int | None
    with store.db.transaction():
        if nearest is None:
            cluster_id, distance, outcome = store.faces.new_cluster(), 0.0, "new"
        else:
            (cluster_id, distance), outcome = nearest, "joined"
        store.faces.set_cluster([face_id], cluster_id, source="auto")
        joined = store.faces.get(face_id)
        if joined is not None and joined.concept_id is not None:   # joined a named person: a sighting
            _observe(store, joined.concept_id, joined.photo_id, "face", 1.0 - distance)
            store.faces.clear_open_suggestions(face_id)
    return outcome


# ---- naming, merging, splitting ---------------------------------------------------------


def _resolve(store: Store, name: str | int, category: str) -> Concept:
    if isinstance(name, int) or (isinstance(name, str) and name.strip().isdigit()):
        return store.concepts.require(int(name))
    return store.concepts.by_name(str(name)) or store.concepts.add(str(name), category)


def _confirm(store: Store, concept_id: int, face_ids: list[int]) -> None:
    """The user says these faces are the concept: each becomes a key and a sighting."""
    for face_id in face_ids:
        face = store.faces.get(face_id)
        if face is None:
            continue
        store.concepts.add_ref(concept_id, "face", store.faces.embedding(face_id), box=face.box,
                               face_id=face_id, photo_id=face.photo_id)
        _observe(store, concept_id, face.photo_id, "face", 1.0)


def name_face_group(store: Store, cluster_id: int, name: str | int, category: str = "person", *,
                    settings: Settings | None = None) -> Concept:
    """Name a face group (a new or existing concept); its faces become the concept's keys.

    With ``settings`` the concept is then re-matched against every stored face.
    """
    cluster = store.faces.cluster(cluster_id)
    if cluster is None:
        raise NotFoundError(f"no face group with id {cluster_id}")
    with store.db.transaction():
        concept = _resolve(store, name, category)
        if cluster.concept_id is not None and cluster.concept_id != concept.id:
            current = store.concepts.require(cluster.concept_id)
            raise InvalidInputError(f"face group {cluster_id} is already {current.name!r}; rename that concept "
                                    "instead, or split the faces that are someone else")
        store.faces.name_cluster(cluster_id, concept.id)
        target = store.faces.cluster_of_concept(concept.id)
        _confirm(store, concept.id, [f.id for f in store.faces.in_cluster(target)] if target else [])
    if settings is not None:
        rematch_concept(store, settings, concept.id)
    return concept


def unname_faces(store: Store, concept_id: int, face_ids: list[int], *, drop_card: bool,
                 settings: Settings | None = None) -> int:
    """Undo naming a face group; returns the group the faces wait in again.

    ``face_ids`` (the group as it was when named) go back into a group of their own,
    waiting for a name, without the concept's keys or sightings. With ``drop_card`` (the
    naming made the card) the card goes too, and the faces the re-matching gave it are
    ungrouped again, as they were; otherwise the concept's sightings are rebuilt from the
    keys it keeps (with ``settings``).
    """
    faces = [f for f in (store.faces.get(i) for i in face_ids) if f is not None]
    if not faces:
        raise NotFoundError("the faces of that group are gone")
    ids = [f.id for f in faces]
    with store.db.transaction():
        store.concepts.remove_refs_for_faces(ids)
        cluster_id = store.faces.split(ids)   # the user's own group: re-matching leaves it alone
        if drop_card:
            store.faces.set_cluster([f.id for f in store.faces.of_concept(concept_id)], None)
            store.concepts.delete(concept_id)
        else:
            for face in faces:
                _unobserve_if_gone(store, concept_id, face.photo_id)
    if not drop_card and settings is not None:
        rematch_concept(store, settings, concept_id)
    return cluster_id


def merge_face_groups(store: Store, source_id: int, target_id: int, *, settings: Settings | None = None) -> int:
    """Merge two face groups; returns the surviving group (the named one, if only one is named)."""
    source, target = store.faces.cluster(source_id), store.faces.cluster(target_id)
    for cluster, ident in ((source, source_id), (target, target_id)):
        if cluster is None:
            raise NotFoundError(f"no face group with id {ident}")
    assert source is not None and target is not None
    if source_id == target_id:
        raise InvalidInputError("cannot merge a face group with itself")
    if source.concept_id and target.concept_id and source.concept_id != target.concept_id:
        names = [store.concepts.require(c).name for c in (source.concept_id, target.concept_id)]
        raise InvalidInputError(f"the groups are two different people ({names[0]} and {names[1]}); "
                                "split faces or forget a concept instead")
    if source.concept_id and not target.concept_id:   # keep the named group
        source, target = target, source
    with store.db.transaction():
        moved = [f.id for f in store.faces.in_cluster(source.id)]
        store.faces.merge(source.id, target.id)
        if target.concept_id is not None:
            _confirm(store, target.concept_id, moved)
    if settings is not None and target.concept_id is not None:
        rematch_concept(store, settings, target.concept_id)
    return target.id


def split_faces(store: Store, face_ids: list[int]) -> int:
    """Move faces into a new unnamed group (they are not who the group says); returns its id."""
    faces = []
    for face_id in face_ids:
        face = store.faces.get(face_id)
        if face is None:
            raise NotFoundError(f"no face with id {face_id}")
        faces.append(face)
    if not faces:
        raise InvalidInputError("name at least one face to split")
    with store.db.transaction():
        store.concepts.remove_refs_for_faces(face_ids)
        cluster_id = store.faces.split(face_ids)
        for face in faces:
            if face.concept_id is not None:
                _unobserve_if_gone(store, face.concept_id, face.photo_id)
    return cluster_id


def remove_face(store: Store, face_id: int) -> None:
    """Forget a face (a false detection, or nobody the user knows), with its key and sighting."""
    face = store.faces.get(face_id)
    if face is None:
        raise NotFoundError(f"no face with id {face_id}")
    with store.db.transaction():
        store.concepts.remove_refs_for_faces([face_id])
        store.faces.remove(face_id)
        if face.concept_id is not None:
            _unobserve_if_gone(store, face.concept_id, face.photo_id)


# ---- suggestions ("Is this Matt?") ----------------------------------------------------------


def accept_suggestion(store: Store, face_id: int, concept_id: int, *, settings: Settings | None = None) -> None:
    """The user says yes: the face joins the person's group, becomes a key and a sighting."""
    if store.faces.suggestion(face_id, concept_id) is None:
        raise NotFoundError(f"no open suggestion of concept {concept_id} for face {face_id}")
    concept = store.concepts.require(concept_id)
    with store.db.transaction():
        cluster_id = store.faces.cluster_of_concept(concept.id)
        if cluster_id is None:
            cluster_id = store.faces.new_cluster(concept.id)
        store.faces.set_cluster([face_id], cluster_id, source="user")
        store.faces.clear_open_suggestions(face_id)
        _confirm(store, concept.id, [face_id])
    if settings is not None:
        rematch_concept(store, settings, concept.id)


def reject_suggestion(store: Store, face_id: int, concept_id: int) -> None:
    """The user says no: the face is never offered as that person again and stays nobody's."""
    if store.faces.suggestion(face_id, concept_id) is None:
        raise NotFoundError(f"no open suggestion of concept {concept_id} for face {face_id}")
    store.faces.reject_suggestion(face_id, concept_id)


# ---- re-matching without models -------------------------------------------------------------


def _nearest_within(index: VectorIndex, keys: list[np.ndarray], max_distance: float) -> dict[int, float]:
    """id -> cosine distance to the nearest key, for every stored vector within ``max_distance`` of one
    (exact, through the in-memory index: no pass over the vector table)."""
    best: dict[int, float] = {}
    for key in keys:
        for item, distance in index.within(key, max_distance):
            best[item] = min(best.get(item, distance), distance)
    return best


def rematch_concept(store: Store, settings: Settings, concept_id: int, *, neighbours: bool = True) -> int:
    """Rebuild a concept's automatic sightings from stored vectors; returns how many photos it is in.

    With ``neighbours``, the other people automatically seen in the photos whose faces came near the
    concept's keys are rebuilt too: a face that was clearly one person's before this one had keys may
    not be now (issue 23: they stayed someone else's sightings after the right person was named).
    """
    concept = store.concepts.require(concept_id)
    face_keys = [v for c, v in store.concepts.ref_embeddings("face") if c == concept_id]
    image_keys = [v for c, v in store.concepts.ref_embeddings("image") if c == concept_id]
    seen: dict[tuple[int, ObservationSource], float] = {}
    with store.db.transaction():
        store.observations.clear_concept_auto(concept_id)
        for face in store.faces.of_concept(concept_id):   # its group, confirmed or grouped automatically
            seen[(face.photo_id, "face")] = 1.0
        if face_keys:
            near = _nearest_within(store.faces.index, face_keys,
                                   max(settings.face_suggest_distance, settings.face_match_distance))
            home = store.faces.cluster_of_concept(concept_id)
            for face_id, distance in sorted(near.items()):
                _rematch_face(store, settings, concept_id, face_id, store.faces.embedding(face_id), distance,
                              home, seen)
        if image_keys and concept.category != "person":
            for photo_id, distance in _nearest_within(store.photos.index, image_keys,
                                                      1.0 - settings.image_match_similarity).items():
                seen[(photo_id, "clip")] = max(seen.get((photo_id, "clip"), 0.0), 1.0 - distance)
        for (photo_id, source), confidence in seen.items():
            _observe(store, concept_id, photo_id, source, confidence)
    if neighbours and face_keys:
        photos = {face.photo_id for face in map(store.faces.get, near) if face is not None}
        others = {o.concept_id for p in photos for o in store.observations.for_photo(p)
                  if o.source == "face" and o.concept_id != concept_id}
        for other in sorted(others):
            rematch_concept(store, settings, other, neighbours=False)
    return len({photo_id for photo_id, _ in seen})


def _rematch_face(store: Store, settings: Settings, concept_id: int, face_id: int, embedding: np.ndarray,
                  distance: float, home: int | None, seen: dict[tuple[int, ObservationSource], float]) -> None:
    face = store.faces.get(face_id)
    if face is None or face.concept_id == concept_id:
        return   # gone, or already in its group (counted above)
    if face.concept_id is not None:
        if store.faces.cluster_source(face_id) == "user" or not _demote(store, settings, face, embedding):
            return   # someone else's face, and still clearly theirs
    elif face.cluster_id is not None and store.faces.cluster_source(face_id) == "user":
        return   # the user split it away from this person
    decision = _decide(store, settings, face_id, embedding)
    if decision is None or decision.concept_id != concept_id:
        return   # nearer to another person's keys
    if not decision.sure:
        store.faces.suggest(face_id, concept_id, decision.distance)
        return
    key: tuple[int, ObservationSource] = (face.photo_id, "face")
    seen[key] = max(seen.get(key, 0.0), 1.0 - distance)
    store.faces.clear_open_suggestions(face_id)
    if home is not None:
        store.faces.set_cluster([face_id], home, source="auto")


def _demote(store: Store, settings: Settings, face: Face, embedding: np.ndarray) -> bool:
    """A face matched to one person automatically, before a nearer person had keys: take it back
    (True) unless it is still clearly theirs. It is offered as a suggestion instead."""
    decision = _decide(store, settings, face.id, embedding)
    if decision is not None and decision.sure and decision.concept_id == face.concept_id:
        return False
    assert face.concept_id is not None
    store.faces.set_cluster([face.id], None, source="auto")
    _unobserve_if_gone(store, face.concept_id, face.photo_id)
    return True


# ---- forgetting ------------------------------------------------------------------------------


def recognised_faces(store: Store, settings: Settings, concept_id: int) -> list[int]:
    """Faces outside the concept's named group that matching gave to it through its keys.

    They are its faces as surely as a sighting says so: matching (:func:`_decide`, the rule indexing
    applied) is sure they are this person, and the user did not split them away. An unnamed group
    made mostly of them is the same person's group and goes whole, or its other faces would come
    back as "Who is this?". (Faces only *suggested* as the person stay: they may be someone else,
    and their suggestions go with the concept.)
    """
    keys = [v for c, v in store.concepts.ref_embeddings("face") if c == concept_id]
    if not keys:
        return []
    found: set[int] = set()
    for face_id, _distance in sorted(_nearest_within(store.faces.index, keys, settings.face_match_distance).items()):
        face = store.faces.get(face_id)
        if face is None or (face.concept_id is not None and face.concept_id != concept_id):
            continue
        if face.concept_id is None and face.cluster_id is not None and store.faces.cluster_source(face_id) == "user":
            continue   # the user said it is someone else
        decision = _decide(store, settings, face_id, store.faces.embedding(face_id))
        if decision is None or decision.concept_id != concept_id or not decision.sure:
            continue   # nearer to another person's keys, or only a suggestion
        found.add(face_id)
    groups = {c for c in store.faces.cluster_ids(sorted(found)).values() if c is not None}
    for cluster_id in groups:
        cluster = store.faces.cluster(cluster_id)
        members = [f.id for f in store.faces.in_cluster(cluster_id)]
        if cluster is not None and cluster.concept_id is None and 2 * len(found.intersection(members)) > len(members):
            found.update(members)
    return sorted(found)


def forget_concept(store: Store, settings: Settings, concept_id: int) -> ForgetReport:
    """Forget a concept everywhere (``Store.forget_concept``), with the faces recognised through its keys."""
    store.concepts.require(concept_id)
    return store.forget_concept(concept_id, also_faces=recognised_faces(store, settings, concept_id))


# ---- reference images -----------------------------------------------------------------------


def _overlap(a: Box, b: Box) -> int:
    return max(0, min(a.right, b.right) - max(a.left, b.left)) * max(0, min(a.bottom, b.bottom) - max(a.top, b.top))


def _describe(boxes: list[Box]) -> str:
    return "; ".join(f"{i + 1}: {' '.join(map(str, b.as_list()))}" for i, b in enumerate(boxes))


def add_reference_image(store: Store, settings: Settings, models: ReferenceModels, images_dir: Path,
                        concept_id: int, image_path: Path | str, box: list[int] | Box | None = None) -> int:
    """Make a reference photo a key of the concept (a face for people, a CLIP vector otherwise).

    ``box`` (full-size photo coordinates) picks the face, or the region to embed. The photo
    is copied into ``images_dir``. Returns the new key's id; existing photos are re-matched at once.
    A pet's or thing's photo added while the image model is not installed is kept without its
    vector (``store.concepts.pending_refs``) and matched once the model is there (:func:`embed_pending_keys`).
    """
    concept = store.concepts.require(concept_id)
    path = Path(image_path).expanduser()
    if not path.is_file():
        raise InvalidInputError(f"image not found: {image_path}")
    chosen = Box(*box) if isinstance(box, (list, tuple)) else box
    if chosen is not None and chosen.area == 0:
        raise InvalidInputError("the box is empty: give LEFT TOP RIGHT BOTTOM with LEFT < RIGHT and TOP < BOTTOM")
    photo = models.photo_reader.read(path)
    key_box: Box | None
    if concept.category == "person":
        faces = models.face_backend.detect(photo.pixels)
        boxes = [photo.full_box(f.box) for f in faces]
        if not faces:
            raise InvalidInputError(f"no face found in {path.name}; use a photo where the face is clearly visible")
        if chosen is None and len(faces) > 1:
            raise InvalidInputError(f"the photo has {len(faces)} faces; pick one with --box LEFT TOP RIGHT BOTTOM: "
                                    f"{_describe(boxes)}")
        index = 0
        if chosen is not None:
            overlaps = [_overlap(chosen, b) for b in boxes]
            index = int(np.argmax(overlaps))
            if overlaps[index] == 0:
                raise InvalidInputError(f"no face inside the box; faces are at {_describe(boxes)}")
        kind, vector, key_box = "face", faces[index].embedding, boxes[index]
    else:
        pixels = _region(photo, chosen)
        kind, key_box = "image", chosen
        try:
            vector = models.image_embedder.embed_images([pixels])[0]
        except ModelMissingError:
            vector = None           # kept: matched when the image model is installed
    copy, created = _keep_copy(Path(images_dir), concept_id, path)
    try:
        ref_id = store.concepts.add_ref(concept_id, kind, None if vector is None else np.asarray(vector, np.float32),
                                        image_path=str(copy), box=key_box)
    except BaseException:
        if created:   # never delete a copy another key of the concept still uses
            copy.unlink(missing_ok=True)
        raise
    rematch_concept(store, settings, concept_id)
    return ref_id


def _region(photo: DecodedPhoto, chosen: Box | None) -> np.ndarray:
    pixels = photo.pixels
    if chosen is not None:
        region = photo.pixel_box(chosen)
        if region.right - region.left < 2 or region.bottom - region.top < 2:
            raise InvalidInputError(f"the box is outside the photo ({photo.width}x{photo.height})")
        pixels = pixels[region.top:region.bottom, region.left:region.right]
    return np.ascontiguousarray(pixels)


def embed_pending_keys(store: Store, settings: Settings, reader: PhotoReader, embedder: ImageEmbedder) -> int:
    """Give the reference photos kept without a vector (added offline) their vectors, and match them
    against the library; returns how many keys were completed. A copy that cannot be read is skipped."""
    done: set[int] = set()
    completed = 0
    for ref in store.concepts.pending_refs("image"):
        try:
            photo = reader.read(Path(str(ref.image_path)))
            vector = embedder.embed_images([_region(photo, ref.box)])[0]
        except (OSError, ValueError, InvalidInputError):
            continue
        store.concepts.set_ref_vector(ref.id, "image", np.asarray(vector, dtype=np.float32))
        done.add(ref.concept_id)
        completed += 1
    for concept_id in sorted(done):
        rematch_concept(store, settings, concept_id)
    return completed


def reference_copy_name(concept_id: int, source: Path) -> str:
    """The name of a reference photo's copy in the profile: one copy per concept and content."""
    return f"concept-{concept_id}-{file_digest(source, 'blake2b', digest_size=8)}{source.suffix.lower()}"


def _keep_copy(folder: Path, concept_id: int, source: Path) -> tuple[Path, bool]:
    """Copy the reference image into the profile (the user may delete the original)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / reference_copy_name(concept_id, source)
    if target.exists():
        return target, False
    # Private from the first byte (copy2 would give the copy the original's mode, often 0644).
    with open(source, "rb") as original, os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                                                           PRIVATE_FILE), "wb") as copy:
        shutil.copyfileobj(original, copy)
    return target, True
