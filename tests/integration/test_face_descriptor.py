"""dlib's identity network on onnxruntime gives dlib's own vectors (companion/backends/face_descriptor.py)."""

from __future__ import annotations

import pytest
from conftest_perception import variants

from companion.backends.face_descriptor import OnnxFaceDescriptor, read_layers
from companion.backends.faces import DlibFaceBackend, dlib_models_dir
from companion.core.errors import ModelError

pytestmark = pytest.mark.models

DAT = "dlib_face_recognition_resnet_model_v1.dat"


def test_onnx_vectors_equal_dlibs_on_real_faces(tmp_path, astronaut, grace_hopper):
    ours = DlibFaceBackend(detector="hog", cache_dir=tmp_path)
    theirs = DlibFaceBackend(detector="hog", descriptor="dlib")
    photos = [astronaut, grace_hopper, *variants(astronaut).values(), *variants(grace_hopper).values()]
    for pixels in photos:
        a, b = ours.detect(pixels), theirs.detect(pixels)
        assert len(a) == len(b) >= 1
        for x, y in zip(a, b, strict=True):
            assert x.box == y.box and float(x.embedding @ y.embedding) > 0.99999
    assert ours.descriptor_runtime == "onnxruntime" and theirs.descriptor_runtime == "dlib"


def test_the_model_is_converted_once_into_the_cache(tmp_path, astronaut):
    dat = dlib_models_dir() / DAT
    first = OnnxFaceDescriptor(dat, tmp_path)
    stamp = first.path.stat().st_mtime_ns
    second = OnnxFaceDescriptor(dat, tmp_path)
    assert second.path == first.path and second.path.stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [first.path.name]        # no temporary file left


def test_a_file_that_is_not_the_network_falls_back_to_dlib(tmp_path, astronaut):
    with pytest.raises(ModelError, match="not dlib's face recognition ResNet"):
        read_layers(dlib_models_dir() / "shape_predictor_5_face_landmarks.dat")
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would go")
    backend = DlibFaceBackend(detector="hog", cache_dir=blocked)
    assert len(backend.detect(astronaut)) == 1 and backend.descriptor_runtime == "dlib"
    with pytest.raises(OSError):
        DlibFaceBackend(detector="hog", cache_dir=blocked, descriptor="onnx").detect(astronaut)
