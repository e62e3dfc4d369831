"""Faces with dlib: HOG (or CNN mmod) detection, 5-point alignment, ResNet 128-d identity vectors.

The weights are the CC0 dlib models shipped by the ``face_recognition_models``
package; they are found through the package's folder (not its ``__init__``,
which needs the deprecated ``pkg_resources``) and loaded on first use.

Coordinates: ``detect(pixels)`` returns boxes in the coordinates of the pixels
it was given. The indexer passes ``DecodedPhoto.pixels`` and divides boxes by
``DecodedPhoto.scale`` to get full-size photo coordinates. Detection itself may
run on a smaller copy (``detect_max_side``) for speed; landmarks and identity
vectors are computed on the pixels given, so a downscaled detection does not
cost embedding quality.

HOG runs on a grayscale copy: dlib's HOG takes the strongest gradient over
the colour channels, and on one channel it costs ~30 % less (86 against 123
CPU-ms at 640 px with one upsample on the 2-core test machine) while finding
the same smallest faces (benchmarks/README.md, "Photo indexing").

Distances: dlib's published rule is "same person when the euclidean distance
of raw descriptors is below 0.6". Raw descriptors are NOT unit length: their
norm is about 1.37-1.47 (measured on the test photos, ``DLIB_TYPICAL_NORM``).
We L2-normalise them so the store can use cosine distance; for vectors of
equal norm n, ``euclid**2 = 2 * n**2 * cosine_distance``, so dlib's 0.6 is a
cosine distance of about 0.6**2 / (2 * 1.43**2) = 0.088
(``DLIB_SAME_PERSON_COSINE``). Measured on the test photos: the same person
under flips, crops, rescaling, brightness, JPEG q30 and rotation stays below
0.016; Eileen Collins vs Grace Hopper is 0.092-0.124 (raw 0.60-0.71). A cosine
threshold of 0.5 would accept anyone.

Another face model (e.g. an ONNX SCRFD + ArcFace pair) is added as another
class with the same ``name``/``dim``/``detect`` surface (the ``FaceBackend``
Protocol); nothing in the core depends on dlib.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

import numpy as np

from companion.core.errors import ModelError, ModelMissingError
from companion.core.types import Box, DetectedFace

DLIB_SAME_PERSON_EUCLIDEAN = 0.6          # dlib's rule, on raw descriptors
DLIB_TYPICAL_NORM = 1.43                   # mean norm of raw descriptors (see module docstring)
# The same rule as a cosine distance between our L2-normalised vectors (about 0.088).
DLIB_SAME_PERSON_COSINE = DLIB_SAME_PERSON_EUCLIDEAN ** 2 / (2 * DLIB_TYPICAL_NORM ** 2)

_FILES = {
    "shape5": "shape_predictor_5_face_landmarks.dat",
    "recognition": "dlib_face_recognition_resnet_model_v1.dat",
    "cnn": "mmod_human_face_detector.dat",
}


def dlib_models_dir() -> Path:
    """The folder of ``face_recognition_models``' weights; ModelMissingError when not installed."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissingError("face model not installed (pip install face-recognition-models)")
    return Path(list(spec.submodule_search_locations)[0]) / "models"


class DlibFaceBackend:
    """``FaceBackend`` over dlib.

    detector: "hog" (fast on CPU) or "cnn" (mmod; more robust to pose, but ~2.5 s for a 512 px image
        on the 2-core test machine against ~0.13 s for HOG: not usable for indexing on CPU).
    upsample: detector upsampling steps; each one lets it find faces half as large, at ~2.5-4x the cost.
    detect_max_side: run detection on a copy at most this many px per side (None = as given).
        The default, 640 px with upsample 1, finds faces down to ~4.5 % of the photo's long side
        (180 px in a 4000 px photo) at ~86 CPU-ms of HOG per photo on the 2-core test machine;
        1000 px with upsample 0 costs ~52 ms but misses faces under ~6 % (240 px of 4000)
        (benchmarks/README.md, "Photo indexing").
    gray: run HOG on a grayscale copy (the default: ~30 % cheaper, the same smallest faces).
    num_jitters: >0 averages descriptors of jittered crops (slower, slightly more accurate).
    min_score: drop detections whose detector score is lower. ``DetectedFace.score`` is the HOG SVM
        margin (or the CNN confidence), not a probability. Real faces in the test photos score 1.1-1.6;
        the mission patch on the astronaut's suit scores 0.12 at upsample 1, hence 0.3.
    """

    name = "dlib-resnet-v1"
    dim = 128

    def __init__(self, models_dir: Path | None = None, detector: str = "hog", upsample: int = 1,
                 detect_max_side: int | None = 640, num_jitters: int = 0, min_score: float = 0.3,
                 gray: bool = True) -> None:
        if detector not in ("hog", "cnn"):
            raise ValueError(f"unknown face detector {detector!r} (hog or cnn)")
        self.models_dir = Path(models_dir) if models_dir else dlib_models_dir()
        self.detector_kind = detector
        self.upsample = int(upsample)
        self.detect_max_side = detect_max_side
        self.num_jitters = int(num_jitters)
        self.min_score = float(min_score)
        self.gray = bool(gray) and detector == "hog"   # the CNN detector wants colour
        needed = ["shape5", "recognition"] + (["cnn"] if detector == "cnn" else [])
        missing = [_FILES[k] for k in needed if not (self.models_dir / _FILES[k]).is_file()]
        if missing:
            raise ModelMissingError(f"face model files missing in {self.models_dir}: {', '.join(missing)}")
        self._lock = threading.Lock()
        # One dlib call at a time: the ResNet keeps per-call state. (dlib's bindings hold the GIL
        # anyway; the lock keeps that true if a build releases it.) Shrinking and grayscale
        # conversion stay outside, so a second indexing thread can prepare the next photo.
        self._busy = threading.Lock()
        self._models: tuple[Any, Any, Any] | None = None

    def _load(self) -> tuple[Any, Any, Any]:
        with self._lock:
            if self._models is None:
                try:
                    import dlib
                except ImportError as error:
                    raise ModelMissingError("dlib is not installed (pip install dlib-bin)") from error
                try:
                    if self.detector_kind == "cnn":
                        detector = dlib.cnn_face_detection_model_v1(str(self.models_dir / _FILES["cnn"]))
                    else:
                        detector = dlib.get_frontal_face_detector()
                    shape = dlib.shape_predictor(str(self.models_dir / _FILES["shape5"]))
                    recognition = dlib.face_recognition_model_v1(str(self.models_dir / _FILES["recognition"]))
                except RuntimeError as error:
                    raise ModelError(f"cannot load the dlib face models: {error}") from error
                self._models = (detector, shape, recognition)
            return self._models

    def detect(self, pixels: np.ndarray) -> list[DetectedFace]:
        """Faces in an RGB uint8 H x W x 3 array; boxes in that array's coordinates, largest first."""
        import dlib

        detector, shape_predictor, recognition = self._load()
        image = _rgb_uint8(pixels)
        small, factor = _shrink(image, self.detect_max_side)
        if self.gray:
            small = _gray(small)
        with self._busy:
            return self._describe(dlib, image, small, factor, detector, shape_predictor, recognition)

    def _describe(self, dlib: Any, image: np.ndarray, small: np.ndarray, factor: float, detector: Any,
                  shape_predictor: Any, recognition: Any) -> list[DetectedFace]:
        height, width = image.shape[:2]
        rectangles, scores = self._find(detector, small)
        found: list[tuple[Box, Any, float]] = []
        for rect, score in zip(rectangles, scores):
            if score < self.min_score:
                continue
            left, top = round(rect.left() / factor), round(rect.top() / factor)
            right, bottom = round((rect.right() + 1) / factor), round((rect.bottom() + 1) / factor)
            box = Box(max(0, left), max(0, top), min(width, right), min(height, bottom))   # clipped to the image
            if box.area == 0:
                continue
            # Landmarks use the unclipped rectangle: a face cut by the border keeps its true scale.
            shape = shape_predictor(image, dlib.rectangle(left, top, right - 1, bottom - 1))
            found.append((box, shape, float(score)))
        if not found:
            return []
        shapes = dlib.full_object_detections()
        for _, shape, _ in found:
            shapes.append(shape)
        # One call for all faces of the photo (dlib batches the aligned 150x150 chips).
        descriptors = recognition.compute_face_descriptor(image, shapes, self.num_jitters)
        faces = [DetectedFace(box=box, embedding=_unit(np.asarray(vector, dtype=np.float32)), score=score)
                 for (box, _, score), vector in zip(found, descriptors)]
        return sorted(faces, key=lambda face: face.box.area, reverse=True)

    def _find(self, detector: Any, image: np.ndarray) -> tuple[list[Any], list[float]]:
        if self.detector_kind == "cnn":
            detections = detector(image, self.upsample)
            return [d.rect for d in detections], [float(d.confidence) for d in detections]
        # HOG: run() also gives the SVM margin of each detection (>= 0 at the default threshold).
        rectangles, scores, _ = detector.run(image, self.upsample, 0.0)
        return list(rectangles), [float(s) for s in scores]


def _rgb_uint8(pixels: np.ndarray) -> np.ndarray:
    array = np.asarray(pixels)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"expected RGB uint8 H x W x 3 pixels, got {array.dtype} {array.shape}")
    return np.ascontiguousarray(array)   # dlib needs C-contiguous memory (flipped views are not)


def _shrink(image: np.ndarray, max_side: int | None) -> tuple[np.ndarray, float]:
    """A copy at most ``max_side`` per side, and the factor small/original."""
    longest = max(image.shape[:2])
    if not max_side or longest <= max_side:
        return image, 1.0
    from PIL import Image

    factor = max_side / longest
    size = (max(1, round(image.shape[1] * factor)), max(1, round(image.shape[0] * factor)))
    small = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0))
    return small, size[0] / image.shape[1]


def _gray(image: np.ndarray) -> np.ndarray:
    """Luma (ITU-R 601, as Pillow's "L"), uint8 H x W: HOG on one channel instead of three."""
    from PIL import Image

    return np.asarray(Image.fromarray(image).convert("L"))


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector
