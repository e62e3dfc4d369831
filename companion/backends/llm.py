"""The language model backend (registry kind ``llm``): an installed model opened by name.

Resolves the model's files (``model_manager``), then runs llama.cpp in a child
process (``llama_process``), so a crash there cannot take the app down.
"""

from __future__ import annotations

from typing import Any

from companion.backends.model_manager import resolve_model
from companion.config import Settings
from companion.paths import Paths, resolve


def open_language_model(name: str = "", paths: Paths | None = None, settings: Settings | None = None,
                        *, process: bool = True, **options: Any) -> Any:
    """Open a ``LanguageModel`` by name: resolves files, checks the pair, picks GPU layers.

    ``process`` (the default) runs it in a child process, so a crash in llama.cpp cannot
    take the app down (``llama_process.py``); False loads it here (tests, benchmarks).
    """
    paths = paths or resolve()
    settings = settings or Settings()
    model, mmproj = resolve_model(name, paths, settings)
    options.setdefault("image_max_tokens", settings.image_max_tokens)
    if process:
        from companion.backends.llama_process import LlamaProcess

        return LlamaProcess(model, mmproj, name=name or settings.model, settings=settings, **options)
    from companion.backends.llama_process import open_model

    return open_model(str(model), str(mmproj) if mmproj else None, name or settings.model, settings, **options)


def create(paths: Paths, settings: Settings, *, model: str = "", **options: Any) -> Any:
    """Registry factory: the chat model ``model`` (default: the one chosen in the settings)."""
    return open_language_model(model, paths, settings, **options)
