"""Face groups, naming/merging/splitting, re-matching from stored vectors, and reference images.

Vectors are written straight into the store (no models): person A's faces sit
near one direction, B's near another, so distances are known.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from companion.config import Settings
from companion.core.errors import InvalidInputError
from companion.core.library import recognition
from companion.core.store import Store
from companion.core.store.photos import PhotoRecord
from companion.core.types import Box, DecodedPhoto, DetectedFace, Place

SETTINGS = Settings(face_match_distance=0.1, face_cluster_distance=0.1, face_min_cluster_size=3,
                    image_match_similarity=0.9)


def direction(seed: int, dim: int = 128) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=dim).astype(np.float32)
    return v / np.linalg.norm(v)


def near(base: np.ndarray, seed: int, spread: float = 0.05) -> np.ndarray:
    v = base + spread * direction(10_000 + seed, base.shape[0]) / np.sqrt(2)
    return (v / np.linalg.norm(v)).astype(np.float32)


A, B = direction(1), direction(2)


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "companion.db")
    yield s
    s.close()


def add_photo(store: Store, n: int, faces: list[np.ndarray], image: np.ndarray | None = None,
              city: str = "Lyon") -> tuple[int, list[int]]:
    photo_id = store.photos.upsert(PhotoRecord(
        path=f"/photos/{n}.jpg", content_hash=f"h{n}", size=1, mtime=1.0,
        taken_at=datetime(2024, 1, n, 12, tzinfo=timezone.utc), taken_at_source="exif", latitude=None,
        longitude=None, place=Place(city, "", "France", "FR"), width=100, height=100, thumbnail=None))
    face_ids = [store.faces.add(photo_id, Box(i * 10, 0, i * 10 + 8, 8), 1.0, f) for i, f in enumerate(faces)]
    if image is not None:
        store.photos.set_embedding(photo_id, image)
    return photo_id, face_ids


def group_of(store: Store, face_id: int) -> int | None:
    return store.faces.get(face_id).cluster_id  # type: ignore[union-attr]


def test_clustering_groups_core_faces_and_defers_the_rest(store: Store) -> None:
    a_faces = [add_photo(store, i + 1, [near(A, i)])[1][0] for i in range(4)]
    b_faces = [add_photo(store, i + 10, [near(B, i)])[1][0] for i in range(2)]   # too few for a group
    report = recognition.cluster_faces(store, SETTINGS)
    assert {group_of(store, f) for f in a_faces} != {None} and len({group_of(store, f) for f in a_faces}) == 1
    assert [group_of(store, f) for f in b_faces] == [None, None]
    assert (report.assigned, report.new_clusters, report.deferred) == (4, 1, 2)
    # A third photo of B arrives: now B's faces are core, and the run is incremental.
    b_faces.append(add_photo(store, 20, [near(B, 9)])[1][0])
    report = recognition.cluster_faces(store, SETTINGS)
    assert report.new_clusters == 1 and len({group_of(store, f) for f in b_faces}) == 1
    assert group_of(store, b_faces[0]) != group_of(store, a_faces[0])


def test_border_face_joins_an_existing_group_on_the_retry(store: Store) -> None:
    # Faces on a circle through A and B: cosine distance = 1 - cos(angle), radius 0.1 = 0.451 rad.
    e2 = B - (B @ A) * A
    e2 /= np.linalg.norm(e2)

    def at(angle: float) -> np.ndarray:
        return (np.cos(angle) * A + np.sin(angle) * e2).astype(np.float32)

    settings = Settings(face_cluster_distance=0.1, face_min_cluster_size=4, face_match_distance=0.1)
    border = add_photo(store, 1, [at(0.75)])[1][0]   # first in line: only one face (0.35) within reach
    core = [add_photo(store, i + 2, [at(angle)])[1][0] for i, angle in enumerate((0.0, 0.05, 0.1, 0.35))]
    far = add_photo(store, 9, [at(1.6)])[1][0]        # nobody within reach
    report = recognition.cluster_faces(store, settings)
    groups = {group_of(store, f) for f in core}
    assert len(groups) == 1 and None not in groups
    assert group_of(store, border) in groups and group_of(store, far) is None
    assert (report.assigned, report.new_clusters, report.deferred) == (5, 1, 1)


def test_naming_a_group_makes_keys_and_sightings_and_new_photos_match(store: Store) -> None:
    faces = [add_photo(store, i + 1, [near(A, i)])[1][0] for i in range(3)]
    add_photo(store, 9, [near(B, 1)])
    recognition.cluster_faces(store, SETTINGS)
    cluster = group_of(store, faces[0])
    concept = recognition.name_face_group(store, cluster, "Ann", settings=SETTINGS)
    assert concept.category == "person" and len(store.concepts.refs(concept.id)) == 3
    timeline = store.observations.timeline(concept.id)
    assert [o.time.day for o in timeline] == [3, 2, 1] and {o.place for o in timeline} == {"Lyon, France"}
    assert {(o.source, o.kind, o.confidence) for o in timeline} == {("face", "sighting", 1.0)}
    # A new photo of Ann, as indexing would commit it: matched by her keys, grouped with her.
    photo_id, (face_id,) = add_photo(store, 15, [near(A, 7)], city="Nice")
    seen = recognition.match_photo(store, SETTINGS, photo_id, [(face_id, store.faces.embedding(face_id), 1.0)], None)
    assert seen == [concept.id]
    latest = store.observations.latest(concept.id, "sighting")
    assert latest.photo_id == photo_id and latest.place == "Nice, France" and 0.9 < latest.confidence < 1
    assert store.faces.get(face_id).concept_id == concept.id
    # Naming another group with the same name merges into Ann's group.
    other = [add_photo(store, 20 + i, [near(A, 30 + i)])[1][0] for i in range(3)]
    store.faces.set_cluster(other, store.faces.new_cluster())
    recognition.name_face_group(store, group_of(store, other[0]), "ann", settings=SETTINGS)
    assert len(store.faces.clusters(named=True)) == 1 and len(store.faces.of_concept(concept.id)) == 7


def test_faces_that_join_a_named_group_become_sightings(store: Store) -> None:
    faces = [add_photo(store, i + 1, [near(A, i)])[1][0] for i in range(3)]
    recognition.cluster_faces(store, SETTINGS)
    concept = recognition.name_face_group(store, group_of(store, faces[0]), "Ann")
    # Clustering alone (no key matching) propagates the name to a newly grouped face.
    photo_id, (face_id,) = add_photo(store, 12, [near(A, 12)])
    recognition.cluster_faces(store, SETTINGS)
    assert group_of(store, face_id) == group_of(store, faces[0])
    assert [o.concept_id for o in store.observations.for_photo(photo_id)] == [concept.id]


def test_merge_keeps_the_named_group_and_refuses_two_people(store: Store) -> None:
    a1 = [add_photo(store, i + 1, [near(A, i)])[1][0] for i in range(2)]
    a2 = [add_photo(store, i + 5, [near(A, 40 + i)])[1][0] for i in range(2)]
    g1 = store.faces.new_cluster()
    store.faces.set_cluster(a1, g1)
    g2 = store.faces.new_cluster()   # (an empty unnamed group is dropped at the next assignment)
    store.faces.set_cluster(a2, g2)
    concept = recognition.name_face_group(store, g2, "Ann")
    kept = recognition.merge_face_groups(store, g2, g1, settings=SETTINGS)   # named one asked to merge away
    assert kept == g2 and store.faces.cluster(g1) is None
    assert len(store.concepts.refs(concept.id)) == 4 and len(store.observations.timeline(concept.id)) == 4
    b = [add_photo(store, 20, [near(B, 1)])[1][0]]
    g3 = store.faces.new_cluster()
    store.faces.set_cluster(b, g3)
    recognition.name_face_group(store, g3, "Bob")
    with pytest.raises(InvalidInputError, match="two different people"):
        recognition.merge_face_groups(store, g3, g2)


def test_split_and_remove_keep_keys_and_sightings_consistent(store: Store) -> None:
    photos = [add_photo(store, i + 1, [near(A, i)]) for i in range(4)]
    faces = [f[0] for _, f in photos]
    group = store.faces.new_cluster()
    store.faces.set_cluster(faces, group)
    concept = recognition.name_face_group(store, group, "Ann", settings=SETTINGS)
    new_group = recognition.split_faces(store, [faces[0]])
    assert group_of(store, faces[0]) == new_group and len(store.concepts.refs(concept.id)) == 3
    assert store.observations.for_photo(photos[0][0]) == []
    # Re-matching must not pull the split face back (the user said it is someone else).
    recognition.rematch_concept(store, SETTINGS, concept.id)
    assert store.observations.for_photo(photos[0][0]) == [] and group_of(store, faces[0]) == new_group
    recognition.remove_face(store, faces[1])
    assert store.faces.get(faces[1]) is None and store.observations.for_photo(photos[1][0]) == []
    assert len(store.concepts.refs(concept.id)) == 2 and len(store.observations.timeline(concept.id)) == 2


def test_rematch_uses_stored_vectors_when_a_key_is_added(store: Store) -> None:
    ann_photos = [add_photo(store, i + 1, [near(A, i)])[0] for i in range(3)]
    bob_photo = add_photo(store, 9, [near(B, 0)])[0]
    concept = store.concepts.add("Ann", "person")
    store.concepts.add_ref(concept.id, "face", A)
    assert recognition.rematch_concept(store, SETTINGS, concept.id) == 3
    assert sorted(o.photo_id for o in store.observations.timeline(concept.id)) == ann_photos
    assert store.observations.for_photo(bob_photo) == []
    # Bob's key is exactly the face of Ann's first photo: every one of Ann's faces is now about as near
    # to Bob as to Ann (no margin), so none stays anyone's automatically: each is a question for the user.
    bob = store.concepts.add("Bob", "person")
    first_face = store.faces.for_photo(ann_photos[0])[0].id
    store.concepts.add_ref(bob.id, "face", store.faces.embedding(first_face))
    for known in store.concepts.list():
        recognition.rematch_concept(store, SETTINGS, known.id)
    owners = {p: {o.concept_id for o in store.observations.for_photo(p)} for p in ann_photos}
    assert owners == {p: set() for p in ann_photos}
    assert {s.photo_id for s in store.faces.suggestions()} == set(ann_photos)


def test_pet_keys_match_image_embeddings_but_people_only_match_by_face(store: Store) -> None:
    dog = direction(50, 512)
    with_dog = add_photo(store, 1, [], image=near(dog, 1, 0.05))[0]
    without = add_photo(store, 2, [], image=direction(51, 512))[0]
    pet = store.concepts.add("Rex", "pet")
    store.concepts.add_ref(pet.id, "image", dog)
    recognition.rematch_concept(store, SETTINGS, pet.id)
    obs = store.observations.timeline(pet.id)
    assert [(o.photo_id, o.source) for o in obs] == [(with_dog, "clip")] and obs[0].confidence > 0.9
    assert store.observations.for_photo(without) == []
    person = store.concepts.add("Ann", "person")
    store.concepts.add_ref(person.id, "image", dog)
    photo_id = add_photo(store, 3, [], image=near(dog, 2, 0.05))[0]
    assert recognition.match_photo(store, SETTINGS, photo_id, [], store.photos.embedding(photo_id)) == [pet.id]


# ---- add_reference_image with small doubles -------------------------------------------------


class Reader:
    def read(self, path: Path) -> DecodedPhoto:
        return DecodedPhoto(pixels=np.zeros((50, 100, 3), np.uint8), width=200, height=100, scale=0.5,
                            taken_at=None, taken_at_source="file")

    def thumbnail(self, photo: DecodedPhoto, destination: Path) -> None:
        raise AssertionError("not used")


class Faces:
    name, dim = "fixed", 128

    def __init__(self, faces: list[DetectedFace]) -> None:
        self.faces = faces

    def detect(self, pixels: np.ndarray) -> list[DetectedFace]:
        return self.faces


class Embedder:
    name, dim = "mean", 512

    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []

    def embed_images(self, images: list[np.ndarray]) -> np.ndarray:
        self.shapes += [i.shape for i in images]
        return np.stack([direction(50, 512) for _ in images])

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        raise AssertionError("not used")


@dataclass
class FakeServices:
    store: Store
    paths: Any
    face_backend: Faces
    settings: Settings = field(default_factory=lambda: SETTINGS)
    photo_reader: Reader = field(default_factory=Reader)
    image_embedder: Embedder = field(default_factory=Embedder)


@dataclass
class P:
    concept_images_dir: Path


def add_reference(services: FakeServices, concept_id: int, image: Path, box: list[int] | None) -> int:
    """What ``app.concepts.add_concept_key`` passes: the store, settings, models and the profile's folder."""
    return recognition.add_reference_image(services.store, services.settings, services,
                                           services.paths.concept_images_dir, concept_id, image, box)


def test_reference_image_one_face_becomes_the_key(store: Store, tmp_path: Path) -> None:
    image = tmp_path / "ann.jpg"
    image.write_bytes(b"jpeg bytes")
    image.chmod(0o644)
    faces = Faces([DetectedFace(Box(10, 10, 20, 20), A)])
    services = FakeServices(store, P(tmp_path / "refs"), faces)
    photo_id = add_photo(store, 1, [near(A, 1)])[0]
    concept = store.concepts.add("Ann", "person")
    ref_id = add_reference(services, concept.id, image, None)
    (ref,) = store.concepts.refs(concept.id)
    assert ref.id == ref_id and ref.kind == "face" and ref.box == Box(20, 20, 40, 40)   # full-size coordinates
    assert Path(ref.image_path).read_bytes() == b"jpeg bytes" and Path(ref.image_path).parent == tmp_path / "refs"
    if os.name == "posix":                          # the profile's copy is the user's alone
        assert Path(ref.image_path).stat().st_mode & 0o777 == 0o600
    assert [o.photo_id for o in store.observations.timeline(concept.id)] == [photo_id]   # re-matched at once


def test_reference_image_with_several_faces_needs_a_box(store: Store, tmp_path: Path) -> None:
    image = tmp_path / "group.jpg"
    image.write_bytes(b"x")
    faces = Faces([DetectedFace(Box(0, 0, 10, 10), A), DetectedFace(Box(40, 0, 50, 10), B),
                   DetectedFace(Box(70, 0, 80, 10), direction(3))])
    services = FakeServices(store, P(tmp_path / "refs"), faces)
    concept = store.concepts.add("Bob", "person")
    with pytest.raises(InvalidInputError, match=r"the photo has 3 faces; pick one with --box .*2: 80 0 100 20"):
        add_reference(services, concept.id, image, None)
    add_reference(services, concept.id, image, [75, 0, 105, 25])
    (key,) = store.concepts.ref_embeddings("face")
    assert np.allclose(key[1], B)
    with pytest.raises(InvalidInputError, match="no face inside the box"):
        add_reference(services, concept.id, image, [190, 90, 199, 99])
    services.face_backend = Faces([])
    with pytest.raises(InvalidInputError, match="no face found"):
        add_reference(services, concept.id, image, None)


def test_reference_image_for_a_pet_embeds_the_box_crop(store: Store, tmp_path: Path) -> None:
    image = tmp_path / "rex.jpg"
    image.write_bytes(b"x")
    services = FakeServices(store, P(tmp_path / "refs"), Faces([]), image_embedder=Embedder())
    pet = store.concepts.add("Rex", "pet")
    add_reference(services, pet.id, image, [20, 10, 120, 90])
    assert services.image_embedder.shapes == [(40, 50, 3)]    # the crop, at the decoded scale
    (ref,) = store.concepts.refs(pet.id)
    assert ref.kind == "image" and ref.box == Box(20, 10, 120, 90)


# ---- one face per person, in the library and in the question photo ---------------------------


def test_two_faces_in_one_photo_are_never_both_the_same_person(store: Store) -> None:
    faces = [add_photo(store, i + 1, [near(A, i)])[1][0] for i in range(3)]
    recognition.cluster_faces(store, SETTINGS)
    ann = recognition.name_face_group(store, group_of(store, faces[0]), "Ann", settings=SETTINGS)
    # Two look-alikes side by side, both within Ann's match distance (largest first, as indexing sends them).
    photo_id, pair = add_photo(store, 15, [near(A, 40), near(A, 41)])
    seen = recognition.match_photo(store, SETTINGS, photo_id, [(f, store.faces.embedding(f), 1.0) for f in pair], None)
    assert seen == [ann.id]
    assert [store.faces.get(f).concept_id for f in pair] == [ann.id, None]


def test_the_question_photo_also_names_each_person_once(tmp_path: Path) -> None:
    from companion.core.answer.perceive import perceive
    from tests.unit._personal import deps

    d = deps(tmp_path)
    d.settings.face_match_distance = SETTINGS.face_match_distance
    ann = d.store.concepts.add("Ann", "person")
    d.store.concepts.add_ref(ann.id, "face", A)
    d.photo_reader = Reader()
    d.face_backend = Faces([DetectedFace(Box(0, 0, 40, 40), near(A, 40)),
                            DetectedFace(Box(50, 0, 80, 30), near(A, 41))])
    photo = tmp_path / "two.jpg"
    photo.write_bytes(b"read by the Reader double")
    seen = perceive(d, photo)
    assert [r.name for r in seen.recognized] == ["Ann"] and seen.recognized[0].box == Box(0, 0, 80, 80)
    assert (seen.faces, seen.unknown_faces, seen.unknown_boxes) == (2, 1, [Box(100, 0, 160, 60)])


# ---- two distances, suggestions, quality (issue 23) ---------------------------------------------

TRUST = Settings(face_min_cluster_size=3)   # the shipped distances: assign <= 0.06 with a 0.02 margin, suggest <= 0.09


def at(base: np.ndarray, distance: float, seed: int) -> np.ndarray:
    """A unit vector at exactly ``distance`` (cosine) from ``base``."""
    other = direction(20_000 + seed, base.shape[0])
    other = other - (other @ base) * base
    other /= np.linalg.norm(other)
    cos = 1.0 - distance
    return (cos * base + np.sqrt(1 - cos * cos) * other).astype(np.float32)


def person(store: Store, name: str, key: np.ndarray) -> int:
    concept = store.concepts.add(name, "person")
    store.concepts.add_ref(concept.id, "face", key)
    return concept.id


def test_a_face_between_the_two_distances_is_a_suggestion_and_no_sighting(store: Store) -> None:
    matt = person(store, "Matt", A)
    photo_id, (face_id,) = add_photo(store, 1, [at(A, 0.074, 1)])      # the same person's worst real distance
    seen = recognition.match_photo(store, TRUST, photo_id, [(face_id, store.faces.embedding(face_id), 1.0)], None)
    assert seen == [] and store.observations.for_photo(photo_id) == []
    assert [(s.face_id, s.concept_id) for s in store.faces.suggestions()] == [(face_id, matt)]
    assert store.faces.get(face_id).concept_id is None


def test_a_clear_face_is_assigned_and_a_far_one_is_nobody(store: Store) -> None:
    matt = person(store, "Matt", A)
    photo_id, (near_face, far_face) = add_photo(store, 1, [at(A, 0.03, 1), at(B, 0.0, 2)])
    faces = [(f, store.faces.embedding(f), 1.0) for f in (near_face, far_face)]
    assert recognition.match_photo(store, TRUST, photo_id, faces, None) == [matt]
    assert store.faces.suggestions() == []


def test_without_a_margin_to_the_next_person_a_close_face_is_only_a_suggestion(store: Store) -> None:
    tom_key = at(A, 0.06, 7)                              # Tom looks like Matt
    matt, tom = person(store, "Matt", A), person(store, "Tom", tom_key)
    between = (A + tom_key) / np.linalg.norm(A + tom_key)   # ~0.015 from both: close, but to whom?
    photo_id, (face_id,) = add_photo(store, 1, [between.astype(np.float32)])
    seen = recognition.match_photo(store, TRUST, photo_id, [(face_id, store.faces.embedding(face_id), 1.0)], None)
    assert seen == []
    assert [s.concept_id for s in store.faces.suggestions()] in ([matt], [tom])


def test_a_blurred_face_is_nobodys(store: Store) -> None:
    person(store, "Matt", A)
    photo_id, (face_id,) = add_photo(store, 1, [at(A, 0.02, 1)])
    seen = recognition.match_photo(store, TRUST, photo_id, [(face_id, store.faces.embedding(face_id), 0.1)], None)
    assert seen == [] and store.faces.suggestions() == []


def test_accepting_a_suggestion_makes_the_sighting_and_a_key(store: Store) -> None:
    matt = person(store, "Matt", A)
    photo_id, (face_id,) = add_photo(store, 1, [at(A, 0.08, 1)])
    recognition.match_photo(store, TRUST, photo_id, [(face_id, store.faces.embedding(face_id), 1.0)], None)
    recognition.accept_suggestion(store, face_id, matt, settings=TRUST)
    assert [o.concept_id for o in store.observations.for_photo(photo_id)] == [matt]
    assert store.faces.get(face_id).concept_id == matt
    assert any(r.face_id == face_id for r in store.concepts.refs(matt))
    assert store.faces.suggestions() == []


def test_a_rejected_suggestion_is_never_offered_again(store: Store) -> None:
    matt = person(store, "Matt", A)
    photo_id, (face_id,) = add_photo(store, 1, [at(A, 0.08, 1)])
    recognition.match_photo(store, TRUST, photo_id, [(face_id, store.faces.embedding(face_id), 1.0)], None)
    recognition.reject_suggestion(store, face_id, matt)
    assert store.faces.suggestions() == []
    store.concepts.add_ref(matt, "face", at(A, 0.01, 3))        # another key: re-matching runs again
    recognition.rematch_concept(store, TRUST, matt)
    assert store.faces.suggestions() == [] and store.observations.for_photo(photo_id) == []
    with pytest.raises(Exception, match="no open suggestion"):
        recognition.accept_suggestion(store, face_id, matt)


def test_naming_another_person_takes_back_the_faces_that_are_theirs(store: Store) -> None:
    """Issue 23: naming one person's group made two photos of another person theirs, and they stayed."""
    ann = person(store, "Ann", A)
    # Bob's face is 0.05 from Ann's key: alone, it is clearly Ann's nearest (no one else has keys yet).
    bob_face_vector = at(A, 0.05, 5)
    photo_id, (face_id,) = add_photo(store, 1, [bob_face_vector])
    recognition.rematch_concept(store, TRUST, ann)
    assert [o.concept_id for o in store.observations.for_photo(photo_id)] == [ann]
    bob = person(store, "Bob", at(bob_face_vector, 0.01, 6))
    recognition.rematch_concept(store, TRUST, bob)
    assert [o.concept_id for o in store.observations.for_photo(photo_id)] == [bob]
    assert store.faces.get(face_id).concept_id in (None, bob)


def test_a_chain_of_neighbours_does_not_make_a_sighting_of_a_named_person(store: Store) -> None:
    ann = person(store, "Ann", A)
    ann_photos = [add_photo(store, i + 1, [at(A, 0.01, i)])[0] for i in range(3)]
    recognition.rematch_concept(store, TRUST, ann)
    # Three faces 0.08 from Ann's key: each near another and near Ann's faces (cluster distance 0.07 is
    # not transitive), but none clearly Ann: they must not become her sightings by joining her group.
    chain = [add_photo(store, 10 + i, [at(at(A, 0.04, 40), 0.04, 50 + i)])[0] for i in range(3)]
    recognition.cluster_faces(store, TRUST)
    for photo in chain:
        assert ann not in {o.concept_id for o in store.observations.for_photo(photo)}
    assert {o.photo_id for o in store.observations.timeline(ann)} == set(ann_photos)


def test_blurred_strangers_are_not_grouped_and_one_photo_is_not_a_group_to_name(store: Store) -> None:
    crowd = [at(B, 0.01, i) for i in range(4)]
    photo_id, face_ids = add_photo(store, 1, crowd)
    for face_id in face_ids:
        store.db.execute("UPDATE faces SET quality = 0.1 WHERE id = ?", (face_id,))
    recognition.cluster_faces(store, TRUST)
    assert all(group_of(store, f) is None for f in face_ids)
    store.db.execute("UPDATE faces SET quality = 1.0")
    recognition.cluster_faces(store, TRUST)
    assert store.faces.clusters(named=False, min_photos=2) == []      # four faces of one photo: four people


def test_a_question_about_a_face_is_dropped_once_the_face_is_someone_elses(store: Store) -> None:
    matt = person(store, "Matt", A)
    photo_id, (face_id,) = add_photo(store, 1, [at(A, 0.08, 1)])
    recognition.match_photo(store, TRUST, photo_id, [(face_id, store.faces.embedding(face_id), 1.0)], None)
    assert len(store.faces.suggestions()) == 1
    group = store.faces.split([face_id])                       # the face's own group, named Tom by the user
    recognition.name_face_group(store, group, "Tom")
    assert store.faces.suggestions() == [] and store.faces.suggestion(face_id, matt) is None


def refuse(store: Store, statement: str) -> None:
    """Make SQLite refuse ``statement`` (e.g. "DELETE ON observations") on this connection, as a failing disk would."""
    store.db.execute(f"CREATE TEMP TRIGGER refused BEFORE {statement} BEGIN SELECT RAISE(ABORT, 'refused'); END")


def test_naming_a_group_and_re_matching_the_person_is_one_transaction(store: Store, tmp_path: Path) -> None:
    from companion.app import library
    from companion.app.services import Services
    from companion.paths import resolve

    faces = [add_photo(store, i + 1, [near(A, i)])[1][0] for i in range(3)]
    recognition.cluster_faces(store, SETTINGS)
    cluster = group_of(store, faces[0])
    services = Services(resolve(tmp_path / "home"), SETTINGS, store)
    refuse(store, "DELETE ON observations")          # the re-matching step fails after the naming step
    with pytest.raises(Exception, match="refused"):     # SQLite's own error, as the disk gave it
        library.name_face_group(services, cluster, "Ann")
    store.db.execute("DROP TRIGGER refused")
    assert store.faces.cluster(cluster).concept_id is None and store.concepts.list() == []   # type: ignore[union-attr]
    assert store.db.query_one("SELECT count(*) AS n FROM observations")["n"] == 0   # type: ignore[index]
    assert library.name_face_group(services, cluster, "Ann").name == "Ann"    # and it works once the disk does
    assert len(store.concepts.refs(store.concepts.list()[0].id)) == 3


def test_merging_several_groups_into_a_person_is_all_or_nothing(store: Store, tmp_path: Path) -> None:
    from companion.app import library
    from companion.app.services import Services
    from companion.paths import resolve

    groups = []
    # The second group is Ann to the user but too far from her faces to join her when she is named.
    for base, start in ((A, 1), (direction(3), 5), (B, 9)):
        faces = [add_photo(store, start + i, [near(base, start + i)])[1][0] for i in range(2)]
        groups.append(store.faces.new_cluster())
        store.faces.set_cluster(faces, groups[-1])
    services = Services(resolve(tmp_path / "home"), SETTINGS, store)
    ann = library.name_face_group(services, groups[0], "Ann")
    library.name_face_group(services, groups[2], "Bob")
    with pytest.raises(InvalidInputError, match="already 'Bob'"):
        library.merge_into(services, [groups[1], groups[2]], ann)      # the second group is someone else
    assert store.faces.cluster(groups[1]).concept_id is None            # type: ignore[union-attr]
    assert len(store.faces.of_concept(ann.id)) == 2


def test_undoing_a_naming_that_made_the_card_leaves_no_trace(store: Store) -> None:
    faces = [add_photo(store, i + 1, [near(A, i)])[1][0] for i in range(3)]
    recognition.cluster_faces(store, SETTINGS)
    stray = add_photo(store, 8, [near(A, 8)])[1][0]          # ungrouped: re-matching gives it to Ann
    concept = recognition.name_face_group(store, group_of(store, faces[0]), "Ann", settings=SETTINGS)
    assert group_of(store, stray) == group_of(store, faces[0])
    group = recognition.unname_faces(store, concept.id, faces, drop_card=True, settings=SETTINGS)
    assert store.concepts.get(concept.id) is None and store.concepts.list() == []
    assert [group_of(store, f) for f in faces] == [group] * 3 and store.faces.cluster(group).concept_id is None
    assert group_of(store, stray) is None                       # as it was before the naming
    assert all(store.observations.for_photo(p) == [] for p in range(1, 10))


def test_undoing_a_naming_into_someone_known_keeps_what_they_had(store: Store) -> None:
    own = [add_photo(store, i + 1, [near(A, i)])[1][0] for i in range(3)]
    home = store.faces.new_cluster()
    store.faces.set_cluster(own, home)
    ann = recognition.name_face_group(store, home, "Ann", settings=SETTINGS)
    wrong = [add_photo(store, 20 + i, [near(A, 30 + i)])[1][0] for i in range(2)]   # someone else, close to Ann
    other = store.faces.new_cluster()
    store.faces.set_cluster(wrong, other)
    recognition.name_face_group(store, other, "ann", settings=SETTINGS)          # merged into Ann's group
    assert len(store.faces.of_concept(ann.id)) == 5
    group = recognition.unname_faces(store, ann.id, wrong, drop_card=False, settings=SETTINGS)
    assert {f.id for f in store.faces.of_concept(ann.id)} == set(own) and len(store.concepts.refs(ann.id)) == 3
    assert [group_of(store, f) for f in wrong] == [group, group] and store.faces.cluster(group).concept_id is None
    assert [o.photo_id for o in store.observations.timeline(ann.id)] == [3, 2, 1]  # no sighting in the undone photos
