"""Every model's lifecycle (backends/lifecycle.py, model_kinds.py): loaded on first use, released when idle,
never mid-call.

A fake clock drives the idle check (``unload_if_idle``), so nothing here waits for a timeout;
one test lets the host's own timer thread do it, with a deadline, not a timed assertion.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np
import pytest

from companion.backends.lifecycle import Lifecycle
from companion.backends.model_kinds import FaceModel, TextEmbedderModel
from companion.core.protocols import FaceBackend, TextEmbedder
from companion.core.types import Box, DetectedFace


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeEmbedder:
    """A text embedder whose vectors depend only on the text; records whether it was closed."""

    name, dim = "fake-embedder", 4

    def __init__(self) -> None:
        self.closed = False
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        assert not self.closed, "called after it was released"
        self.entered.set()
        self.release.wait(10)
        return np.asarray([[len(t), t.count("a"), 1.0, 0.0] for t in texts], dtype=np.float32)

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def built() -> list[FakeEmbedder]:
    return []


def make_host(built: list[FakeEmbedder], idle: float = 600,
              clock: Clock | None = None) -> Lifecycle[str, TextEmbedder]:
    def loader(folder: str) -> FakeEmbedder:
        built.append(FakeEmbedder())
        return built[-1]

    # With a fake clock the test calls unload_if_idle itself; a real clock gets the timer thread.
    return Lifecycle(loader, lambda: idle, clock=clock or time.monotonic, label="text_embedder",
                     idle_timer=clock is None)


def grow(built: list[FakeEmbedder]) -> FakeEmbedder:
    built.append(FakeEmbedder())
    return built[-1]


def test_a_backend_loads_on_first_use_and_is_released_after_the_idle_time(built) -> None:
    clock = Clock()
    host = make_host(built, idle=600, clock=clock)
    embedder = TextEmbedderModel(host, "minilm")     # reads name/dim: builds it once
    assert isinstance(embedder, TextEmbedder) and (embedder.name, embedder.dim) == ("fake-embedder", 4)
    embedder.embed(["a cat"])
    assert embedder.loaded and host.loads == 1
    clock.now += 599
    assert not host.unload_if_idle() and embedder.loaded
    clock.now += 2
    assert host.unload_if_idle()
    assert not embedder.loaded and built[0].closed             # released: close() ran, the host holds nothing
    assert host.peek() is None


def test_a_call_in_flight_is_never_released_and_the_idle_time_counts_from_its_end(built) -> None:
    clock = Clock()
    host = make_host(built, idle=600, clock=clock)
    embedder = TextEmbedderModel(host, "minilm")
    built[0].release.clear()                                    # the next call blocks until released
    worker = threading.Thread(target=embedder.embed, args=(["a long index run"],))
    worker.start()
    assert built[0].entered.wait(10)
    clock.now += 10_000                                         # far past the idle time, mid-call
    assert not host.unload_if_idle() and embedder.loaded
    built[0].release.set()
    worker.join(10)
    assert not host.unload_if_idle()                            # idle counts from the call's end
    clock.now += 600
    assert host.unload_if_idle() and built[0].closed


def test_the_next_call_reloads_transparently_with_the_same_results(built) -> None:
    clock = Clock()
    host = make_host(built, idle=600, clock=clock)
    embedder = TextEmbedderModel(host, "minilm")
    before = embedder.embed(["a cat", "banana"])
    clock.now += 601
    assert host.unload_if_idle()
    after = embedder.embed(["a cat", "banana"])
    assert np.array_equal(before, after)
    assert host.loads == 2 and len(built) == 2 and not built[1].closed and embedder.loaded


def test_zero_idle_seconds_means_never_and_a_changed_setting_applies(built) -> None:
    clock, setting = Clock(), {"idle": 0.0}
    host = Lifecycle(lambda folder: grow(built), lambda: setting["idle"], clock=clock, label="text_embedder",
                     idle_timer=False)
    TextEmbedderModel(host, "minilm").embed(["x"])
    clock.now += 10 ** 9
    assert not host.unload_if_idle()                            # 0 = never (the settings dialog's "never")
    setting["idle"] = 60
    assert host.unload_if_idle()


def test_close_releases_now_and_a_later_call_loads_again(built) -> None:
    host = make_host(built)
    embedder = TextEmbedderModel(host, "minilm")
    embedder.embed(["x"])
    embedder.close()                                            # Services.close / reset_backend
    assert built[0].closed and not embedder.loaded
    assert embedder.embed(["x"]).shape == (1, 4) and host.loads == 2


def test_the_hosts_own_timer_releases_an_idle_backend(built) -> None:
    host = make_host(built, idle=0.05)
    embedder = TextEmbedderModel(host, "minilm")
    embedder.embed(["x"])
    deadline = time.monotonic() + 10
    while embedder.loaded and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not embedder.loaded and built[-1].closed
    assert embedder.embed(["x"]).shape == (1, 4)
    host.close()


def test_concurrent_calls_share_one_load(built) -> None:
    host = make_host(built)
    embedder = TextEmbedderModel(host, "minilm")
    results: list[np.ndarray] = []
    threads = [threading.Thread(target=lambda: results.append(embedder.embed(["a cat"]))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(results) == 8 and host.loads == 1 and len(built) == 1


class FakeFaces:
    name, dim, detector_name = "fake-faces", 128, "hog"

    def __init__(self, pid: int) -> None:
        self.child_pid: int | None = pid

    def detect(self, pixels: np.ndarray) -> list[DetectedFace]:
        return [DetectedFace(Box(0, 0, 2, 2), np.ones(128, np.float32), 1.0)]

    def child_cpu_seconds(self) -> float:
        return 0.5

    def close(self) -> None:
        self.child_pid = None


def test_the_face_handle_reports_the_running_child_without_starting_one() -> None:
    clock, pids = Clock(), iter(range(100, 200))
    host: Lifecycle[str, FakeFaces] = Lifecycle(lambda setup: FakeFaces(next(pids)), lambda: 600, clock=clock,
                                                label="faces", idle_timer=False)
    faces = FaceModel(host, "hog")
    assert isinstance(faces, FaceBackend) and faces.detector_name == "hog"
    assert len(faces.detect(np.zeros((4, 4, 3), np.uint8))) == 1
    first = faces.child_pid
    assert first == 100 and faces.child_cpu_seconds() == 0.5
    clock.now += 601
    assert host.unload_if_idle() and faces.child_pid is None     # reading it did not start one
    faces.detect(np.zeros((4, 4, 3), np.uint8))
    assert faces.child_pid not in (None, first)


def test_services_host_every_perception_model_and_doctor_says_which_are_loaded(tmp_path, monkeypatch) -> None:
    from companion.app.services import Services
    from companion.backends import text_embed

    monkeypatch.setattr(text_embed, "OnnxTextEmbedder", lambda folder: FakeEmbedder())
    services = Services.open(tmp_path)
    try:
        assert services.loaded_models() == {"chat": None, "face_backend": False, "image_embedder": False,
                                            "text_embedder": False}
        services.text_embedder.embed(["x"])
        assert services.loaded_models()["text_embedder"] is True
        services.close()
        assert services.loaded_models()["text_embedder"] is False
    finally:
        services.close()


def test_a_shorter_idle_setting_applies_to_a_loaded_model_when_woken(built) -> None:
    setting = {"idle": 600.0}
    host = Lifecycle(lambda folder: grow(built), lambda: setting["idle"], label="text_embedder")
    embedder = TextEmbedderModel(host, "minilm")
    embedder.embed(["x"])
    setting["idle"] = 0.05
    embedder.wake()                                             # app.settings.update does this
    deadline = time.monotonic() + 10                            # without it the timer sleeps on for 60 s
    while embedder.loaded and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not embedder.loaded
    host.close()
