"""Builds a generated life into a real profile: concepts, imported conversations, library photos, query photos.

``annotated`` perception writes library photos as store rows (EXIF-like time,
GPS reverse-geocoded by the real offline gazetteer) with the ground-truth
sightings corrupted at the configured miss / false-match rates. ``real``
perception writes JPEGs of the real face photos that packages ship (scikit-image's
astronaut, matplotlib's Grace Hopper), augmented and tagged with EXIF time and
GPS, indexes them with the real face model, and perceives query photos with it.
Only people with a real face photo can be perceived for real; pets, objects and
the other people keep annotated presence (there are no real photos of them).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from companion.app import chat, concepts, library, reminders
from companion.core.store.photos import PhotoRecord
from evaluation.faces import face_images
from evaluation.life import CITIES, Life
from evaluation.simulate import Seen, annotate
from evaluation.systems import PhotoInput
from evaluation.tasks import Item

FACE_SOURCES = ("astronaut", "grace_hopper")   # the real faces shipped by installed packages (faces.py)


@dataclass
class World:
    photos: dict[str, PhotoInput] = field(default_factory=dict)
    with_faces: dict[str, str] = field(default_factory=dict)   # person -> face source (real mode)
    setup: dict[str, float] = field(default_factory=dict)


def augment(image: Any, rng: random.Random) -> Any:
    """Another photo of the same face: mirrored or not, cropped, brightness changed."""
    from PIL import Image, ImageEnhance

    w, h = image.size
    if rng.random() < 0.5:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    dx, dy = int(w * rng.uniform(0, 0.06)), int(h * rng.uniform(0, 0.06))
    image = image.crop((dx, dy, w - int(w * rng.uniform(0, 0.05)), h - int(h * rng.uniform(0, 0.05))))
    return ImageEnhance.Brightness(image).enhance(rng.uniform(0.8, 1.1))


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    return (float(degrees), float(minutes), round((value - degrees - minutes / 60) * 3600, 2))


def write_photo(path: Path, faces: list[Any], when: Any, city: str | None) -> None:
    """A JPEG of the given faces side by side, with EXIF DateTimeOriginal and (optionally) GPS."""
    from PIL import Image

    height = 400
    tiles = [f.resize((int(f.width * height / f.height), height)) for f in faces]
    canvas = Image.new("RGB", (sum(t.width for t in tiles) or height, height), (200, 200, 200))
    x = 0
    for tile in tiles:
        canvas.paste(tile, (x, 0))
        x += tile.width
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = when.strftime("%Y:%m:%d %H:%M:%S")
    if city is not None:
        lat, lon = CITIES[city]
        gps = exif.get_ifd(0x8825)
        gps[1], gps[2], gps[3], gps[4] = ("N" if lat >= 0 else "S"), _dms(lat), ("E" if lon >= 0 else "W"), _dms(lon)
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path, exif=exif, quality=88)


def populate(services: Any, life: Life, scratch: Path, mode: str, miss: float, false_match: float,
             seed: int) -> World:
    """Concepts, history and library of ``life`` in ``services``' store."""
    import time

    world = World()
    rng = random.Random(f"world:{seed}")
    faces = face_images() if mode == "real" else {}
    people = [c for c in life.concepts if c.category == "person"]
    # Only the first people get a real face: there are two real face photos (FACE_SOURCES).
    world.with_faces = {p.name: s for p, s in zip(people, FACE_SOURCES, strict=False)} if mode == "real" else {}
    started = time.perf_counter()
    for concept in life.concepts:
        images = []
        if concept.name in world.with_faces:
            reference = scratch / "refs" / f"{concept.name}.jpg"
            reference.parent.mkdir(parents=True, exist_ok=True)
            faces[world.with_faces[concept.name]].save(reference, quality=92)
            images = [reference]
        concepts.add_concept(services, concept.name, concept.category, concept.info, images=images)
    world.setup["concepts_s"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    jsonl = scratch / "history.jsonl"
    jsonl.write_text("".join(json.dumps({"time": t.time.isoformat(), "role": "user", "text": t.text}) + "\n"
                             for t in life.turns), encoding="utf-8")
    chat.import_chat(services, jsonl)
    for waiting in reminders.waiting(services):     # imported reminders wait for a yes: the user gives it
        reminders.confirm(services, waiting.id)
    world.setup["import_s"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    categories = {c.name: c.category for c in life.concepts}
    known = [c.name for c in life.concepts]
    library_dir = scratch / "library"
    real_files = []
    for photo in life.photos:
        path = library_dir / f"{photo.name}.jpg"
        real = [n for n in photo.present if n in world.with_faces]
        if real:
            write_photo(path, [augment(faces[world.with_faces[n]], rng) for n in real], photo.time, photo.city)
            real_files.append(path)
        rest = tuple(n for n in photo.present if n not in world.with_faces)
        if rest:
            seen = annotate(photo.name, rest, 0, [k for k in known if k not in world.with_faces], categories,
                            miss, false_match, seed)
            _annotated_photo(services, path, photo, seen.present)
    if real_files:
        for _ in library.index(services, real_files):
            pass
    world.setup["library_s"] = round(time.perf_counter() - started, 2)
    return world


def _annotated_photo(services: Any, path: Path, photo: Any, present: tuple[str, ...]) -> None:
    """A library photo row plus its sightings, as indexing and recognition would write them."""
    store = services.store
    lat, lon = CITIES[photo.city]
    place = services.geocoder.reverse(lat, lon)
    existing = store.photos.by_path(str(path))
    photo_id = existing.id if existing else store.photos.upsert(PhotoRecord(
        str(path), f"eval-{photo.name}", 0, 0.0, photo.time, "exif", lat, lon, place, 4000, 3000, None))
    label = place.label() if place else photo.city
    for name in present:
        concept = store.concepts.by_name(name)
        source = "face" if concept.category == "person" else "clip"
        store.observations.add(concept.id, time=photo.time, place=label, source=source, kind="sighting",
                               confidence=0.9, photo_id=photo_id)


def query_inputs(services: Any, deps: Any, life: Life, items: list[Item], world: World, scratch: Path, mode: str,
                 miss: float, false_match: float, seed: int) -> dict[str, PhotoInput]:
    """Every query photo as the systems receive it; perceived once, shared by all baselines."""
    from companion.core.answer.perceive import perceive

    rng = random.Random(f"queries:{seed}")
    faces = face_images() if mode == "real" else {}
    categories = {c.name: c.category for c in life.concepts}
    looks = {c.name: c.looks for c in life.concepts}
    known = [c.name for c in life.concepts]
    out: dict[str, PhotoInput] = {}
    for item in items:
        q = item.photo
        if q is None or q.name in out:
            continue
        real = [n for n in q.present if n in world.with_faces]
        rest = tuple(n for n in q.present if n not in world.with_faces)
        seen = annotate(q.name, rest, len(q.strangers), [k for k in known if k not in world.with_faces], categories,
                        miss, false_match, seed)
        path = None
        ranked: list[str] = []
        if real:
            path = scratch / "queries" / f"{q.name}.jpg"
            write_photo(path, [augment(faces[world.with_faces[n]], rng) for n in real], q.time, None)
            perceived = perceive(deps, path)
            names = tuple(r.name for r in perceived.recognized)
            seen = Seen(names + seen.present, perceived.unknown_faces + seen.unknown_faces)
            ranked = _face_ranking(services, deps, path)
        # RAP's retriever: what perception found, then the nearest others: always K cards, never a threshold.
        others = [n for n in known if n not in seen.present and n not in ranked]
        rng.shuffle(others)
        same_kind = [n for n in others if looks[n] in [looks.get(p, "a person") for p in q.present] or
                     (q.strangers and categories[n] == "person")]
        ranked = list(dict.fromkeys([*seen.present, *ranked, *same_kind, *others]))
        visible = tuple(looks[n] for n in q.present) + ("a person",) * len(q.strangers)
        out[q.name] = PhotoInput(str(path) if path else None, q.time, seen, visible, tuple(ranked))
    return out


def _face_ranking(services: Any, deps: Any, path: Path) -> list[str]:
    """Person concepts by face distance to the photo's faces, nearest first, with no threshold."""
    photo = deps.photo_reader.read(path)
    best: dict[int, float] = {}
    for face in deps.face_backend.detect(photo.pixels):
        for concept_id, distance in services.store.concepts.match("face", face.embedding, 4.0):
            best[concept_id] = min(distance, best.get(concept_id, 9.0))
    return [services.store.concepts.get(cid).name for cid in sorted(best, key=best.__getitem__)]
