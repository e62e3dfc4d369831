"""What the personalization steps need, gathered once: the store, settings and optional models.

Every model is optional (None when not installed); each step degrades instead
of failing. ``Deps.from_services`` reads a Services-like object by duck typing,
so the core never imports the composition root.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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

    @classmethod
    def from_services(cls, services: Any, model: LanguageModel | None = None, *, with_model: bool = True,
                      model_name: str | None = None) -> "Deps":
        if model is None and with_model:
            model = services.language_model(model_name)
        return cls(store=services.store, settings=services.settings, model=model,
                   text_embedder=services.optional("text_embedder"), geocoder=services.optional("geocoder"),
                   photo_reader=services.optional("photo_reader"), face_backend=services.optional("face_backend"),
                   image_embedder=services.optional("image_embedder"),
                   model_hint=getattr(services, "model_hint", lambda: "")())
