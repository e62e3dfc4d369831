"""Every model's lifecycle: loaded on first use, released when idle, never during a call.

A desktop app must not keep multi-gigabyte models resident for hours after the
last question, nor a face model's process and CLIP's ONNX sessions after the
last photo was indexed. One ``ModelHost`` per model kind does it, as Immich's
ML service does for its models: it builds the model on first use behind a lock,
counts the calls in flight, and a timer thread releases the model (``close()``
when it has one, then drops it) ``idle_unload_seconds`` after the last call
ended, never while one runs; the next call builds it again. A host holds one
model at a time, so asking for another name (another chat model) swaps them.

The core never sees a host: it gets a handle with its Protocol's surface
(``HostedModel`` for the chat model; ``HostedImageEmbedder``,
``HostedTextEmbedder`` and ``HostedFaceBackend`` for perception) that borrows the
model from the host for each call, so it can hold the handle for as long as it likes.
"""

from __future__ import annotations

import ctypes
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

import numpy as np

from companion.core.errors import ModelError
from companion.core.protocols import GenerationRequest, LanguageModel
from companion.core.types import DetectedFace

M = TypeVar("M")
_MAX_TIMER_WAIT = 60.0     # the timer re-reads the idle setting at least this often (it can change)


class ModelHost(Generic[M]):
    """One resident model at a time, built by ``loader(name)``; ``close()`` on shutdown.

    idle_unload_seconds: seconds, or a function giving them (read on each check, so a changed
    setting applies); 0 or less keeps the model until ``unload``/``close``.
    idle_timer: False runs no timer thread: the owner calls ``unload_if_idle`` (tests with a fake clock).
    """

    def __init__(self, loader: Callable[[str], M], idle_unload_seconds: float | Callable[[], float] = 600,
                 clock: Callable[[], float] = time.monotonic, label: str = "model", idle_timer: bool = True) -> None:
        self._loader = loader
        self._idle = idle_unload_seconds if callable(idle_unload_seconds) else (lambda: float(idle_unload_seconds))
        self._clock = clock
        self.label = label
        self._cond = threading.Condition(threading.RLock())
        self._model: M | None = None
        self._name: str | None = None
        self._in_use = 0
        self._last_used = clock()
        self._closed = False
        self._timer: threading.Thread | None = None
        self._idle_timer = idle_timer
        self.loads = 0            # how many times a model was loaded (tests, diagnostics)

    @property
    def idle_unload_seconds(self) -> float:
        return float(self._idle())

    @property
    def resident(self) -> str | None:
        """The name of the model in memory, or None."""
        with self._cond:
            return self._name

    def peek(self) -> M | None:
        """The resident model without loading or borrowing it (for reports: do not call it)."""
        with self._cond:
            return self._model

    @contextmanager
    def use(self, name: str) -> Iterator[M]:
        """Borrow model ``name`` (loading it, and unloading another, when needed)."""
        with self._cond:
            if self._closed:
                raise ModelError(f"the {self.label} host is shut down")
            # Wait for calls on a different model to finish before swapping.
            while self._model is not None and self._name != name and self._in_use:
                self._cond.wait()
            if self._name != name or self._model is None:
                self._unload_locked()
                # Loading happens under the lock: two callers never load side by side.
                self._model = self._loader(name)
                self._name = name
                self.loads += 1
            self._in_use += 1
            model = self._model
        try:
            yield model
        finally:
            with self._cond:
                self._in_use -= 1
                self._last_used = self._clock()
                self._cond.notify_all()
                self._ensure_timer()

    def unload(self) -> None:
        """Free the resident model now (waits for running calls); the next use loads it again."""
        with self._cond:
            while self._in_use:
                self._cond.wait()
            self._unload_locked()

    def unload_if_idle(self) -> bool:
        """Free the model if no call runs and the last ended ``idle_unload_seconds`` ago; True if it did."""
        with self._cond:
            idle = self.idle_unload_seconds
            if (self._model is None or self._in_use or idle <= 0
                    or self._clock() - self._last_used < idle):
                return False
            self._unload_locked()
            return True

    def wake(self) -> None:
        """Make the idle timer re-read ``idle_unload_seconds`` now (after the setting changed)."""
        with self._cond:
            self._cond.notify_all()

    def close(self) -> None:
        """Shut down: unload and stop the idle timer. Safe to call twice."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self.unload()
        timer = self._timer
        if timer is not None and timer is not threading.current_thread():
            timer.join(timeout=5)

    def language_model(self: ModelHost[LanguageModel], name: str) -> HostedModel:
        return HostedModel(self, name)

    def _unload_locked(self) -> None:
        if self._model is not None:
            model, self._model, self._name = self._model, None, None
            self._cond.notify_all()         # the timer thread ends
            close = getattr(model, "close", None)
            if close is not None:
                close()
            del model
            return_freed_memory()

    def _ensure_timer(self) -> None:
        if self._idle_timer and self.idle_unload_seconds > 0 and (self._timer is None or not self._timer.is_alive()):
            self._timer = threading.Thread(target=self._idle_loop, name=f"{self.label}-idle-unload", daemon=True)
            self._timer.start()

    def _idle_loop(self) -> None:
        with self._cond:
            while not self._closed and self._model is not None and not self.unload_if_idle():
                # Re-check when the deadline passes (or earlier, when notified of a use or an unload).
                left = self.idle_unload_seconds - (self._clock() - self._last_used)
                self._cond.wait(timeout=min(_MAX_TIMER_WAIT, max(0.05, left)))


def return_freed_memory() -> None:
    """Give the heap pages freed by a released model back to the system (glibc only; elsewhere nothing).

    glibc keeps freed memory for reuse: after CLIP and MiniLM were released the app still held
    ~310 of their ~500 MB until ``malloc_trim`` (benchmarks/README.md, "Model lifecycle").
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        trim = ctypes.CDLL(None).malloc_trim     # absent on musl
    except (OSError, AttributeError):
        return
    trim(0)


class HostedModel:
    """A ``LanguageModel`` that loads through a ``ModelHost`` on each use."""

    def __init__(self, host: ModelHost[LanguageModel], name: str) -> None:
        self._host = host
        self.name = name
        # Capabilities need the model: load it once to read them.
        with host.use(name) as model:
            self.supports_images = model.supports_images
            self.context_length = model.context_length

    def stream(self, request: GenerationRequest, cancel: threading.Event | None = None) -> Iterator[str]:
        with self._host.use(self.name) as model:  # held until the generator finishes or is closed
            yield from model.stream(request, cancel)

    def count_tokens(self, text: str) -> int:
        with self._host.use(self.name) as model:
            return model.count_tokens(text)

    def close(self) -> None:
        """The host owns the model; closing a handle only gives it back."""


class HostedBackend:
    """A perception backend (CLIP, MiniLM, faces) behind its own ``ModelHost``.

    Built once, which builds the backend once to read its ``name`` and ``dim`` (and raises its
    ``ModelMissingError`` when its files are absent, so ``Services.optional`` can tell). Each
    call borrows the backend from the host; ``close()`` releases it now (a later call loads it again).
    """

    def __init__(self, host: ModelHost[Any], kind: str) -> None:
        self._host = host
        self._kind = kind
        with host.use(kind) as backend:
            self.name: str = backend.name
            self.dim: int = backend.dim

    @property
    def loaded(self) -> bool:
        """Whether the backend is in memory now (``companion doctor``, tests)."""
        return self._host.peek() is not None

    def _call(self, method: str, *args: Any) -> Any:
        with self._host.use(self._kind) as backend:
            return getattr(backend, method)(*args)

    def close(self) -> None:
        self._host.unload()

    def wake(self) -> None:
        self._host.wake()


class HostedImageEmbedder(HostedBackend):
    """``ImageEmbedder`` (CLIP) through a host."""

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        return self._call("embed_images", images)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        return self._call("embed_texts", texts)


class HostedTextEmbedder(HostedBackend):
    """``TextEmbedder`` (MiniLM) through a host."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._call("embed", texts)


class HostedFaceBackend(HostedBackend):
    """``FaceBackend`` through a host: releasing a ``FaceProcess`` stops its child process."""

    def __init__(self, host: ModelHost[Any], kind: str) -> None:
        super().__init__(host, kind)
        with host.use(kind) as backend:
            self.detector_name: str = backend.detector_name

    def detect(self, pixels: np.ndarray) -> list[DetectedFace]:
        return self._call("detect", pixels)

    def child_cpu_seconds(self) -> float:
        """CPU time of the face child (0 when the faces run in this process)."""
        with self._host.use(self._kind) as backend:
            return float(getattr(backend, "child_cpu_seconds", lambda: 0.0)())

    @property
    def child_pid(self) -> int | None:
        """The face child's process id, None when none runs (not loaded, or faces run in this process)."""
        return getattr(self._host.peek(), "child_pid", None)
