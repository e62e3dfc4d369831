"""The chat model in its child process (``model_kinds.ChatModel`` over ``llama_process.LlamaChild``): same text,
cancellable, and a crash is a message, not the end."""

from __future__ import annotations

import os
import signal
import struct
import threading
from pathlib import Path

import pytest

from companion.backends.factory import open_chat_model
from companion.backends.llama import LlamaModel
from companion.backends.llama_process import ChatFiles
from companion.backends.model_kinds import ChatModel
from companion.core.errors import ModelCrashedError, ModelError
from companion.core.protocols import ChatMessage, GenerationRequest, complete

pytestmark = pytest.mark.models

COUNT = GenerationRequest([ChatMessage("user", "1, 2, 3,")], max_tokens=12, temperature=0.0)
LONG = GenerationRequest([ChatMessage("user", "1, 2, 3,")], max_tokens=200, temperature=0.0)


@pytest.fixture(scope="module")
def expected(gemma_path: Path) -> str:
    with LlamaModel(gemma_path, chat_format="raw", n_ctx=2048) as local:
        return complete(local, COUNT)


def open_gemma(path: Path) -> ChatModel:
    return open_chat_model(ChatFiles(path.stem, path), chat_format="raw", n_ctx=2048)


@pytest.fixture()
def model(gemma_path: Path):  # type: ignore[no-untyped-def]
    hosted = open_gemma(gemma_path)
    yield hosted
    hosted.close()


def test_the_child_writes_what_the_model_writes_in_process(model: ChatModel, expected: str) -> None:
    assert expected.strip()
    assert complete(model, COUNT) == expected
    assert model.context_length == 2048 and model.name.startswith("gemma")
    assert model.count_tokens("hello world") > 0
    assert model.last_stats["generated"] > 0 and model.child_pid != os.getpid()


def test_stop_ends_the_answer_early_and_the_next_one_is_whole(model: ChatModel, expected: str) -> None:
    cancel = threading.Event()
    pieces = []
    for piece in model.stream(LONG, cancel):
        pieces.append(piece)
        if len(pieces) == 3:
            cancel.set()
    assert 3 <= len(pieces) < 20
    assert complete(model, COUNT) == expected   # the pipe is in step again


def test_a_crash_is_a_clear_error_and_the_model_is_back_for_the_next_question(model: ChatModel,
                                                                               expected: str) -> None:
    stream = model.stream(LONG)
    next(stream)
    os.kill(model.child_pid, signal.SIGSEGV)   # what a fault in llama.cpp does to the process
    with pytest.raises(ModelCrashedError) as caught:
        list(stream)
    assert "crashed (signal 11)" in str(caught.value) and "restarted" in str(caught.value)
    assert "question is still in the box" in str(caught.value)
    assert complete(model, COUNT) == expected
    assert model.restarts == 1


def test_a_file_that_is_not_a_model_fails_to_open_with_a_message(tmp_path: Path) -> None:
    import multiprocessing

    before = {child.pid for child in multiprocessing.active_children()}
    bad = tmp_path / "broken.gguf"
    # A GGUF header whose first key claims to be 2**63 bytes long, as a damaged download might.
    bad.write_bytes(b"GGUF" + struct.pack("<IQQQ", 3, 1, 1, 2**63) + os.urandom(2048))
    with pytest.raises(ModelError, match="not a readable GGUF"):
        open_chat_model(ChatFiles("broken", bad))
    with pytest.raises(ModelError, match="not found"):
        open_chat_model(ChatFiles("missing", tmp_path / "missing.gguf"))
    assert {child.pid for child in multiprocessing.active_children()} <= before   # no process left behind


def test_closing_ends_the_child(gemma_path: Path) -> None:
    import multiprocessing

    hosted = open_gemma(gemma_path)
    pid = hosted.child_pid
    assert pid in {child.pid for child in multiprocessing.active_children()}
    hosted.close()
    assert pid not in {child.pid for child in multiprocessing.active_children()}
    with pytest.raises(ModelError, match="closed"):
        complete(hosted, COUNT)
