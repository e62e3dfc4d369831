"""The chat model's child process: a crash in llama.cpp ends the child, never the app.

llama.cpp is native code that can crash outright (a segfault on a bad build, a
driver fault on a GPU, an abort on a malformed model). In the window's process
that would close the window and lose the chat the user is typing. Here the
:class:`~companion.backends.llama.LlamaModel` lives in a child process (see
``child_process.py``): prompts and generated text cross a pipe (microseconds
against milliseconds per token), and a crash surfaces as
:class:`~companion.core.errors.ModelCrashedError` with a message fit to show. A
fresh child is started at once in the background, so the next question finds
the model loaded again.

:class:`LlamaChild` is what the chat model's lifecycle (``model_kinds.ChatModel``)
loads and releases; nothing else sees it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, Unpack

from companion.config import Settings
from companion.core.errors import ModelCrashedError, ModelError

from .child_process import ChildDied, ChildProcess

if TYPE_CHECKING:
    from .llama import LlamaModel


class LlamaOptions(TypedDict, total=False):
    """``LlamaModel``'s keyword arguments a caller may set (see its docstring)."""

    n_ctx: int | None
    max_ctx: int
    n_gpu_layers: int
    n_threads: int | None
    image_max_tokens: int | None
    chat_format: str
    verbose: bool
    allow_amx: bool
    max_seconds: float


@dataclass(frozen=True)
class ChatFiles:
    """An installed chat model's files, resolved once (``model_manager.resolve_model``)."""

    name: str
    model: Path
    mmproj: Path | None = None


def open_model(files: ChatFiles, settings: Settings, options: LlamaOptions) -> LlamaModel:
    """A ``LlamaModel`` with GPU layers and CPU backend chosen in the process that runs it (the child)."""
    from .hardware import gpu_layers_for
    from .llama import LlamaModel

    chosen: LlamaOptions = {"n_gpu_layers": gpu_layers_for(settings), "allow_amx": settings.llm_allow_amx,
                            "image_max_tokens": settings.image_max_tokens, **options}
    return LlamaModel(files.model, files.mmproj, name=files.name, **chosen)


class LlamaChild:
    """A ``LlamaModel`` in a child process, loaded in the constructor.

    A missing or broken file raises the same ``ModelError`` as in-process, and leaves no
    process behind. ``close()`` stops the child, which frees all of the model's memory.
    """

    def __init__(self, files: ChatFiles, settings: Settings | None = None, **options: Unpack[LlamaOptions]) -> None:
        from .llama import LlamaModel  # fail here, not in the child, if the adapter is broken

        self.name = files.name
        self._factory = partial(open_model, files, settings or Settings(), options)
        self._lock = threading.Lock()
        self._closed = False
        self.last_stats: dict[str, float] = {}
        self.restarts = 0
        self._child = self._start()
        try:
            _, self.supports_images, self.context_length = self._child.call(LlamaModel.describe)
            self.template_note = self._child.call(LlamaModel.note)   # a broken template was replaced
        except BaseException:
            self._child.stop()        # the model did not load: do not leave its process behind
            raise

    @property
    def child_pid(self) -> int | None:
        return self._child.pid

    def running(self) -> ChildProcess[LlamaModel]:
        """The live child, started again when it is gone (after a crash)."""
        with self._lock:
            if self._closed:
                raise ModelError(f"model {self.name} is closed")
            if not self._child.alive:
                self._child = self._start()
                self.restarts += 1
            return self._child

    def crashed(self, dead: ChildProcess[LlamaModel], error: ChildDied) -> ModelCrashedError:
        """The error to show for a child that died mid-call; a fresh one starts in the background."""
        self._restart(dead)
        return ModelCrashedError(self.name, error.exitcode)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            child = self._child
        child.stop()

    def _start(self) -> ChildProcess[LlamaModel]:
        return ChildProcess(self._factory, name="companion-llm")

    def _restart(self, dead: ChildProcess[LlamaModel]) -> None:
        """Replace a crashed child at once, in the background, so the next question finds the model loaded."""
        from .llama import LlamaModel

        def replace() -> None:
            with self._lock:
                if self._closed or self._child is not dead:
                    return
                dead.stop()
                self._child = fresh = self._start()
                self.restarts += 1
            try:
                fresh.call(LlamaModel.describe)   # waits for the load; a failure shows on the next question
            except Exception:  # noqa: BLE001
                pass

        threading.Thread(target=replace, name="companion-llm-restart", daemon=True).start()
