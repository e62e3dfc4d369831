"""The face backend in a child process: the same faces as in-process, and it survives its child dying."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from companion.core.errors import ModelError
from companion.core.protocols import FaceBackend

pytestmark = pytest.mark.models

pytest.importorskip("dlib")
from companion.backends.face_process import FaceProcess  # noqa: E402
from companion.backends.faces import DlibFaceBackend  # noqa: E402


@pytest.fixture(scope="module")
def child():
    backend = FaceProcess()
    yield backend
    backend.close()


def test_finds_the_same_faces_as_in_process(child, astronaut):
    assert isinstance(child, FaceBackend)
    (here,), (there,) = DlibFaceBackend().detect(astronaut), child.detect(astronaut)
    assert there.box == here.box
    assert float(here.embedding @ there.embedding) > 0.9999
    assert child.child_pid not in (None, os.getpid())


def test_bad_pixels_raise_the_same_error_as_in_process(child):
    with pytest.raises(ValueError, match="RGB uint8"):
        child.detect(np.zeros((20, 20), dtype=np.uint8))


def test_a_killed_child_is_replaced_and_the_photo_still_analysed(child, astronaut):
    child.detect(astronaut)
    first = child.child_pid
    os.kill(first, signal.SIGKILL)
    assert len(child.detect(astronaut)) == 1
    assert child.child_pid != first


def test_a_child_that_keeps_dying_is_a_model_error_not_a_hang(child, astronaut, monkeypatch):
    spawn = FaceProcess._spawn

    def doomed(self):
        child = spawn(self)
        child.process.kill()                        # dies before it can answer, every time
        return child

    child.close()
    monkeypatch.setattr(FaceProcess, "_spawn", doomed)
    with pytest.raises(ModelError, match="stopped twice"):
        child.detect(astronaut)
    monkeypatch.undo()
    assert len(child.detect(astronaut)) == 1       # and the next call starts afresh


def test_two_threads_can_ask_at_once_and_each_gets_its_own_answer(child, astronaut):
    # The indexer's two analysis threads send their photos without waiting for each other.
    from concurrent.futures import ThreadPoolExecutor

    blank = np.zeros((300, 300, 3), dtype=np.uint8)
    photos = [astronaut, blank] * 4
    with ThreadPoolExecutor(2) as pool:
        found = list(pool.map(child.detect, photos))
    assert [len(faces) for faces in found] == [1, 0] * 4


def test_close_stops_the_child(astronaut):
    backend = FaceProcess()
    backend.detect(astronaut)
    pid = backend.child_pid
    backend.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert len(backend.detect(astronaut)) == 1      # used again: a new child
    backend.close()


def test_the_factory_runs_faces_in_a_child_only_with_a_second_core(tmp_path, monkeypatch):
    from companion.backends.factory import BackendFactory
    from companion.config import Settings
    from companion.paths import resolve

    factory = BackendFactory(resolve(tmp_path), Settings())
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    faces = factory.face_backend()
    assert isinstance(faces.lifecycle.peek(), FaceProcess)
    faces.lifecycle.close()
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    faces = factory.face_backend()
    assert isinstance(faces.lifecycle.peek(), DlibFaceBackend) and faces.child_pid is None
    faces.lifecycle.close()


def test_closing_the_services_stops_the_face_child(tmp_path, monkeypatch, astronaut):
    from companion.app.services import Services

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    services = Services.open(tmp_path)
    assert len(services.face_backend.detect(astronaut)) == 1
    pid = services.face_backend.child_pid
    services.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
