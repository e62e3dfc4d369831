"""What the personalization steps need, gathered once: the store, settings and optional models.

Every model is optional (None when not installed); each step degrades instead
of failing. Only the composition root (``companion.app.services.Services.deps``)
builds one for the product; tests build their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from companion.config import Settings
from companion.core.protocols import FaceBackend, Geocoder, ImageEmbedder, LanguageModel, PhotoReader, TextEmbedder
from companion.core.store import Store


@dataclass
class Deps:
    store: Store
    settings: Settings
    model: LanguageModel | None = None
    text_embedder: TextEmbedder | None = None
    geocoder: Geocoder | None = None
    photo_reader: PhotoReader | None = None
    face_backend: FaceBackend | None = None
    image_embedder: ImageEmbedder | None = None
    # Shown when no chat model is installed: which one to get.
    model_hint: str = ""
