"""What the core needs from the outside world, as Protocols.

Backends (``companion.backends``) implement these with real libraries; the core
never imports those libraries. Tests may pass small hand-written
implementations, but the shipped product wires only real ones.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from companion.core.types import DecodedPhoto, DetectedFace, FaceLocation, Place


@runtime_checkable
class PhotoReader(Protocol):
    """Decodes photos (honouring EXIF orientation) and writes thumbnails."""

    def read(self, path: Path) -> DecodedPhoto:
        """Raise ``BadImageError`` with a reason for anything that is not a usable photo."""
        ...

    def thumbnail(self, photo: DecodedPhoto, destination: Path) -> None: ...


@runtime_checkable
class FaceDetector(Protocol):
    """Finds faces in RGB uint8 H x W x 3 pixels; boxes in dlib's convention (see ``FaceLocation``).

    ``name`` identifies the detector (settings, ``companion doctor``). Raises ``ValueError`` for
    pixels that are not RGB uint8, ``ModelError`` when the detector itself fails.
    """

    name: str

    def find(self, pixels: np.ndarray) -> list[FaceLocation]: ...


@runtime_checkable
class FaceBackend(Protocol):
    """Finds faces (with a ``FaceDetector``) and turns each into an identity vector (L2-normalised)."""

    name: str
    dim: int

    def detect(self, pixels: np.ndarray) -> list[DetectedFace]: ...


@runtime_checkable
class ImageEmbedder(Protocol):
    """CLIP-style joint image/text embeddings, L2-normalised, shape (n, dim)."""

    name: str
    dim: int

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray: ...

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray: ...


@runtime_checkable
class TextEmbedder(Protocol):
    """Sentence embeddings for memory search, L2-normalised, shape (n, dim)."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


@runtime_checkable
class Geocoder(Protocol):
    """Offline place names for coordinates, and places named in text."""

    def reverse(self, latitude: float, longitude: float) -> Place | None: ...

    def find_places(self, text: str) -> list[Place]: ...


class ReferenceModels(Protocol):
    """The models that turn a reference photo into a concept's key.

    Read as attributes, so an implementation may build each on first use: a pet's
    reference photo never starts the face model (the composition root does this).
    """

    @property
    def photo_reader(self) -> PhotoReader: ...

    @property
    def face_backend(self) -> FaceBackend: ...

    @property
    def image_embedder(self) -> ImageEmbedder: ...


@dataclass(frozen=True)
class ChatMessage:
    """One message of a prompt. ``image`` (a file path) is shown before the text."""

    role: Literal["system", "user", "assistant"]
    text: str
    image: str | None = None


@dataclass
class GenerationRequest:
    """What to generate. ``json_schema`` constrains the output with a grammar."""

    messages: list[ChatMessage]
    max_tokens: int = 256
    temperature: float = 0.2
    stop: Sequence[str] = field(default_factory=tuple)
    json_schema: dict[str, Any] | None = None
    seed: int = 0


@runtime_checkable
class LanguageModel(Protocol):
    """A local (vision-)language model that streams text."""

    name: str
    supports_images: bool
    context_length: int

    def stream(self, request: GenerationRequest, cancel: threading.Event | None = None) -> Iterator[str]:
        """Yield text pieces as they are generated; stop early when ``cancel`` is set."""
        ...

    def count_tokens(self, text: str) -> int: ...

    def close(self) -> None: ...


def complete(model: LanguageModel, request: GenerationRequest, cancel: threading.Event | None = None) -> str:
    """The whole generated text of a request."""
    return "".join(model.stream(request, cancel))
