"""The language model in a child process: a crash in llama.cpp ends the child, never the app.

llama.cpp is native code that can crash outright (a segfault on a bad build, a
driver fault on a GPU, an abort on a malformed model). In the window's process
that would close the window and lose the chat the user is typing. Here the
:class:`~companion.backends.llama.LlamaModel` lives in a child process (see
``child_process.py``): prompts and generated text cross a pipe (microseconds
against milliseconds per token), and a crash surfaces as
:class:`~companion.core.errors.ModelCrashedError` with a message fit to show. A
fresh child is started at once in the background, so the next question finds
the model loaded again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from companion.config import Settings
from companion.core.errors import ModelCrashedError
from companion.core.protocols import GenerationRequest

from .child_process import ChildDied, ChildProcess


def open_model(model_path: str, mmproj_path: str | None, name: str, settings: Settings,
                  **options: Any) -> Any:
    """A ``LlamaModel`` with GPU layers and CPU backend chosen in the process that runs it (the child)."""
    from .hardware import gpu_layers_for
    from .llama import LlamaModel

    options.setdefault("n_gpu_layers", gpu_layers_for(settings))
    options.setdefault("allow_amx", settings.llm_allow_amx)
    return LlamaModel(model_path, mmproj_path, name=name, **options)


class LlamaProcess:
    """``LanguageModel`` whose ``LlamaModel`` runs in a child process.

    Loading happens in the constructor (a missing or broken file raises the same
    ``ModelError`` as in-process). ``close()`` stops the child, which frees all of
    the model's memory.
    """

    def __init__(self, model_path: str | Path, mmproj_path: str | Path | None = None, *, name: str = "",
                 settings: Settings | None = None, **options: Any) -> None:
        self._options = dict(model_path=str(model_path), mmproj_path=str(mmproj_path) if mmproj_path else None,
                             name=name or Path(model_path).stem, settings=settings or Settings(), **options)
        self._lock = threading.Lock()
        self._closed = False
        self.last_stats: dict[str, float] = {}
        self.restarts = 0
        self._child = self._start()
        try:
            self.name, self.supports_images, self.context_length = self._child.call("describe")
            self.template_note: str | None = self._child.call("note")   # a broken template was replaced
        except BaseException:
            self._child.stop()        # the model did not load: do not leave its process behind
            raise

    @property
    def child_pid(self) -> int | None:
        return self._child.pid

    def stream(self, request: GenerationRequest, cancel: threading.Event | None = None) -> Iterator[str]:
        child = self._running()
        try:
            yield from child.stream("stream", request, cancel=cancel)
            self.last_stats = child.call("stats")
        except ChildDied as error:
            self._restart(child)
            raise ModelCrashedError(self.name, error.exitcode) from error

    def count_tokens(self, text: str) -> int:
        child = self._running()
        try:
            return int(child.call("count_tokens", text))
        except ChildDied as error:
            self._restart(child)
            raise ModelCrashedError(self.name, error.exitcode) from error

    def close(self) -> None:
        with self._lock:
            self._closed = True
            child = self._child
        child.stop()

    def _start(self) -> ChildProcess:
        from .llama import LlamaModel  # noqa: F401 - fail here, not in the child, if the adapter is broken

        return ChildProcess(open_model, self._options, name="companion-llm")

    def _running(self) -> ChildProcess:
        with self._lock:
            if self._closed:
                from companion.core.errors import ModelError

                raise ModelError(f"model {self.name} is closed")
            if not self._child.alive:
                self._child = self._start()
                self.restarts += 1
            return self._child

    def _restart(self, dead: ChildProcess) -> None:
        """Replace a crashed child at once, in the background, so the next question finds the model loaded."""
        def replace() -> None:
            with self._lock:
                if self._closed or self._child is not dead:
                    return
                dead.stop()
                self._child = self._start()
                self.restarts += 1
            try:
                self._child.call("describe")   # waits for the load; a failure shows on the next question
            except Exception:  # noqa: BLE001
                pass

        threading.Thread(target=replace, name="companion-llm-restart", daemon=True).start()
