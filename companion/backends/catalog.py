"""The model catalog (``companion/resources/catalog.toml``): the models Companion recommends, their files, licences."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from companion.paths import catalog_path

ModelKind = Literal["vlm", "llm", "clip", "faces"]


@dataclass(frozen=True)
class ModelFile:
    role: Literal["model", "mmproj", "onnx", "config", "weights", "module"]   # module: a package's __init__.py
    filename: str
    size: int = 0        # 0 = unknown until the first download
    sha256: str = ""     # "" = unknown: recorded on first download (trust on first use)


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    kind: ModelKind
    title: str
    source: Literal["huggingface", "export", "package"]
    files: tuple[ModelFile, ...]
    repo: str = ""
    revision: str = "main"
    license: str = ""
    approx_mb: int = 0
    ram_mb: int = 0
    vram_mb: int = 0
    dir: str = ""
    package: str = ""
    install_hint: str = ""
    params_b: float = 0.0        # the language model's size in billions of parameters (how fast it runs on a CPU)
    cpu_image_tokens: int = 0    # image tokens a photo is read at without a GPU (0: the image_max_tokens setting)
    note: str = ""               # one honest sentence for the model list


def load_catalog(path: Path | None = None) -> dict[str, CatalogEntry]:
    data = tomllib.loads((path or catalog_path()).read_text(encoding="utf-8"))
    entries: dict[str, CatalogEntry] = {}
    for name, raw in data.get("models", {}).items():
        raw = dict(raw)
        files = tuple(ModelFile(**f) for f in raw.pop("files", []))
        entries[name] = CatalogEntry(name=name, files=files, **raw)
    return entries
