"""Indexing throughput with the real backends (Pillow, dlib, CLIP ONNX, offline geocoder).

Generates a library of 4000x3000 JPEGs with EXIF time and GPS (every third one
with a real face pasted in: skimage's astronaut or matplotlib's Grace Hopper),
indexes it through ``Services.index`` into a fresh temporary profile, and prints
photos/s, a per-stage breakdown and the share of wall time spent outside model
inference (faces + embeddings).

    .venv/bin/python benchmarks/indexing.py --photos 300 [--models-dir .cache/test-models-app]

The CLIP model is the random-weight ViT-B-32 export (same cost as trained
weights); ``--models-dir`` must hold it as ``clip-vit-b-32`` (a temporary
folder linking to ``.cache/test-models/clip-vit-b-32-random`` is made otherwise).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
CITIES = [(48.8566, 2.3522), (35.6895, 139.6917), (40.7128, -74.0060), (-33.8688, 151.2093), (52.52, 13.405)]


def _faces() -> list[np.ndarray]:
    from matplotlib import cbook
    from PIL import Image
    from skimage import data

    with Image.open(cbook.get_sample_data("grace_hopper.jpg")) as image:
        hopper = np.asarray(image.convert("RGB"))
    return [data.astronaut(), hopper]


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    minutes = (value - int(value)) * 60
    return float(int(value)), float(int(minutes)), round((minutes - int(minutes)) * 60, 3)


def make_library(folder: Path, count: int, seed: int = 0) -> int:
    """Write ``count`` 4000x3000 JPEGs; returns how many have a face pasted in."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    faces = [Image.fromarray(f) for f in _faces()]
    folder.mkdir(parents=True, exist_ok=True)
    ys, xs = np.mgrid[0:300, 0:400]
    with_faces = 0
    start = datetime(2022, 1, 1, 9, tzinfo=timezone(timedelta(hours=1)))
    for i in range(count):
        # A smooth random scene with noise: compresses like a photo (a few MB), not like a flat fill.
        base = np.stack([(np.sin(xs / rng.uniform(20, 80) + c) * 60 + rng.uniform(60, 190)) for c in range(3)], -1)
        small = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
        image = Image.fromarray(small).resize((4000, 3000), Image.Resampling.BILINEAR)
        if i % 3 == 0:
            face = faces[(i // 3) % 2].resize((1200, 1200 if (i // 3) % 2 == 0 else 1400))
            image.paste(face, (int(rng.integers(0, 2700)), int(rng.integers(0, 1500))))
            with_faces += 1
        exif = Image.Exif()
        sub = exif.get_ifd(0x8769)
        sub[0x9003] = (start + timedelta(hours=7 * i)).strftime("%Y:%m:%d %H:%M:%S")
        sub[0x9011] = "+01:00"
        lat, lon = CITIES[i % len(CITIES)]
        gps = exif.get_ifd(0x8825)
        gps[1], gps[2], gps[3], gps[4] = ("N" if lat >= 0 else "S"), _dms(lat), ("E" if lon >= 0 else "W"), _dms(lon)
        image.save(folder / f"IMG_{i:05}.jpg", quality=90, exif=exif)
    return with_faces


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=300)
    parser.add_argument("--models-dir", type=Path, help="folder with clip-vit-b-32/ (default: the test export)")
    parser.add_argument("--library", type=Path, help="reuse/generate the photos here (default: a temp folder)")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="companion-bench-"))
    models = args.models_dir
    if models is None:
        models = work / "models"
        models.mkdir()
        (models / "clip-vit-b-32").symlink_to(REPO / ".cache" / "test-models" / "clip-vit-b-32-random")
    os.environ["COMPANION_HOME"] = str(work / "home")
    os.environ["COMPANION_MODELS_DIR"] = str(models)
    library = args.library or work / "library"
    existing = len(list(library.glob("IMG_*.jpg"))) if library.exists() else 0
    generated = time.perf_counter()
    if existing < args.photos:
        faces = make_library(library, args.photos)
        print(f"generated {args.photos} photos ({faces} with a face) in {time.perf_counter() - generated:.1f} s",
              file=sys.stderr)

    from companion.core.indexing import IndexSummary
    from companion.services import Services

    services = Services.open()
    # Load the models before timing: the app keeps them loaded between runs.
    for name in ("photo_reader", "face_backend", "image_embedder", "geocoder"):
        services.optional(name)
    services.image_embedder.embed_images([np.zeros((224, 224, 3), np.uint8)])
    services.face_backend.detect(np.zeros((64, 64, 3), np.uint8))
    services.geocoder.reverse(*CITIES[0])

    timings: dict[str, float] = {}
    targets = sorted(library.glob("IMG_*.jpg"))[: args.photos]
    started = time.perf_counter()
    summary = None
    for item in services.index(targets, timings=timings):
        if isinstance(item, IndexSummary):
            summary = item
    wall = time.perf_counter() - started
    services.close()
    assert summary is not None
    inference = timings.get("faces", 0.0) + timings.get("embeddings", 0.0)
    print(f"photos: {summary.new} new, {len(summary.skipped)} skipped, {summary.faces} faces; cores: {os.cpu_count()}")
    print(f"wall: {wall:.2f} s  ->  {summary.new / wall:.2f} photos/s")
    for stage in ("scan", "hash", "decode", "faces", "embeddings", "geocode", "thumbnails", "database", "clustering"):
        if stage in timings:
            print(f"  {stage:11} {timings[stage]:8.2f} s  {100 * timings[stage] / wall:5.1f} %"
                  f"  {1000 * timings[stage] / max(1, summary.new):7.1f} ms/photo")
    print(f"outside model inference: {100 * (wall - inference) / wall:.1f} % of wall time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
