"""One resident model, idle unload, and proof that loading and generating never touch the network."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from companion.core.errors import ModelError
from companion.core.protocols import ChatMessage, GenerationRequest, complete

pytestmark = pytest.mark.models


def ask(text: str, max_tokens: int = 3) -> GenerationRequest:
    return GenerationRequest([ChatMessage("user", text)], max_tokens=max_tokens, temperature=0.0)


@pytest.fixture
def host_factory(gemma_path: Path, mmproj_path: Path):  # type: ignore[no-untyped-def]
    from companion.backends.lifecycle import Lifecycle
    from companion.backends.llama import LlamaModel

    opened: list[LlamaModel] = []

    def loader(name: str) -> LlamaModel:
        model = LlamaModel(gemma_path, mmproj_path if name == "vision" else None, name=name,
                           chat_format="raw", n_ctx=512)
        opened.append(model)
        return model

    hosts: list[Lifecycle[str, LlamaModel]] = []

    def make(idle: float = 600) -> tuple[Lifecycle[str, LlamaModel], list[LlamaModel]]:
        hosts.append(Lifecycle(loader, lambda: idle, label="chat model"))
        return hosts[-1], opened

    yield make
    for host in hosts:
        host.close()


def test_one_model_resident_and_swaps_close_the_old_one(host_factory) -> None:  # type: ignore[no-untyped-def]
    host, opened = host_factory()
    with host.use("text") as model:
        first = complete(model, ask("1, 2, 3,"))
    with host.use("text") as again:
        assert again is model                                    # no reload
    assert host.loads == 1 and host.resident == "text"
    with host.use("vision") as vision:
        assert vision.supports_images and host.resident == "vision"
    assert host.loads == 2
    with pytest.raises(ModelError, match="closed"):               # the text model was unloaded
        complete(opened[0], ask("1, 2, 3,"))
    assert first.startswith(" 4")


def test_idle_model_is_unloaded_but_not_during_generation(gemma_path: Path) -> None:
    from companion.backends.lifecycle import Lifecycle
    from companion.backends.llama_process import ChatFiles, LlamaChild
    from companion.backends.model_kinds import ChatModel

    def load(files: ChatFiles) -> LlamaChild:
        return LlamaChild(files, chat_format="raw", n_ctx=512)

    host = Lifecycle(load, lambda: 0.3, label="chat model")
    files = ChatFiles("text", gemma_path)
    hosted = ChatModel(host, files)
    pieces = []
    for piece in hosted.stream(ask("1, 2, 3,", max_tokens=4)):
        pieces.append(piece)
        time.sleep(0.2)                                          # longer than the idle timeout in total
    assert len(pieces) >= 2 and host.resident == files
    deadline = time.monotonic() + 5
    while host.resident is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert host.resident is None
    assert complete(hosted, ask("1, 2, 3,")).startswith(" 4")     # reloads on demand
    assert host.loads == 2
    host.close()


def test_loads_are_serialized(host_factory) -> None:  # type: ignore[no-untyped-def]
    host, opened = host_factory()
    results: list[str] = []

    def worker() -> None:
        with host.use("text") as model:
            results.append(model.name)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == ["text"] * 4 and host.loads == 1 and len(opened) == 1


def test_closed_host_refuses_use(host_factory) -> None:  # type: ignore[no-untyped-def]
    host, _ = host_factory()
    with host.use("text"):
        pass
    host.close()
    assert host.resident is None
    with pytest.raises(ModelError, match="closed"):
        with host.use("text"):
            pass


def test_listing_loading_and_generating_make_no_network_connection(
        gemma_path: Path, mmproj_path: Path, photo: Path, companion_home: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from companion.backends import model_manager as mm
    from companion.backends.factory import BackendFactory, open_chat_model
    from companion.config import Settings
    from companion.paths import resolve

    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network access is not allowed in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    paths = resolve(companion_home).ensure()
    mm.add_local(paths, "gemma-vision", [gemma_path, mmproj_path])
    assert {r.name for r in mm.list_models(paths) if r.installed} >= {"gemma-vision"}
    settings = Settings(model="gemma-vision")
    model = open_chat_model(BackendFactory(paths, settings).resolve_chat("gemma-vision"), settings, n_ctx=1024)
    try:
        assert model.supports_images
        out = complete(model, GenerationRequest([ChatMessage("user", "Describe.", image=str(photo))],
                                                max_tokens=4))
        assert isinstance(out, str)
    finally:
        model.close()
    assert attempts == []
