"""Models on this machine: list, download, add local files, verify, remove, and choose the chat model.

The command line (``companion models ...``) and the models panel of the window
both come here. Nothing touches the network except :func:`download`, which
the user asks for; no model is loaded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from companion.backends import model_manager

if TYPE_CHECKING:
    from companion.app.services import Services


def list_models(services: Services) -> list[Any]:
    """Catalog and local models (``ModelStatus``), installed or not."""
    return model_manager.list_models(services.paths)


def download(services: Services, name: str, progress: Callable[[int, int | None], None] | None = None,
             cancel: threading.Event | None = None) -> list[Path]:
    """Fetch a catalog model; ``progress(done_bytes, total_bytes)`` per chunk.

    The image model (kind ``clip``) is used at once: the next search builds it, and the pets and
    things added while it was missing are matched now.
    """
    files = model_manager.download(services.paths, name, progress, cancel)
    entry = model_manager.ModelManager(services.paths).catalog.get(name)
    if entry is not None and entry.kind == "clip":
        from companion.app.concepts import match_waiting_keys

        services.reset_backend("image_embedder")
        match_waiting_keys(services)
    return files


def add_local(services: Services, name: str, files: list[Path], title: str = "") -> Any:
    """Register GGUF files the user already has (a language model, plus its mmproj for vision)."""
    return model_manager.add_local(services.paths, name, files, title)


def verify(services: Services, name: str) -> list[tuple[str, bool, str]]:
    """``(file, ok, detail)`` per file; raises ``ModelError`` listing the files that fail."""
    return model_manager.verify(services.paths, name)


def remove(services: Services, name: str) -> None:
    """Delete a downloaded model's files, or forget a local one (its files are the user's)."""
    model_manager.remove(services.paths, name)


def choose(services: Services, name: str, *, save: bool = True) -> None:
    """Make ``name`` the chat model ("" for none); ``save=False`` leaves saving to the caller (a dialog)."""
    services.settings.model = name
    if save:
        services.save_settings()


def use(services: Services, name: str) -> None:
    """Choose an installed model as the chat model; ``ModelMissingError`` says how to get it otherwise."""
    model_manager.resolve_model(name, services.paths, services.settings)  # must be installed
    choose(services, name)
