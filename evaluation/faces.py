"""The real face photos the evaluation and the tests use: shipped by scikit-image and matplotlib.

Two women's faces (scikit-image's astronaut, matplotlib's Grace Hopper) that
dlib tells apart, from packages in the test extras, so nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Which real face each person of the diagnostic suite gets.
DIAGNOSTIC_PEOPLE = {"Eileen": "astronaut", "Grace": "grace_hopper"}


def face_images() -> dict[str, Any]:
    """face source -> PIL image (RGB)."""
    import matplotlib.cbook
    from PIL import Image
    from skimage import data

    hopper = Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB")
    return {"astronaut": Image.fromarray(data.astronaut()), "grace_hopper": hopper}


def sample_faces(folder: Path) -> dict[str, tuple[Path, Path]]:
    """name -> (reference photo, new query photo) written to ``folder``, one pair per diagnostic person."""
    import numpy as np
    from PIL import Image, ImageEnhance

    images = face_images()
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, source in DIAGNOSTIC_PEOPLE.items():
        image = images[source]
        reference, query = folder / f"{name.lower()}_ref.jpg", folder / f"{name.lower()}_new.jpg"
        image.save(reference, quality=92)
        # A different photo of the same face: mirrored, slightly cropped, darker.
        w, h = image.size
        changed = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT).crop((w // 20, h // 20, w - w // 30, h - h // 25))
        ImageEnhance.Brightness(changed).enhance(0.85).save(query, quality=88)
        assert np.asarray(Image.open(query)).size > 0
        out[name] = (reference, query)
    return out
