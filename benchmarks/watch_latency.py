"""How soon a photo dropped into a watched folder is in the store, faces and all (target: 2 s).

The app's own wiring (``Services`` on the test models in ``.cache/test-models``: the random-weight CLIP
export has the trained model's size and speed; dlib's faces), a watched folder, and ``library.watch``
running as the window runs it. Each round moves a new 512x512 photo with a face into the folder (the
way a photo app or a copy finishes a file: written beside it, then renamed in) and times it until its
row and faces are stored. The baseline, in the same run: indexing the same kind of photo directly
(``library.index``), so the ratio is what watching adds (the debounce, the batch) over the indexing itself.

    PYTHONPATH=. .venv/bin/python benchmarks/watch_latency.py [--rounds 5] [--json]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from results import Figure, write  # noqa: E402

TEST_MODELS = REPO / ".cache" / "test-models"
TARGET_S = 2.0


def photo(path: Path, pixels: np.ndarray, seed: int) -> Path:
    """A JPEG of ``pixels`` with a few changed pixels (a new file hash each round)."""
    from PIL import Image

    varied = pixels.copy()
    varied[:4, :4] = seed % 256
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(varied).save(path, quality=90)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="also write the figures to benchmarks/results/")
    args = parser.parse_args()
    from skimage import data

    from companion.app import library
    from companion.app.services import Services

    pixels = np.ascontiguousarray(data.astronaut())
    work = Path(tempfile.mkdtemp(prefix="companion-watch-"))
    models = work / "models"
    models.mkdir()
    clip = TEST_MODELS / "clip-vit-b-32-random"
    if clip.exists():
        (models / "clip-vit-b-32").symlink_to(clip, target_is_directory=True)
    os.environ["COMPANION_HOME"], os.environ["COMPANION_MODELS_DIR"] = str(work / "home"), str(models)
    os.environ["COMPANION_ALLOW_TEST_MODELS"] = "1"
    services = Services.open()
    folder, staging = work / "watched", work / "staging"
    folder.mkdir()
    try:
        library.add_watched_folder(services, folder)
        list(library.index(services, [photo(folder / "first.jpg", pixels, 0)]))   # models loaded, as in the app
        direct: list[float] = []
        for i in range(args.rounds):
            target = photo(staging / f"direct-{i}.jpg", pixels, 100 + i)
            started = time.perf_counter()
            list(library.index(services, [target]))
            direct.append(time.perf_counter() - started)
        watched: list[float] = []
        watcher = library.watch(services, lambda _event: None)
        try:
            for i in range(args.rounds):
                staged = photo(staging / f"drop-{i}.jpg", pixels, 200 + i)
                target = folder / f"drop-{i}.jpg"
                started = time.perf_counter()
                os.replace(staged, target)
                while services.store.photos.by_path(str(target)) is None:
                    if time.perf_counter() - started > 60:
                        raise SystemExit(f"{target.name} was not indexed within 60 s")
                    time.sleep(0.005)
                watched.append(time.perf_counter() - started)
        finally:
            watcher.stop()
    finally:
        services.close()
        shutil.rmtree(work, ignore_errors=True)
    base, seen = statistics.median(direct), statistics.median(watched)
    print(f"cores {os.cpu_count()}, load {os.getloadavg()[0]:.2f}; {args.rounds} rounds each, median (max):")
    print(f"  indexing a photo directly (baseline)   {base:6.2f} s ({max(direct):.2f})")
    print(f"  dropped into the watched folder        {seen:6.2f} s ({max(watched):.2f})  "
          f"= {seen / base:.1f}x the baseline; target < {TARGET_S:g} s")
    if args.json:
        write("watch_latency.py", [
            Figure("photo dropped into a watched folder: in the store, faces and all (max)", round(max(watched), 2),
                   "s", "<", TARGET_S),
            Figure("... against indexing the same photo directly (median ratio)", round(seen / base, 1), "x"),
        ], note=f"{args.rounds} rounds; 512x512 photo with one face; test models.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
