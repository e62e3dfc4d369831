"""Synthetic profiles of realistic size for benchmarks/scale.py and benchmarks/gui.py.

A profile has N photos (10 years, 50 places), 500 concepts (300 people, 120 pets, 70
objects, 10 places), 20k faces in 400 face groups (300 named, so 15k face keys), ~400
image keys, 50k conversation turns, 10k memories and 100 reminders. Rows and vectors
are synthetic but written through the real store and repositories (``Store``,
``recognition.name_face_group``), in batched transactions so 100k photos take about a
minute. Vectors come from a seeded model (:class:`VectorModel`) with the shape of the real
ones: a common direction (CLIP and dlib vectors live in a cone), cluster centres (scenes,
identities, memory topics) and noise. The model is rebuilt from the seed, never stored, so
a benchmark can make queries that match a cached profile.

Profiles are cached: ``ensure_profile(cache, photos)`` builds one once into
``cache/profile-v{VERSION}-{photos}`` (atomically: built aside, then renamed).
"""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from companion import config  # noqa: E402
from companion.core.library import recognition  # noqa: E402
from companion.core.store import Store  # noqa: E402
from companion.core.store.memories import NewMemory  # noqa: E402
from companion.core.store.photos import PhotoRecord  # noqa: E402
from companion.core.types import Box, Place  # noqa: E402
from companion.paths import resolve  # noqa: E402

VERSION = 1          # bump when what a profile holds changes: cached profiles are rebuilt
SEED = 15
END = datetime(2026, 6, 30, 18, 0, tzinfo=timezone(timedelta(hours=2)))
YEARS = 10
BATCH = 5_000        # rows per transaction while building


@dataclass(frozen=True)
class Spec:
    photos: int
    people: int = 300
    pets: int = 120
    objects: int = 70
    places: int = 10
    face_groups: int = 400          # the first ``people`` are named
    faces_per_group: int = 50
    memories: int = 10_000
    turns: int = 50_000
    reminders: int = 100
    scenes: int = 2_000             # CLIP clusters
    topics: int = 200               # memory clusters

    @property
    def concepts(self) -> int:
        return self.people + self.pets + self.objects + self.places

    @property
    def faces(self) -> int:
        return self.face_groups * self.faces_per_group


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


def _noise(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    return rng.normal(scale=1 / np.sqrt(dim), size=(n, dim))   # |noise| ~ 1


class VectorModel:
    """Seeded centres for CLIP (512), faces (128) and memories (384), and samples around them."""

    def __init__(self, spec: Spec, seed: int = SEED) -> None:
        rng = np.random.default_rng(seed)
        self.clip_common, self.text_common = _unit(rng.normal(size=(2, 512)))
        self.scenes = _unit(rng.normal(size=(spec.scenes, 512)))
        self.face_common = _unit(rng.normal(size=128))
        self.identities = _unit(rng.normal(size=(spec.face_groups + 1000, 128)))   # +1000 strangers
        self.memory_common = _unit(rng.normal(size=384))
        self.topics = _unit(rng.normal(size=(spec.topics, 384)))

    def photos(self, rng: np.random.Generator, scenes: np.ndarray) -> np.ndarray:
        return _unit(0.8 * self.clip_common + self.scenes[scenes] + 0.45 * _noise(rng, len(scenes), 512))

    def text_query(self, rng: np.random.Generator, scene: int) -> np.ndarray:
        """A CLIP text vector about a scene (text and images differ by a modality offset)."""
        return _unit(0.5 * self.text_common + self.scenes[scene] + 0.6 * _noise(rng, 1, 512))[0]

    def faces(self, rng: np.random.Generator, identities: np.ndarray) -> np.ndarray:
        return _unit(self.face_common + self.identities[identities] + 0.2 * _noise(rng, len(identities), 128))

    def memories(self, rng: np.random.Generator, topics: np.ndarray) -> np.ndarray:
        return _unit(self.memory_common + self.topics[topics] + 0.6 * _noise(rng, len(topics), 384))

    def memory_query(self, rng: np.random.Generator, topic: int) -> np.ndarray:
        return _unit(0.5 * self.memory_common + self.topics[topic] + 0.6 * _noise(rng, 1, 384))[0]


# ---- names and words ----------------------------------------------------------------------

_SYLLABLES = ["ka", "ri", "mo", "len", "ta", "vi", "so", "ber", "na", "lu", "der", "mi", "go", "sel", "fa", "ro"]
CITIES = [Place(f"City{i}", f"Region{i % 12}", ["France", "Portugal", "Austria", "Italy", "Spain"][i % 5],
                ["FR", "PT", "AT", "IT", "ES"][i % 5]) for i in range(50)]
ACTIVITIES = ["hiking", "sailing", "cooking dinner", "climbing", "at the market", "swimming", "painting the fence",
              "watching a film", "cycling", "visiting the museum"]


def word(i: int, length: int = 3) -> str:
    """A made-up, capitalised word, distinct for each ``i`` (names that match nothing else)."""
    parts = []
    for _ in range(length):
        parts.append(_SYLLABLES[i % len(_SYLLABLES)])
        i //= len(_SYLLABLES)
    return "".join(parts).capitalize()


def concept_names(spec: Spec) -> list[tuple[str, str]]:
    """(name, category) for every concept, people first."""
    out = [(f"{word(i)} {word(i * 7 + 3, 2)}", "person") for i in range(spec.people)]
    out += [(word(1000 + i), "pet") for i in range(spec.pets)]
    out += [(f"the {word(2000 + i, 2).lower()} bike", "object") for i in range(spec.objects)]
    out += [(f"{word(3000 + i)} cabin", "place") for i in range(spec.places)]
    return out


# ---- building -----------------------------------------------------------------------------


def _batches(n: int):  # type: ignore[no-untyped-def]
    for start in range(0, n, BATCH):
        yield range(start, min(n, start + BATCH))


def build(home: Path, spec: Spec, seed: int = SEED, say=print) -> None:  # type: ignore[no-untyped-def]
    """Write a whole profile into ``home`` through the store's repositories."""
    paths = resolve(home).ensure()
    settings = config.load(paths.settings_path)
    store = Store.open(paths.db_path)
    model, rng = VectorModel(spec, seed), np.random.default_rng(seed + 1)
    started = time.perf_counter()
    step = 10 * 365 * 86400 / max(1, spec.photos)
    scene_of = rng.integers(0, spec.scenes, size=spec.photos)
    ids: list[int] = []
    for batch in _batches(spec.photos):
        vectors = model.photos(rng, scene_of[batch.start:batch.stop])
        with store.db.transaction():
            for i, vector in zip(batch, vectors, strict=True):
                when = END - timedelta(seconds=(spec.photos - 1 - i) * step)
                place = CITIES[i % len(CITIES)]
                pid = store.photos.upsert(PhotoRecord(
                    f"/library/{when.year}/IMG_{i:07d}.jpg", f"{i:040x}", 2_000_000 + i, 1.7e9 + i, when, "exif",
                    40.0 + (i % 50) * 0.1, 5.0 + (i % 50) * 0.1, place, 4000, 3000, None))
                store.photos.set_embedding(pid, vector)
                ids.append(pid)
        say(f"  photos {batch.stop}/{spec.photos} ({time.perf_counter() - started:.0f} s)")
    photo_ids = np.asarray(ids)

    names = concept_names(spec)
    with store.db.transaction():
        concepts = [store.concepts.add(name, category, f"{category} number {i}").id
                    for i, (name, category) in enumerate(names)]
    # Faces: 400 identities x 50 photos each; the first `people` groups are named by the user.
    groups: list[list[int]] = []
    with store.db.transaction():
        for group in range(spec.face_groups):
            where = rng.choice(photo_ids, size=spec.faces_per_group, replace=False)
            vectors = model.faces(rng, np.full(spec.faces_per_group, group))
            groups.append([store.faces.add(int(pid), Box(1000, 800, 1400, 1300), 0.99, v)
                           for pid, v in zip(where, vectors, strict=True)])
    with store.db.transaction():
        for faces in groups:
            store.faces.set_cluster(faces, store.faces.new_cluster(), source="auto")
    say(f"  faces {spec.faces} in {spec.face_groups} groups ({time.perf_counter() - started:.0f} s)")
    with store.db.transaction():
        for person in range(spec.people):
            cluster = store.faces.cluster_ids([groups[person][0]])[groups[person][0]]
            recognition.name_face_group(store, int(cluster), concepts[person])
    # Pets and objects: a few image keys each, seen by CLIP in the photos of their scene.
    things = range(spec.people, spec.people + spec.pets + spec.objects)
    scene_photos: dict[int, np.ndarray] = {}
    with store.db.transaction():
        for index in things:
            scene = index % spec.scenes
            for key in model.photos(rng, np.full(2, scene)):
                store.concepts.add_ref(concepts[index], "image", key)
            scene_photos[scene] = photo_ids[scene_of == scene]
            for pid in scene_photos[scene][:200]:
                photo = store.photos.get(int(pid))
                assert photo is not None
                store.observations.add(concepts[index], time=photo.taken_at, place=photo.place.label() if photo.place
                                       else "", source="clip", kind="sighting", confidence=0.85, photo_id=int(pid))
    say(f"  {spec.concepts} concepts, keys and sightings ({time.perf_counter() - started:.0f} s)")

    # Conversations: 20 turns each, oldest first; every 4th user turn is about someone.
    turn_ids: list[int] = []
    per = 20
    gap = 10 * 365 * 86400 / max(1, spec.turns // per)
    for batch in _batches(spec.turns // per):
        with store.db.transaction():
            for c in batch:
                start = END - timedelta(seconds=(spec.turns // per - c) * gap)
                conversation = store.conversations.start(title=f"chat {c}", started_at=start)
                for t in range(per):
                    when = start + timedelta(minutes=2 * t)
                    about = int(rng.integers(0, spec.concepts))
                    name, activity = names[about][0], ACTIVITIES[(c + t) % len(ACTIVITIES)]
                    city = CITIES[(c * 7 + t) % len(CITIES)].city
                    if t % 2:
                        text = f"That sounds lovely. What else happened in {city}?"
                    elif t % 8 == 0:
                        text = f"Went {activity} with {name} in {city} today."
                    else:
                        text = f"The weather in {city} was {['sunny', 'grey', 'windy'][t % 3]} and I was {activity}."
                    turn = store.conversations.add_turn(conversation.id, "assistant" if t % 2 else "user", text,
                                                        when, session_gap_minutes=settings.session_gap_minutes)
                    turn_ids.append(turn.id)
                    if t % 8 == 0:
                        store.observations.add(concepts[about], time=when, place=city, source="conversation",
                                               kind="sighting", turn_id=turn.id, action=activity)
    say(f"  {len(turn_ids)} turns ({time.perf_counter() - started:.0f} s)")

    topics = rng.integers(0, spec.topics, size=spec.memories)
    kinds = ["semantic"] * 8 + ["episodic"]
    for batch in _batches(spec.memories):
        vectors = model.memories(rng, topics[batch.start:batch.stop])
        with store.db.transaction():
            for i, vector in zip(batch, vectors, strict=True):
                about = int(rng.integers(0, spec.concepts))
                city = CITIES[(i * 3) % len(CITIES)].city
                when = END - timedelta(days=float(rng.uniform(0, 365 * YEARS)))
                if i < 40:     # the profile facts ("job: nurse") the answer step reads every time
                    memory = NewMemory("semantic", f"fact{i % 20}: value {i}", ("profile", f"fact{i % 20}"), when)
                else:
                    activity = ACTIVITIES[int(topics[i]) % len(ACTIVITIES)]
                    memory = NewMemory(kinds[i % len(kinds)], f"{names[about][0]} and I went {activity} in {city} "
                                       f"(topic {topics[i]}).", (names[about][0], city, activity), when, city,
                                       activity, (concepts[about],), (turn_ids[(i * 37) % len(turn_ids)],))
                store.memories.add(memory, vector)
    with store.db.transaction():
        for i in range(spec.reminders):
            store.triggers.add(concepts[(i * 3) % spec.people], f"remind me to return the book {i}", f"BOOK{i}")
    say(f"  {spec.memories} memories, {spec.reminders} reminders ({time.perf_counter() - started:.0f} s)")
    store.close()


def ensure_profile(cache: Path, spec: Spec, say=print) -> Path:  # type: ignore[no-untyped-def]
    """The cached profile home for ``spec`` (built first if missing)."""
    home = cache / f"profile-v{VERSION}-{spec.photos}"
    if home.is_dir():
        return home
    partial = cache / f"building-v{VERSION}-{spec.photos}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    say(f"building a {spec.photos}-photo profile into {home} (once; later runs reuse it)")
    build(partial, spec, say=say)
    partial.rename(home)
    return home


def copy_profile(home: Path, target: Path) -> Path:
    """A private copy of a cached profile (benchmarks write to it)."""
    shutil.copytree(home, target)
    return target
