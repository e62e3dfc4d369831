"""Does a CLIP model know anything? Random weights embed consistently but mean nothing.

The test suite's CLIP is exported with random weights (``scripts/export_clip.py`` without
``--pretrained``): same speed, consistent vectors, no semantics. Installed as a user's model it
made every photo "contain" two to seven pets and things. Two independent signs:

- **metadata**: ``export_clip.py`` writes ``"weights": "random"`` into ``preprocess.json`` (and
  exports made before that carry ``"pretrained": ""`` next to ``open_clip_version``);
- **behaviour** (any model, whatever its files say): eight plain colour squares and eight
  sentences naming the colours. A trained CLIP puts each square nearest its colour's sentence
  well above chance, and its image-text cosines sit around 0.2-0.3 (CLIP's "modality gap"); the
  random export names 1 of 8 (chance) and its image-text cosines are within 0.035 of zero (mean
  |cos| 0.014). A model is called random only when both hold: at most 2 of 8 right AND mean
  |cos| < 0.05, so a real model that is poor at colours is not refused.

The behaviour check costs one image and one text batch (about a second, mostly loading the
text encoder); its verdict is kept per model folder and file stamps in the cache folder.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

RANDOM = "random weights (test model)"
ALLOW_ENV = "COMPANION_ALLOW_TEST_MODELS"
CACHE_NAME = "clip-checks.json"
COLOURS = {"red": (220, 30, 30), "green": (30, 180, 40), "blue": (30, 60, 220), "yellow": (240, 220, 30),
           "black": (5, 5, 5), "white": (250, 250, 250), "orange": (250, 140, 20), "purple": (130, 40, 170)}
MAX_RIGHT = 2          # of 8: chance is 1
MAX_MEAN_COSINE = 0.05


@dataclass(frozen=True)
class WeightsCheck:
    trained: bool
    how: str        # "metadata" | "behaviour"
    detail: str

    @property
    def label(self) -> str:
        return "trained weights" if self.trained else RANDOM


def test_models_allowed() -> bool:
    """Test models are accepted only where ``COMPANION_ALLOW_TEST_MODELS=1`` (the test suite, benchmarks)."""
    return os.environ.get(ALLOW_ENV) == "1"


def by_metadata(config: dict[str, Any]) -> WeightsCheck | None:
    """Random by the exporter's own word, or None (the metadata does not say: look at the behaviour)."""
    if config.get("weights") == "random":
        return WeightsCheck(False, "metadata", "exported without --pretrained")
    if "open_clip_version" in config and not config.get("pretrained"):
        return WeightsCheck(False, "metadata", "exported without --pretrained")
    return None


def by_behaviour(embedder: Any) -> WeightsCheck:
    """Name eight colour squares by text (see the module docstring)."""
    images = [np.full((224, 224, 3), rgb, dtype=np.uint8) for rgb in COLOURS.values()]
    texts = [f"a photo of something {name}" for name in COLOURS]
    similarity = np.asarray(embedder.embed_images(images)) @ np.asarray(embedder.embed_texts(texts)).T
    right = int((similarity.argmax(axis=1) == np.arange(len(COLOURS))).sum())
    mean_cos = float(np.abs(similarity).mean())
    detail = f"named {right} of {len(COLOURS)} colours, mean image-text |cosine| {mean_cos:.3f}"
    return WeightsCheck(not (right <= MAX_RIGHT and mean_cos < MAX_MEAN_COSINE), "behaviour", detail)


def check(embedder: Any, cache_dir: Path | None = None) -> WeightsCheck:
    """The embedder's verdict: its metadata when that says random, else its behaviour (cached by file stamps)."""
    found = by_metadata(getattr(embedder, "config", {}))
    if found is not None:
        return found
    stamp = _stamp(embedder)
    cache = Path(cache_dir) / CACHE_NAME if cache_dir is not None else None
    known = _read(cache).get(str(Path(embedder.model_dir).resolve())) if cache is not None else None
    if known is not None and known.get("stamp") == stamp:
        return WeightsCheck(bool(known["trained"]), str(known["how"]), str(known["detail"]))
    verdict = by_behaviour(embedder)
    if cache is not None:
        data = _read(cache)
        data[str(Path(embedder.model_dir).resolve())] = {"stamp": stamp, **asdict(verdict)}
        _write(cache, data)
    return verdict


def _stamp(embedder: Any) -> list[list[float]]:
    files = getattr(embedder, "files", {})
    stats = [Path(files[k]).stat() for k in ("image", "text") if k in files]
    return [[s.st_size, s.st_mtime] for s in stats]


def _read(path: Path | None) -> dict[str, Any]:
    try:
        return dict(json.loads(path.read_text(encoding="utf-8"))) if path is not None else {}
    except (OSError, ValueError):
        return {}     # a missing or damaged cache only costs a new check


def _write(path: Path, data: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass          # read-only cache: check again next time
