"""The dlib face backend in a child process, so its face search runs next to the rest of indexing.

dlib's Python bindings hold the GIL for the whole HOG search and each face
descriptor (~100 ms per photo). In the app's process that serialises them with
everything else that needs the interpreter: the indexing thread, the second
decode thread, and the window's event loop (loading dlib's models alone froze
the window for 0.35-0.8 s). In a child process the face search has its own
interpreter and its own core; this process only pickles the decoded pixels
(~2 MB, ~1 ms) across and gets the faces back.

``FaceProcess`` has the same ``name``/``dim``/``detect`` surface as
``DlibFaceBackend`` (the ``FaceBackend`` Protocol), so nothing else changes.
The child is started on first use with the "spawn" method (the same on Linux,
macOS and Windows, and safe next to threads; the frozen app calls
``multiprocessing.freeze_support``). If the child dies (killed, out of memory,
a crash in dlib) the call is retried once in a fresh child; a second death
raises ``ModelError``, which stops indexing with that message and loses nothing.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import deque
from concurrent.futures import Future
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import numpy as np

from companion.core.errors import ModelError
from companion.core.types import DetectedFace

from .faces import DlibFaceBackend

_STOP_SECONDS = 5.0      # how long close() waits for the child before killing it


class _ChildDied(Exception):
    """The child ended before answering (killed, out of memory, crashed, or closed)."""


class _Child:
    """One running child: its process, its end of the pipe and the requests it has not answered.

    Requests may be sent while an earlier one is still being worked on (the two indexing
    threads each have one), so the child never waits for the next photo. Answers come back
    in order; a reader thread hands each to the oldest waiting request.
    """

    def __init__(self, options: dict[str, Any]) -> None:
        context = multiprocessing.get_context("spawn")
        self.connection, theirs = context.Pipe()
        self.process: BaseProcess = context.Process(target=_serve, args=(theirs, options),
                                                    name="companion-faces", daemon=True)
        self.process.start()
        theirs.close()   # only the child holds its end: its death then ends our reads and writes
        self._lock = threading.Lock()          # guards _waiting and _dead
        self._send_lock = threading.Lock()     # one message on the pipe at a time
        self._waiting: deque[Future[Any]] = deque()
        self._dead = False
        threading.Thread(target=self._read_answers, name="companion-faces-reader", daemon=True).start()

    def ask(self, request: str, payload: Any) -> Any:
        answer: Future[Any] = Future()
        with self._send_lock:
            with self._lock:
                if self._dead:
                    raise _ChildDied("the child has ended")
                self._waiting.append(answer)
            try:
                self.connection.send((request, payload))
            except (OSError, ValueError) as error:    # broken pipe, or a connection already closed
                self._fail(answer, _ChildDied(repr(error)))
        return answer.result()

    def stop(self) -> None:
        with self._send_lock:
            try:
                self.connection.send(("stop", None))
            except (OSError, ValueError):
                pass                                   # already gone
        self.process.join(_STOP_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.connection.close()                        # the reader sees EOF and fails what is left

    def _read_answers(self) -> None:
        while True:
            try:
                ok, result = self.connection.recv()
            except (EOFError, OSError, ValueError):
                break
            with self._lock:
                answer = self._waiting.popleft()
            if ok:
                answer.set_result(result)
            else:
                answer.set_exception(result)           # the child's exception, e.g. ValueError for bad pixels
        with self._lock:
            self._dead = True
            waiting, self._waiting = list(self._waiting), deque()
        for answer in waiting:
            self._fail(answer, _ChildDied("the child ended before answering"))

    def _fail(self, answer: Future[Any], error: Exception) -> None:
        with self._lock:
            if answer.done():
                return
            answer.set_exception(error)


class FaceProcess:
    """``FaceBackend`` that runs a ``DlibFaceBackend`` built from ``options`` in one child process.

    A process, a pipe and a reader thread rather than ``ProcessPoolExecutor``: Python 3.11's
    pool hung forever on its next call after its worker was killed while idle (seen in the
    test suite), while a dead child here ends the pipe and fails every waiting request at once.
    """

    name = DlibFaceBackend.name
    dim = DlibFaceBackend.dim

    def __init__(self, **options: Any) -> None:
        DlibFaceBackend(**options)   # missing weights or bad options fail here, before a child starts
        self._options = options
        self._lock = threading.Lock()
        self._child: _Child | None = None

    def detect(self, pixels: np.ndarray) -> list[DetectedFace]:
        """Faces in an RGB uint8 H x W x 3 array, found in the child (see ``DlibFaceBackend.detect``)."""
        return self._call("detect", np.asarray(pixels))

    def child_cpu_seconds(self) -> float:
        """CPU time the current child has used (benchmarks add it to this process's)."""
        return self._call("cpu")

    @property
    def child_pid(self) -> int | None:
        """The running child's process id (None before the first call or after ``close``)."""
        child = self._child
        return child.process.pid if child is not None else None

    def close(self) -> None:
        """Stop the child (it is started again on the next call)."""
        with self._lock:
            child, self._child = self._child, None
        if child is not None:
            child.stop()

    def _call(self, request: str, payload: Any = None) -> Any:
        for attempt in (1, 2):
            child = self._running()
            try:
                return child.ask(request, payload)
            except _ChildDied as error:
                self._forget(child)
                if attempt == 2:
                    raise ModelError(f"the face model's process stopped twice in a row ({error})") from error
        raise AssertionError("unreachable")

    def _running(self) -> _Child:
        with self._lock:
            if self._child is None:
                self._child = self._spawn()
            return self._child

    def _spawn(self) -> _Child:
        return _Child(self._options)

    def _forget(self, child: _Child) -> None:
        with self._lock:
            if self._child is child:
                self._child = None
        child.stop()


def create(paths: Any, settings: Any, *, process: bool | None = None, **options: Any) -> Any:
    """Registry factory: the child-process backend where there is a second core to give it.

    process: True/False forces it; None (the default) uses a child when the machine has 2+ cores
    (with one core, a second interpreter would only cost memory).
    """
    if process is None:
        process = (os.cpu_count() or 1) >= 2
    return FaceProcess(**options) if process else DlibFaceBackend(**options)


# ---- in the child ----------------------------------------------------------------------

def _serve(connection: Connection, options: dict[str, Any]) -> None:
    """Answer requests until told to stop or the parent goes away."""
    backend = DlibFaceBackend(**options)
    while True:
        try:
            request, payload = connection.recv()
        except (EOFError, OSError):
            return                                          # the parent exited or closed the pipe
        if request == "stop":
            return
        try:
            result = backend.detect(payload) if request == "detect" else time.process_time()
        except Exception as error:  # noqa: BLE001 - sent back and raised in the parent
            connection.send((False, error))
        else:
            connection.send((True, result))
