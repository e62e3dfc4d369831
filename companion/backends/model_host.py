"""Keeps at most one language model in memory, loads on demand, unloads when idle.

A desktop app must not hold two multi-gigabyte models at once, nor keep one
resident for hours after the last question. ``ModelHost`` serializes loading
behind a lock, swaps models when another one is asked for, and a timer thread
unloads the resident model ``idle_unload_seconds`` after its last use (never
while a generation is running). ``HostedModel`` is a ``LanguageModel`` that
goes through the host, so the core can hold it for as long as it likes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from companion.core.errors import ModelError
from companion.core.protocols import GenerationRequest, LanguageModel

Loader = Callable[[str], LanguageModel]


class ModelHost:
    """One resident model at a time; ``close()`` on shutdown."""

    def __init__(self, loader: Loader, idle_unload_seconds: float = 600,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._loader = loader
        self.idle_unload_seconds = idle_unload_seconds
        self._clock = clock
        self._cond = threading.Condition(threading.RLock())
        self._model: LanguageModel | None = None
        self._name: str | None = None
        self._in_use = 0
        self._last_used = clock()
        self._closed = False
        self._timer: threading.Thread | None = None
        self.loads = 0            # how many times a model was loaded (tests, diagnostics)

    @property
    def resident(self) -> str | None:
        """The name of the model in memory, or None."""
        with self._cond:
            return self._name

    @contextmanager
    def use(self, name: str) -> Iterator[LanguageModel]:
        """Borrow model ``name`` (loading it, and unloading another, when needed)."""
        with self._cond:
            if self._closed:
                raise ModelError("the model host is shut down")
            # Wait for generations on a different model to finish before swapping.
            while self._model is not None and self._name != name and self._in_use:
                self._cond.wait()
            if self._name != name:
                self._unload_locked()
                # Loading happens under the lock: two callers never load side by side.
                self._model = self._loader(name)
                self._name = name
                self.loads += 1
            self._in_use += 1
            model = self._model
            assert model is not None
        try:
            yield model
        finally:
            with self._cond:
                self._in_use -= 1
                self._last_used = self._clock()
                self._cond.notify_all()
                self._ensure_timer()

    def unload(self) -> None:
        """Free the resident model now (waits for running generations)."""
        with self._cond:
            while self._in_use:
                self._cond.wait()
            self._unload_locked()

    def close(self) -> None:
        """Shut down: unload and stop the idle timer. Safe to call twice."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self.unload()
        timer = self._timer
        if timer is not None and timer is not threading.current_thread():
            timer.join(timeout=5)

    def language_model(self, name: str) -> "HostedModel":
        return HostedModel(self, name)

    def _unload_locked(self) -> None:
        if self._model is not None:
            model, self._model, self._name = self._model, None, None
            model.close()

    def _ensure_timer(self) -> None:
        if self._timer is None or not self._timer.is_alive():
            self._timer = threading.Thread(target=self._idle_loop, name="model-idle-unload", daemon=True)
            self._timer.start()

    def _idle_loop(self) -> None:
        with self._cond:
            while not self._closed and self._model is not None:
                idle_for = self._clock() - self._last_used
                if self._in_use == 0 and idle_for >= self.idle_unload_seconds:
                    self._unload_locked()
                    return
                # Re-check when the deadline passes (or earlier, when notified of a use).
                self._cond.wait(timeout=max(0.05, self.idle_unload_seconds - idle_for))


class HostedModel:
    """A ``LanguageModel`` that loads through a ``ModelHost`` on each use."""

    def __init__(self, host: ModelHost, name: str) -> None:
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
