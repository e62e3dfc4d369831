"""Sample data for GUI tests, screenshots and the GUI benchmark: real image files on disk and
records written through the store the way indexing and conversations write them.

Photos are generated with Pillow (a sky, a ground and a sun, distinct per seed)
plus two real portraits shipped by installed packages (scikit-image's
astronaut, matplotlib's Grace Hopper) whose faces give real face crops.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from companion.app import concepts, library
from companion.core.store.memories import NewMemory
from companion.core.store.photos import PhotoRecord
from companion.core.types import Box, Place

T0 = datetime(2024, 6, 1, 15, 30, tzinfo=timezone(timedelta(hours=2)))
PLACES = [Place("Lyon", "Auvergne-Rhone-Alpes", "France", "FR"), Place("Lisbon", "Lisbon", "Portugal", "PT"),
          Place("Kyoto", "Kyoto", "Japan", "JP")]


def scene(path: Path, seed: int, size: tuple[int, int] = (640, 480)) -> Path:
    """Write a simple landscape JPEG that differs per seed."""
    rng = random.Random(seed)
    img = Image.new("RGB", size)
    draw = ImageDraw.Draw(img)
    sky = (rng.randint(60, 140), rng.randint(120, 200), rng.randint(180, 255))
    ground = (rng.randint(30, 120), rng.randint(90, 170), rng.randint(20, 90))
    horizon = rng.randint(size[1] // 2, size[1] * 3 // 4)
    draw.rectangle([0, 0, size[0], horizon], fill=sky)
    draw.rectangle([0, horizon, size[0], size[1]], fill=ground)
    x, y, r = rng.randint(40, size[0] - 40), rng.randint(30, horizon - 30), rng.randint(20, 45)
    draw.ellipse([x - r, y - r, x + r, y + r], fill=(255, 220, 90))
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, quality=85)
    return path


def portraits(folder: Path) -> list[tuple[Path, Box]]:
    """Two real portraits with their face boxes (full-size pixel coordinates)."""
    import matplotlib.cbook
    import skimage.data

    folder.mkdir(parents=True, exist_ok=True)
    astronaut = folder / "astronaut.jpg"
    Image.fromarray(skimage.data.astronaut()).save(astronaut, quality=90)
    hopper = folder / "grace_hopper.jpg"
    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as handle:
        hopper.write_bytes(handle.read())
    return [(astronaut, Box(165, 40, 265, 160)), (hopper, Box(180, 80, 340, 300))]


def record(path: Path, when: datetime, place: Place | None) -> PhotoRecord:
    with Image.open(path) as img:
        width, height = img.size
    return PhotoRecord(path=str(path), content_hash=f"h{abs(hash(str(path)))}", size=path.stat().st_size,
                       mtime=path.stat().st_mtime, taken_at=when, taken_at_source="exif",
                       latitude=None, longitude=None, place=place, width=width, height=height, thumbnail=None)


def seed_photos(services: Any, folder: Path, count: int = 6) -> list[int]:
    """Scenes on disk, recorded in the store with dates and places; returns photo ids."""
    ids = []
    for i in range(count):
        path = scene(folder / f"scene-{i:03d}.jpg", i)
        ids.append(services.store.photos.upsert(record(path, T0 - timedelta(days=9 * i), PLACES[i % 3])))
    return ids


def seed_face_group(services: Any, folder: Path, copies: int = 3) -> tuple[int, list[int]]:
    """Index rescaled copies of two real portraits with the real face model and clustering.

    Returns the first unnamed face group (largest first) and its face ids; the
    two people land in separate groups, as they would for a user.
    """
    for n in range(copies):
        for path, _box in portraits(folder / f"p{n}"):
            with Image.open(path) as img:  # a distinct file per copy, like a re-shot photo
                img.resize((int(img.width * (1 - 0.1 * n)), int(img.height * (1 - 0.1 * n)))).save(path, quality=88)
    for _event in library.index(services, [folder]):
        pass
    group = library.face_groups(services, named=False)[0]
    return group.id, [face.id for face in services.store.faces.in_cluster(group.id)]


MEMORIES = [
    ("semantic", "Anna is my sister; she lives in Lyon and loves hiking.", "Lyon", 3),
    ("episodic", "Went to the Lisbon food market with Anna and Rex, bought custard tarts.", "Lisbon", 20),
    ("procedural", "Goes running every Sunday morning before breakfast.", "", 40),
    ("core", "Prefers short answers; cares about family and dogs.", "", 60),
    ("semantic", "Rex is Anna's dog, a golden retriever who hates thunder.", "", 80),
]


def seed_memories(services: Any) -> list[int]:
    """A handful of memories of every kind; returns their ids."""
    anna = services.store.concepts.by_name("Anna")
    ids = []
    for kind, content, place, days in MEMORIES:
        links = (anna.id,) if anna is not None and "Anna" in content else ()
        ids.append(services.store.memories.add(NewMemory(kind, content, time=T0 - timedelta(days=days),
                                                         place=place, concept_ids=links)))
    return ids


def seed_concepts(services: Any) -> None:
    concepts.add_concept(services, "Anna", "person", "my sister, lives in Lyon, loves hiking")
    concepts.add_concept(services, "Rex", "pet", "Anna's golden retriever")
    concepts.add_concept(services, "Blue bike", "object", "my commuter bike, bought in 2021")
