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
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import numpy as np

from companion.core.errors import ModelError
from companion.core.types import DetectedFace

from .faces import DlibFaceBackend

_STOP_SECONDS = 5.0      # how long close() waits for the child before killing it


class FaceProcess:
    """``FaceBackend`` that runs a ``DlibFaceBackend`` built from ``options`` in one child process.

    A plain process and a pipe rather than ``ProcessPoolExecutor``: Python 3.11's pool can
    hang forever when its worker is killed while idle (measured here: the next call never
    returned), while a dead child makes a pipe fail at once (``EOFError`` / ``BrokenPipeError``).
    """

    name = DlibFaceBackend.name
    dim = DlibFaceBackend.dim

    def __init__(self, **options: Any) -> None:
        DlibFaceBackend(**options)   # missing weights or bad options fail here, before a child starts
        self._options = options
        self._lock = threading.Lock()   # one request at a time: the child answers in order
        self._child: tuple[BaseProcess, Connection] | None = None

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
        return child[0].pid if child is not None else None

    def close(self) -> None:
        """Stop the child (it is started again on the next call)."""
        with self._lock:
            self._stop()

    def _call(self, request: str, payload: Any = None) -> Any:
        with self._lock:
            for attempt in (1, 2):
                if self._child is None:
                    self._child = self._spawn()
                _, connection = self._child
                try:
                    connection.send((request, payload))
                    ok, result = connection.recv()
                except (EOFError, OSError) as error:       # the child died (killed, out of memory, crashed)
                    self._stop()
                    if attempt == 2:
                        raise ModelError(f"the face model's process stopped twice in a row ({error!r})") from error
                    continue
                if ok:
                    return result
                raise result                               # the child's exception, e.g. ValueError for bad pixels
        raise AssertionError("unreachable")

    def _spawn(self) -> tuple[BaseProcess, Connection]:
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        process = context.Process(target=_serve, args=(theirs, self._options), name="companion-faces", daemon=True)
        process.start()
        theirs.close()      # only the child holds its end: its death then ends our reads and writes
        return process, ours

    def _stop(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        process, connection = child
        try:
            connection.send(("stop", None))
        except OSError:
            pass                                            # already gone
        connection.close()
        process.join(_STOP_SECONDS)
        if process.is_alive():
            process.kill()
            process.join()


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
