"""One contract for every model's life: resolve, load under a lock on first use, call, idle unload, close.

A desktop app must not keep multi-gigabyte models resident for hours after the last
question, nor a face model's process and CLIP's ONNX sessions after the last photo was
indexed. Each model kind (``model_kinds.py``: the chat model, the face backend, CLIP,
MiniLM) keeps its model in one :class:`Lifecycle`, as Immich's ML service does:

- **resolve**: the kind finds its files first (``ModelMissingError`` when they are absent,
  so ``Services.optional`` can tell) and passes them to every use;
- **load**: the first use builds the model from those files, under the lock, so two
  callers never load side by side; a use with other files (another chat model) waits for
  the calls on the resident one to end, then swaps;
- **call**: ``use`` lends the model for one call and counts the calls in flight;
- **idle unload**: a timer thread releases the model (``close()`` when it has one, then
  ``malloc_trim``) ``idle_unload_seconds`` after the last call ended, never during one.
  The seconds are read live (0 = never) and ``wake`` makes the timer re-read them;
- **close**: shut down for good (the app closes).
"""

from __future__ import annotations

import ctypes
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, Protocol, TypeVar, runtime_checkable

from companion.core.errors import ModelError

F = TypeVar("F")      # what ``resolve`` found: the files a model loads from
M = TypeVar("M")      # the loaded model
_MAX_TIMER_WAIT = 60.0     # the timer re-reads the idle setting at least this often (it can change)


@runtime_checkable
class Closable(Protocol):
    """A model that holds more than memory (a child process, native handles): released by ``close``."""

    def close(self) -> None: ...


class Lifecycle(Generic[F, M]):
    """One resident model at a time, built by ``load(files)``.

    idle_unload_seconds: read on each check, so a changed setting applies; 0 or less keeps
    the model until ``unload``/``close``.
    idle_timer: False runs no timer thread: the owner calls ``unload_if_idle`` (tests with a fake clock).
    """

    def __init__(self, load: Callable[[F], M], idle_unload_seconds: Callable[[], float], *, label: str,
                 clock: Callable[[], float] = time.monotonic, idle_timer: bool = True) -> None:
        self._load = load
        self._idle = idle_unload_seconds
        self._clock = clock
        self.label = label
        self._cond = threading.Condition(threading.RLock())
        self._model: M | None = None
        self._files: F | None = None
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
    def resident(self) -> F | None:
        """The files of the model in memory, or None."""
        with self._cond:
            return self._files if self._model is not None else None

    @property
    def loaded(self) -> bool:
        """Whether a model is in memory now (``companion doctor``, tests)."""
        return self._model is not None

    def peek(self) -> M | None:
        """The resident model without loading or borrowing it (for reports: do not call it)."""
        with self._cond:
            return self._model

    @contextmanager
    def use(self, files: F) -> Iterator[M]:
        """Borrow the model loaded from ``files`` (loading it, and unloading another, when needed)."""
        with self._cond:
            if self._closed:
                raise ModelError(f"the {self.label} was closed")
            # Wait for calls on a different model to finish before swapping.
            while self._model is not None and self._files != files and self._in_use:
                self._cond.wait()
            if self._model is None or self._files != files:
                self._unload_locked()
                self._model = self._load(files)      # under the lock: two callers never load side by side
                self._files = files
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
        """Shut down: unload and stop the idle timer; a later use is refused. Safe to call twice."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self.unload()
        timer = self._timer
        if timer is not None and timer is not threading.current_thread():
            timer.join(timeout=5)

    def _unload_locked(self) -> None:
        if self._model is not None:
            model, self._model, self._files = self._model, None, None
            self._cond.notify_all()         # the timer thread ends
            if isinstance(model, Closable):
                model.close()
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
