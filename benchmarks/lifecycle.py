"""What idle unload gives back and what the next call pays: RSS of this process and of the face
child with the perception models loaded, after their hosts release them, and the reload cost.

Runs the app's own wiring (``Services``: CLIP image/text, MiniLM, the face backend in its child
process on 2+ cores) on the test models (``.cache/test-models``: the random-weight CLIP export has
the trained model's size and speed). Per round: load everything with one call each, measure, release
every model (what the idle timer does), measure, then time the first call after the release against a
steady call. RSS from /proc (Linux).

    /work/venv/bin/python benchmarks/lifecycle.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from companion.app.services import Services  # noqa: E402

TEST_MODELS = REPO / ".cache" / "test-models"
LINKS = {"clip-vit-b-32": "clip-vit-b-32-random", "all-minilm-l6-v2": "minilm",
         "blazeface-full-range": "blazeface-full-range"}


def rss_mb(pid: int | str = "self") -> float:
    """Resident set size in MB (0 when the process is gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    return next(int(line.split()[1]) for line in text.splitlines() if line.startswith("VmRSS:")) / 1024


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return 1000 * (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from skimage import data

    photo = np.ascontiguousarray(data.astronaut())
    work = Path(tempfile.mkdtemp(prefix="companion-lifecycle-"))
    models = work / "models"
    models.mkdir()
    for name, cached in LINKS.items():
        if (TEST_MODELS / cached).exists():
            (models / name).symlink_to(TEST_MODELS / cached, target_is_directory=True)
    os.environ["COMPANION_HOME"], os.environ["COMPANION_MODELS_DIR"] = str(work / "home"), str(models)
    os.environ.setdefault("COMPANION_ALLOW_TEST_MODELS", "1")   # the random-weight CLIP (the app refuses it)
    services = Services.open()
    calls: dict[str, Callable[[], object]] = {
        "faces": lambda: services.face_backend.detect(photo),
        "clip image": lambda: services.image_embedder.embed_images([photo]),
        "clip text": lambda: services.image_embedder.embed_texts(["an astronaut in a white suit"]),
        "minilm": lambda: services.text_embedder.embed(["where did we go in May?"]),
    }
    hosted = [services.face_backend, services.image_embedder, services.text_embedder]
    print(f"cores {os.cpu_count()}, load {os.getloadavg()[0]:.2f}; RSS before any model: {rss_mb():.0f} MB")
    rows: dict[str, list[float]] = {}

    def note(key: str, value: float) -> None:
        rows.setdefault(key, []).append(value)

    for round_ in range(args.rounds):
        first = {name: timed(call) for name, call in calls.items()}       # loads (round 0: + imports)
        steady = {name: min(timed(call) for _ in range(3)) for name, call in calls.items()}
        child = getattr(services.face_backend, "child_pid", None)
        loaded_self, loaded_child = rss_mb(), rss_mb(child) if child else 0.0
        for handle in hosted:
            handle.close()                                  # what the idle timer does
        released_self, released_child = rss_mb(), rss_mb(child) if child else 0.0
        note("app process, loaded MB", loaded_self)
        note("app process, released MB", released_self)
        note("face child, loaded MB", loaded_child)
        note("face child, released MB", released_child)
        if round_ == 0:
            print("first call ever (imports + load), ms: "
                  + ", ".join(f"{name} {ms:.0f}" for name, ms in first.items()))
            continue
        for name in calls:
            note(f"{name}: first call after release ms", first[name])
            note(f"{name}: steady call ms", steady[name])
    print(f"over {args.rounds} rounds (reload rows: rounds 2..{args.rounds}), median:")
    for key, values in rows.items():
        print(f"  {key:42s} {statistics.median(values):8.1f}   ({', '.join(f'{v:.0f}' for v in values)})")
    for name in calls:
        reload, steady = (statistics.median(rows[f"{name}: {k}"]) for k in ("first call after release ms",
                                                                          "steady call ms"))
        print(f"  reload cost {name:12s} {reload - steady:7.0f} ms  ({reload / steady:.1f}x a steady call)")
    services.close()


if __name__ == "__main__":
    main()
