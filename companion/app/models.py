"""Models on this machine: list, download, add local files, verify, remove, and choose the chat model.

The command line (``companion models ...``) and the models panel of the window
both come here. Nothing touches the network except :func:`download`, which
the user asks for; no model is loaded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from companion.app import settings as app_settings
from companion.backends import model_manager
from companion.backends.model_manager import ModelStatus

if TYPE_CHECKING:
    from companion.app.services import Services


def list_models(services: Services) -> list[ModelStatus]:
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


def add_local(services: Services, name: str, files: list[Path], title: str = "") -> ModelStatus:
    """Register GGUF files the user already has (a language model, plus its mmproj for vision)."""
    return model_manager.add_local(services.paths, name, files, title)


def verify(services: Services, name: str) -> list[tuple[str, bool, str]]:
    """``(file, ok, detail)`` per file; raises ``ModelError`` listing the files that fail."""
    return model_manager.verify(services.paths, name)


def remove(services: Services, name: str) -> None:
    """Delete a downloaded model's files, or forget a local one (its files are the user's)."""
    model_manager.remove(services.paths, name)


def choose(services: Services, name: str) -> None:
    """Make ``name`` the chat model ("" for none), saved in the settings."""
    app_settings.update(services, model=name)


def use(services: Services, name: str) -> None:
    """Choose an installed model as the chat model; ``ModelMissingError`` says how to get it otherwise."""
    model_manager.resolve_model(name, services.paths, services.settings)  # must be installed
    choose(services, name)


# ---- which models suit this computer (onboarding and Settings list them) ---------------------------

OPEN_LICENCES = ("apache-2.0", "mit", "bsd-3-clause", "cc0-1.0")


@dataclass(frozen=True)
class ChatModelChoice:
    """A chat model as the model list shows it: whether it suits this computer, how fast, its licence."""

    name: str
    title: str
    installed: bool
    size_mb: int
    license: str
    open_licence: bool          # may be used for anything (Apache-2.0, MIT, ...)
    ram_mb: int
    fits: bool                  # enough memory here
    recommended: bool           # the one to pick on this computer
    speed: str                  # words, from its size and whether a GPU runs it
    image_tokens: int           # image tokens a photo is read at here (0: a text-only model)
    note: str


@dataclass(frozen=True)
class ImageModelChoice:
    """An image or face model (shown apart from chat models): what it does, installed or not, how to get it."""

    name: str
    kind: str                   # clip | faces
    title: str
    purpose: str
    installed: bool
    downloadable: bool          # True: ``download`` fetches it with progress and checksums
    size_mb: int
    license: str
    status: str                 # "" when usable; else why not (e.g. "random weights (test model)")


def _speed(params_b: float, gpu: bool) -> str:
    if gpu:
        return "fast (runs on your graphics card)"
    if params_b <= 0.6:
        return "fast on any computer"
    if params_b <= 2.5:
        return "good speed on a recent computer"
    return "slow without a graphics card: a few words a second"


def chat_models(services: Services) -> list[ChatModelChoice]:
    """The chat models (catalog and added ones), each said to suit this computer or not, with one recommended:
    the largest openly licensed model that fits and is not slow here, else the smallest that fits."""
    from companion.backends import catalog, hardware

    entries = catalog.load_catalog()
    ram = hardware.total_ram_mb()
    gpu = hardware.gpu_layers_for(services.settings) != 0
    rows = []
    for status in model_manager.list_models(services.paths):
        if status.kind not in ("vlm", "llm"):
            continue
        entry = entries.get(status.name)
        need = entry.ram_mb if entry else 0
        params = entry.params_b if entry else 0.0
        fits = not ram or not need or need <= 0.6 * ram
        tokens = 0 if status.kind == "llm" else (
            min(services.settings.image_max_tokens, entry.cpu_image_tokens or services.settings.image_max_tokens)
            if entry and not gpu else services.settings.image_max_tokens)
        memory = f"Needs about {need / 1024:.1f} GB of memory; this computer has {ram / 1024:.0f} GB."
        note = " ".join(x for x in (entry.note if entry else "", memory if need and ram else "",
                                    f"Reads a photo at up to {tokens} image tokens." if tokens else "") if x)
        rows.append(ChatModelChoice(status.name, status.title, status.installed, status.size >> 20, status.license,
                                    status.license.lower() in OPEN_LICENCES, need, fits, False,
                                    _speed(params, gpu) if params else "", tokens, note))
    good = [r for r in rows if r.fits and r.open_licence and entries.get(r.name)
            and (gpu or entries[r.name].params_b <= 2.5)]
    pick = max(good, key=lambda r: entries[r.name].params_b) if good else \
        min((r for r in rows if r.fits and r.name in entries), key=lambda r: r.ram_mb, default=None)
    return [replace(r, recommended=pick is not None and r.name == pick.name) for r in rows]


def image_models(services: Services) -> list[ImageModelChoice]:
    """The image model (CLIP: photo search, pets and things) and the face models, installed or not."""
    purposes = {"clip": "finds pets, things and places in photos, and photos by description",
                "faces": "finds and recognises faces"}
    rows = []
    for status in model_manager.list_models(services.paths):
        if status.kind not in purposes:
            continue
        rows.append(ImageModelChoice(status.name, status.kind, status.title, purposes[status.kind], status.installed,
                                     status.source == "huggingface", status.size >> 20, status.license, status.status))
    return rows
