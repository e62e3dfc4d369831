"""One lifecycle object per model kind, each with its core Protocol's surface.

``TextEmbedderModel`` (MiniLM), ``ImageEmbedderModel`` (CLIP), ``FaceModel`` (the face
backend) and ``ChatModel`` (the chat model) keep their model in a
:class:`~companion.backends.lifecycle.Lifecycle` and borrow it for each call, so the
core can hold one for as long as it likes while the model itself is loaded on first use
and released when idle. Each is built from files already resolved (``factory.py``
resolves them: a missing file is a ``ModelMissingError`` there), and building one loads
the model once to read what the core needs before its first call (name, dimension,
capabilities). Every call is a typed method: nothing is forwarded by name.

Where a kind needs a child process (the chat model always, the face backend on a
machine with a second core) it is what the lifecycle loads and releases
(``llama_process.LlamaChild``, ``face_process.FaceProcess``): releasing the model ends
the process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Generic, Protocol, TypeVar, runtime_checkable

import numpy as np

from companion.core.protocols import FaceBackend, GenerationRequest, ImageEmbedder, TextEmbedder
from companion.core.types import DetectedFace

from .child_process import ChildDied
from .lifecycle import Lifecycle
from .llama_process import ChatFiles, LlamaChild

F = TypeVar("F")
M = TypeVar("M")


class _Kind(Generic[F, M]):
    """What every kind shares: its lifecycle, the files it loads from, and the release controls."""

    def __init__(self, lifecycle: Lifecycle[F, M], files: F) -> None:
        self.lifecycle = lifecycle
        self.files = files

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory now (``companion doctor``, tests)."""
        return self.lifecycle.loaded

    def close(self) -> None:
        """Release the model now (a later call loads it again)."""
        self.lifecycle.unload()

    def wake(self) -> None:
        """Make the idle timer re-read ``idle_unload_seconds`` (after the setting changed)."""
        self.lifecycle.wake()


class TextEmbedderModel(_Kind[F, TextEmbedder]):
    """``TextEmbedder`` (MiniLM) with a lifecycle."""

    def __init__(self, lifecycle: Lifecycle[F, TextEmbedder], files: F) -> None:
        super().__init__(lifecycle, files)
        with lifecycle.use(files) as model:
            self.name, self.dim = model.name, model.dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        with self.lifecycle.use(self.files) as model:
            return model.embed(texts)


class ImageEmbedderModel(_Kind[F, ImageEmbedder]):
    """``ImageEmbedder`` (CLIP) with a lifecycle."""

    def __init__(self, lifecycle: Lifecycle[F, ImageEmbedder], files: F) -> None:
        super().__init__(lifecycle, files)
        with lifecycle.use(files) as model:
            self.name, self.dim = model.name, model.dim

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        with self.lifecycle.use(self.files) as model:
            return model.embed_images(images)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        with self.lifecycle.use(self.files) as model:
            return model.embed_texts(texts)


@runtime_checkable
class FaceFinder(FaceBackend, Protocol):
    """A face backend as the face kind loads it: in this process or in a child."""

    @property
    def detector_name(self) -> str: ...


@runtime_checkable
class InChild(Protocol):
    """A model that runs in a child process (``face_process.FaceProcess``)."""

    @property
    def child_pid(self) -> int | None: ...

    def child_cpu_seconds(self) -> float: ...


class FaceModel(_Kind[F, FaceFinder]):
    """``FaceBackend`` with a lifecycle: releasing a ``FaceProcess`` stops its child process."""

    def __init__(self, lifecycle: Lifecycle[F, FaceFinder], files: F) -> None:
        super().__init__(lifecycle, files)
        with lifecycle.use(files) as model:
            self.name, self.dim, self.detector_name = model.name, model.dim, model.detector_name

    def detect(self, pixels: np.ndarray) -> list[DetectedFace]:
        with self.lifecycle.use(self.files) as model:
            return model.detect(pixels)

    def child_cpu_seconds(self) -> float:
        """CPU time of the face child (0 when the faces run in this process)."""
        with self.lifecycle.use(self.files) as model:
            return model.child_cpu_seconds() if isinstance(model, InChild) else 0.0

    @property
    def child_pid(self) -> int | None:
        """The face child's process id, None when none runs (not loaded, or faces run in this process)."""
        model = self.lifecycle.peek()
        return model.child_pid if isinstance(model, InChild) else None


class ChatModel(_Kind[ChatFiles, LlamaChild]):
    """``LanguageModel``: the chat model ``files`` through the chat lifecycle, which holds one
    chat model at a time (asking for another swaps them) in its child process."""

    def __init__(self, lifecycle: Lifecycle[ChatFiles, LlamaChild], files: ChatFiles, *, owner: bool = False) -> None:
        """owner: the handle owns its lifecycle (``factory.open_chat_model``), so ``close`` ends the model."""
        super().__init__(lifecycle, files)
        self._owner = owner
        self.name = files.name
        with lifecycle.use(files) as llama:      # capabilities need the model: load it once to read them
            self.supports_images, self.context_length = llama.supports_images, llama.context_length
            self.template_note = llama.template_note
        self.last_stats: dict[str, float] = {}

    def stream(self, request: GenerationRequest, cancel: threading.Event | None = None) -> Iterator[str]:
        from .llama import LlamaModel

        with self.lifecycle.use(self.files) as llama:    # held until the generator finishes or is closed
            child = llama.running()
            try:
                # Tokens come straight from the child's pipe: no layer in between.
                yield from child.stream(LlamaModel.stream, request, cancel)
                self.last_stats = llama.last_stats = child.call(LlamaModel.stats)
            except ChildDied as error:
                raise llama.crashed(child, error) from error

    def count_tokens(self, text: str) -> int:
        from .llama import LlamaModel

        with self.lifecycle.use(self.files) as llama:
            child = llama.running()
            try:
                return child.call(LlamaModel.count_tokens, text)
            except ChildDied as error:
                raise llama.crashed(child, error) from error

    @property
    def child_pid(self) -> int | None:
        """The child running the model, None when it is not loaded."""
        llama = self.lifecycle.peek()
        return llama.child_pid if llama is not None else None

    @property
    def restarts(self) -> int:
        """How often its child was started again after a crash (since it was loaded)."""
        llama = self.lifecycle.peek()
        return llama.restarts if llama is not None else 0

    def close(self) -> None:
        """Shared lifecycle (``Services``): it owns the model, closing a handle only gives it back."""
        if self._owner:
            self.lifecycle.close()
