"""Closing the app ends the face child and the chat model's child cleanly: no process left, no thread
dying on the way out (an unhandled exception in any thread fails these tests).

In one full run the face child's reader thread died with ``TypeError`` at shutdown: ``stop()`` closed
the pipe while the reader was inside ``recv()``. Only the reader closes its pipe now
(``child_process.py``); the second test holds the reader mid-message when the child is stopped.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np
import pytest

from companion.core.protocols import ChatMessage, GenerationRequest

pytestmark = [pytest.mark.models,
              pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")]

LONG = GenerationRequest([ChatMessage("user", "1, 2, 3,")], max_tokens=60, temperature=0.0)


@pytest.fixture
def thread_errors(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every exception that ends a thread during the test (pytest's own hook also turns them into errors)."""
    seen: list[str] = []
    chained = threading.excepthook

    def record(args: threading.ExceptHookArgs) -> None:
        seen.append(f"{args.thread.name if args.thread else '?'}: {args.exc_type.__name__}: {args.exc_value}")
        chained(args)

    monkeypatch.setattr(threading, "excepthook", record)
    yield seen


def readers() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("companion-") and t.name.endswith("-reader")]


def gone(pid: int) -> bool:
    return pid not in {child.pid for child in multiprocessing.active_children()}


def test_closing_the_services_ends_the_face_and_chat_children_without_a_thread_error(
        tmp_path: Path, gemma_path: Path, astronaut: np.ndarray, thread_errors: list[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("dlib")
    from companion.app.services import Services
    from companion.backends import model_manager

    monkeypatch.setattr(os, "cpu_count", lambda: 2)          # faces in their child process
    services = Services.open(tmp_path)
    model_manager.add_local(services.paths, "gemma", [gemma_path])
    faces = services.face_backend
    assert len(faces.detect(astronaut)) == 1
    model = services.language_model("gemma")
    assert model is not None
    tokens = model.stream(LONG)
    assert next(tokens)
    tokens.close()                                          # the user stops the answer and quits
    face_pid, chat_pid = faces.child_pid, model.child_pid   # type: ignore[attr-defined]
    assert face_pid and chat_pid and len(readers()) == 2
    services.close()
    assert gone(face_pid) and gone(chat_pid)
    assert readers() == []                                  # each reader ended and closed its pipe
    assert thread_errors == []


def test_a_child_stopped_while_its_answers_are_still_arriving(gemma_path: Path, thread_errors: list[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from companion.backends.factory import open_chat_model
    from companion.backends.llama_process import ChatFiles

    model = open_chat_model(ChatFiles("gemma", gemma_path), chat_format="raw", n_ctx=512)
    pid = model.child_pid
    assert pid is not None
    # Hold the reader between a message's length and its body (where a pipe closed under it broke
    # recv()) until the stopped child has exited and been reaped, and a moment longer.
    original = Connection._recv                            # type: ignore[attr-defined]
    headers: list[int] = []
    held = threading.Event()

    def slow(self: Connection, size: int, *args: object) -> object:
        data = original(self, size, *args)
        if size == 4:
            headers.append(size)
            if len(headers) == 2:                           # the second part of the answer
                held.set()
                deadline = time.monotonic() + 30
                while alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.02)
                time.sleep(0.3)
        return data

    monkeypatch.setattr(Connection, "_recv", slow)
    tokens = model.stream(GenerationRequest([ChatMessage("user", "1, 2, 3,")], max_tokens=30, temperature=0.0))
    assert next(tokens)
    assert held.wait(30)                                    # the reader is inside the second message
    tokens.close()
    model.close()                                           # stops the child with an answer half read
    assert not alive(pid) and readers() == []
    assert thread_errors == []


def alive(pid: int) -> bool:
    """Whether the process exists (a zombie counts until its parent reaps it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
