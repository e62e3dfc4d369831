"""Pixel and box helpers shared by the face detectors: input checks, shrinking, box alignment, NMS.

Alignment: dlib's 5-point landmark model was trained on the boxes of dlib's own HOG
detector (a square from the eyebrows to below the lips). Other detectors draw their
boxes elsewhere (YuNet/libfacedetection: taller, from the forehead; BlazeFace: a square
centred higher), so each detector's box is mapped to the HOG box it would have been,
with a scale and a shift measured on real faces (``benchmarks/face_recall.py
--calibrate`` prints them). Without this the landmarks start from the wrong place and
the identity vectors of one person drift apart between detectors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from companion.core.types import Box, FaceLocation


def rgb_uint8(pixels: np.ndarray) -> np.ndarray:
    """C-contiguous RGB uint8 H x W x 3 (flipped views are copied); ValueError for anything else."""
    array = np.asarray(pixels)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"expected RGB uint8 H x W x 3 pixels, got {array.dtype} {array.shape}")
    return np.ascontiguousarray(array)


def shrink(image: np.ndarray, max_side: int | None) -> tuple[np.ndarray, float]:
    """A copy at most ``max_side`` per side, and the factor small/original."""
    longest = max(image.shape[:2])
    if not max_side or longest <= max_side:
        return image, 1.0
    from PIL import Image

    factor = max_side / longest
    size = (max(1, round(image.shape[1] * factor)), max(1, round(image.shape[0] * factor)))
    small = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0))
    return small, size[0] / image.shape[1]


@dataclass(frozen=True)
class Alignment:
    """Maps a detector's box to dlib's HOG box: a square of ``scale`` x the detector's box width,
    centred ``dx``/``dy`` detector-box widths away from the detector box's centre."""

    scale: float = 1.0
    dx: float = 0.0
    dy: float = 0.0

    def apply(self, left: float, top: float, right: float, bottom: float, score: float,
              factor: float = 1.0) -> FaceLocation:
        """The aligned box for a detection in pixels shrunk by ``factor`` (small/original)."""
        width = (right - left) / factor
        centre_x = (left + right) / 2 / factor + self.dx * width
        centre_y = (top + bottom) / 2 / factor + self.dy * width
        half = self.scale * width / 2
        return FaceLocation(Box(round(centre_x - half), round(centre_y - half),
                                round(centre_x + half), round(centre_y + half)), float(score))


def overlaps(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Of one box (4,) against many (n, 4): intersection over union, and intersection over the
    smaller box's area (1 when one box lies inside the other). Boxes as left, top, right, bottom."""
    left, top = np.maximum(a[0], b[:, 0]), np.maximum(a[1], b[:, 1])
    right, bottom = np.minimum(a[2], b[:, 2]), np.minimum(a[3], b[:, 3])
    inter = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
    area_a, area_b = (a[2] - a[0]) * (a[3] - a[1]), (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a + area_b - inter, 1e-9), inter / np.maximum(np.minimum(area_a, area_b), 1e-9)


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of one box (4,) against many (n, 4)."""
    return overlaps(a, b)[0]


def non_maximum_suppression(boxes: np.ndarray, scores: np.ndarray, threshold: float,
                            containment: float = 1.0) -> list[int]:
    """Indices of the boxes kept, best first: each suppresses the lower-scored ones overlapping it
    by more than ``threshold`` IoU, or lying more than ``containment`` inside it (or it inside
    them): a detector run on tiles sees a face cut by a tile's edge as a smaller, partial face."""
    order = list(np.argsort(-scores, kind="stable"))
    keep: list[int] = []
    while order:
        best, order = order[0], order[1:]
        keep.append(int(best))
        if order:
            union, smaller = overlaps(boxes[best], boxes[order])
            order = [i for i, u, c in zip(order, union, smaller, strict=True) if u <= threshold and c <= containment]
    return keep
