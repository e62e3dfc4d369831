"""Idle unload with the real perception models: CLIP's ONNX sessions are freed, the face child ends,
and the next call loads them again with the same results."""

from __future__ import annotations

import gc
import os
import time
import weakref
from pathlib import Path

import numpy as np
import pytest

from companion.backends.clip_onnx import OnnxClipEmbedder
from companion.backends.lifecycle import Lifecycle
from companion.backends.model_kinds import ImageEmbedderModel

pytestmark = pytest.mark.models


def rss_mb() -> float:
    """This process's resident memory (Linux; the test skips elsewhere)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads RSS from /proc")
def test_idle_clip_frees_its_sessions_and_embeds_the_same_after_reloading(clip_dir, astronaut) -> None:
    clock = Clock()
    host: Lifecycle[Path, OnnxClipEmbedder] = Lifecycle(lambda folder: OnnxClipEmbedder(folder, quantized=False),
                                                        lambda: 600, label="image_embedder", clock=clock,
                                                        idle_timer=False)
    embedder = ImageEmbedderModel(host, clip_dir)
    before_images, before_texts = embedder.embed_images([astronaut]), embedder.embed_texts(["an astronaut"])
    loaded = host.peek()
    assert loaded is not None
    sessions = [weakref.ref(loaded._image), weakref.ref(loaded._text)]
    del loaded
    clock.now += 601
    resident = rss_mb()
    assert host.unload_if_idle() and not embedder.loaded
    gc.collect()
    assert [ref() for ref in sessions] == [None, None]          # nothing holds the ONNX sessions any more
    # And the memory goes back to the system: ~700 MB here (~100 MB without malloc_trim, glibc keeps the rest).
    weights_mb = sum((clip_dir / name).stat().st_size for name in ("image.onnx", "text.onnx")) / 2 ** 20
    assert resident - rss_mb() > weights_mb / 2
    assert np.allclose(embedder.embed_images([astronaut]), before_images, atol=1e-6)
    assert np.allclose(embedder.embed_texts(["an astronaut"]), before_texts, atol=1e-6)
    assert host.loads == 2


def test_an_idle_face_child_is_stopped_and_the_next_photo_starts_a_new_one(tmp_path, monkeypatch, astronaut) -> None:
    pytest.importorskip("dlib")
    from companion.app import settings as app_settings
    from companion.app.services import Services

    monkeypatch.setattr(os, "cpu_count", lambda: 2)                  # faces in a child process
    services = Services.open(tmp_path)
    try:
        faces = services.face_backend
        assert len(faces.detect(astronaut)) == 1
        pid = faces.child_pid                                        # type: ignore[attr-defined]
        assert pid not in (None, os.getpid()) and services.loaded_models()["face_backend"] is True
        app_settings.update(services, idle_unload_seconds=1)         # as the settings dialog does: applies now
        deadline = time.monotonic() + 30
        while services.loaded_models()["face_backend"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert faces.child_pid is None                               # type: ignore[attr-defined]
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)                                          # the child process is gone
        app_settings.update(services, idle_unload_seconds=600)
        assert len(faces.detect(astronaut)) == 1
        assert faces.child_pid not in (None, pid)                    # type: ignore[attr-defined]
    finally:
        services.close()
