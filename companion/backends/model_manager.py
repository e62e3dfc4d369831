"""Model files: the catalog, downloads, locally added models, checksums, and opening a model.

Catalog models (``models/catalog.toml``) live in ``<models_dir>/<name>/``;
models the user adds from their own files are recorded in
``<models_dir>/registry.json`` together with checksums learnt on first
download (trust on first use, where the catalog has no sha256). Nothing here
touches the network except :meth:`ModelManager.download`, which the user asks for.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import shutil
import struct
import tempfile
import threading
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from companion.config import Settings
from companion.core.errors import CompanionError, ModelError, ModelMissingError, NotFoundError
from companion.core.types import Progress
from companion.paths import Paths, catalog_path

REGISTRY_NAME = "registry.json"


@dataclass(frozen=True)
class ModelFile:
    role: str            # model | mmproj | onnx | config | weights
    filename: str
    size: int = 0        # 0 = unknown until the first download
    sha256: str = ""     # "" = unknown: recorded on first download (trust on first use)


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    kind: str            # vlm | llm | clip | faces
    title: str
    source: str          # huggingface | export | package
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


@dataclass
class ModelStatus:
    """One row of ``companion models list``."""

    name: str
    kind: str
    title: str
    source: str          # catalog source, or "local" for models added from files
    installed: bool
    size: int            # bytes on disk when installed, else the catalog's estimate
    license: str = ""
    files: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def load_catalog(path: Path | None = None) -> dict[str, CatalogEntry]:
    data = tomllib.loads((path or catalog_path()).read_text(encoding="utf-8"))
    entries: dict[str, CatalogEntry] = {}
    for name, raw in data.get("models", {}).items():
        raw = dict(raw)
        files = tuple(ModelFile(**f) for f in raw.pop("files", []))
        entries[name] = CatalogEntry(name=name, files=files, **raw)
    return entries


def sha256_file(path: Path, chunk: int = 4 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


# --- GGUF metadata --------------------------------------------------------------------
# gguf.GGUFReader parses every array eagerly (about 16 s for the 262k-token vocabulary of
# Gemma 3 on this machine), so the header is read here with struct and mmap instead.

_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}


@dataclass(frozen=True)
class GgufInfo:
    metadata: dict[str, Any]                 # large arrays are kept as their length only
    tensors: dict[str, tuple[int, ...]]      # name -> ggml ne (innermost dimension first)


def read_gguf(path: Path) -> GgufInfo:
    """Metadata and tensor shapes of a GGUF file; ``ModelError`` when it is not one."""
    try:
        with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            return _parse_gguf(buf)
    except (OSError, ValueError, OverflowError, struct.error, UnicodeDecodeError) as exc:
        # OverflowError: a damaged length field larger than any file
        raise ModelError(f"{path} is not a readable GGUF model file ({exc})") from exc


_U64 = struct.Struct("<Q")


def _parse_gguf(buf: mmap.mmap) -> GgufInfo:
    if buf[:4] != b"GGUF":
        raise ValueError("bad magic")
    (version,) = struct.unpack_from("<I", buf, 4)
    if version < 2:
        raise ValueError(f"GGUF version {version} is too old")
    n_tensors, n_kv = struct.unpack_from("<QQ", buf, 8)
    pos = 24

    def string(at: int) -> tuple[str, int]:
        (length,) = struct.unpack_from("<Q", buf, at)
        return buf[at + 8:at + 8 + length].decode("utf-8", errors="replace"), at + 8 + length

    def value(kind: int, at: int) -> tuple[Any, int]:
        if kind in _SCALARS:
            fmt = "<" + _SCALARS[kind]
            return struct.unpack_from(fmt, buf, at)[0], at + struct.calcsize(fmt)
        if kind == 8:
            return string(at)
        if kind == 9:
            sub, count = struct.unpack_from("<IQ", buf, at)
            at += 12
            if sub in _SCALARS:
                size = struct.calcsize("<" + _SCALARS[sub])
                if count <= 64:
                    items = list(struct.unpack_from(f"<{count}{_SCALARS[sub]}", buf, at))
                    return items, at + size * count
                return count, at + size * count
            if sub == 8 and count > 64:
                # A vocabulary (hundreds of thousands of strings): step over it without
                # decoding, since this runs in GUI workers where long GIL holds stall the window.
                unpack = _U64.unpack_from
                for _ in range(count):
                    at += 8 + unpack(buf, at)[0]
                return count, at
            items: list[Any] = []
            for _ in range(count):
                item, at = value(sub, at)
                if count <= 64:
                    items.append(item)
            return (items if count <= 64 else count), at
        raise ValueError(f"unknown GGUF value type {kind}")

    metadata: dict[str, Any] = {}
    for _ in range(n_kv):
        key, pos = string(pos)
        (kind,) = struct.unpack_from("<I", buf, pos)
        metadata[key], pos = value(kind, pos + 4)
    tensors: dict[str, tuple[int, ...]] = {}
    for _ in range(n_tensors):
        name, pos = string(pos)
        (n_dims,) = struct.unpack_from("<I", buf, pos)
        dims = struct.unpack_from(f"<{n_dims}Q", buf, pos + 4)
        tensors[name] = tuple(int(d) for d in dims)
        pos += 4 + 8 * n_dims + 4 + 8  # dims, type, offset
    return GgufInfo(metadata, tensors)


def text_embedding_length(info: GgufInfo) -> int | None:
    arch = info.metadata.get("general.architecture", "")
    value = info.metadata.get(f"{arch}.embedding_length")
    return int(value) if value is not None else None


def mmproj_output_dim(info: GgufInfo) -> int | None:
    """Width of the embeddings the projector feeds the text model (clip_n_mmproj_embd)."""
    t = info.tensors
    proj = info.metadata.get("clip.projector_type") or info.metadata.get("clip.vision.projector_type", "")
    # Per projector type, the tensor llama.cpp's clip_n_mmproj_embd() reads.
    by_type: dict[str, tuple[str, int]] = {
        "gemma3": ("mm.input_projection.weight", 0),
        "idefics3": ("mm.model.fc.weight", 1),
        "qwen2vl_merger": ("mm.2.bias", 0),
        "qwen25vl": ("mm.2.bias", 0),
        "mlp": ("mm.2.weight", 1),
        "pixtral": ("mm.2.weight", 1),
    }
    if proj in by_type and by_type[proj][0] in t:
        name, axis = by_type[proj]
        return t[name][axis]
    value = info.metadata.get("clip.vision.projection_dim")
    return int(value) if value else None


def check_mmproj_compatible(model_path: Path, mmproj_path: Path) -> None:
    """Raise ``ModelError`` when the projector cannot feed this text model (before llama.cpp aborts)."""
    model_info, proj_info = read_gguf(model_path), read_gguf(mmproj_path)
    if "clip.has_vision_encoder" not in proj_info.metadata and not any(
            k.startswith("clip.") for k in proj_info.metadata):
        raise ModelError(f"{mmproj_path.name} is not a vision projector (mmproj) file")
    if any(k.startswith("clip.") for k in model_info.metadata):
        raise ModelError(f"{model_path.name} is a vision projector, not a language model; "
                         "pass it as the mmproj file")
    n_embd, out_dim = text_embedding_length(model_info), mmproj_output_dim(proj_info)
    if n_embd and out_dim and n_embd != out_dim:
        raise ModelError(
            f"the projector {mmproj_path.name} does not belong to the model {model_path.name}: it "
            f"outputs {out_dim}-wide embeddings but the model expects {n_embd}; use the mmproj file "
            "published with this model")


# --- the manager ----------------------------------------------------------------------

ProgressCallback = Callable[[Progress], None]


class ModelManager:
    """List, download, add, remove and verify models of one profile."""

    def __init__(self, paths: Paths, catalog: dict[str, CatalogEntry] | None = None) -> None:
        self.paths = paths
        self.catalog = catalog if catalog is not None else load_catalog()
        self._lock = threading.Lock()

    # registry.json: {"local": {name: {...}}, "checksums": {"name/file": {"sha256", "size", ...}}}
    @property
    def registry_path(self) -> Path:
        return self.paths.models_dir / REGISTRY_NAME

    def _read_registry(self) -> dict[str, Any]:
        try:
            data = json.loads(self.registry_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = {}
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CompanionError(f"model registry {self.registry_path} is damaged ({exc}); "
                                 "move it away and add your local models again") from exc
        data.setdefault("local", {})
        data.setdefault("checksums", {})
        return data

    def _write_registry(self, data: dict[str, Any]) -> None:
        self.paths.models_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.paths.models_dir, prefix=".registry-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
        os.replace(tmp, self.registry_path)  # atomic, like settings

    def model_dir(self, entry: CatalogEntry) -> Path:
        if entry.source == "package":
            from companion.backends.faces import dlib_models_dir  # lazy; raises ModelMissingError
            return dlib_models_dir()
        return self.paths.models_dir / (entry.dir or entry.name)

    def _catalog_files(self, entry: CatalogEntry) -> list[Path]:
        try:
            base = self.model_dir(entry)
        except ModelMissingError:
            base = self.paths.models_dir / entry.name / "(package not installed)"
        return [base / f.filename for f in entry.files]

    def list(self) -> list[ModelStatus]:
        rows: list[ModelStatus] = []
        for entry in self.catalog.values():
            files = self._catalog_files(entry)
            missing = [p.name for p in files if not p.is_file()]
            installed = not missing
            size = sum(p.stat().st_size for p in files if p.is_file()) if installed else entry.approx_mb << 20
            rows.append(ModelStatus(entry.name, entry.kind, entry.title, entry.source, installed, size,
                                    entry.license, [str(p) for p in files], missing))
        for name, rec in self._read_registry()["local"].items():
            files = [Path(rec["model"])] + ([Path(rec["mmproj"])] if rec.get("mmproj") else [])
            missing = [str(p) for p in files if not p.is_file()]
            size = sum(p.stat().st_size for p in files if p.is_file())
            kind = "vlm" if rec.get("mmproj") else "llm"
            rows.append(ModelStatus(name, kind, rec.get("title", name), "local", not missing, size,
                                    rec.get("license", ""), [str(p) for p in files], missing))
        return rows

    def resolve(self, name: str) -> tuple[Path, Path | None]:
        """``(gguf, mmproj or None)`` of an installed language model; ``ModelMissingError`` if absent."""
        local = self._read_registry()["local"].get(name)
        if local is not None:
            model, mmproj = Path(local["model"]), Path(local["mmproj"]) if local.get("mmproj") else None
            for path in (model, mmproj):
                if path is not None and not path.is_file():
                    raise ModelMissingError(f"model {name!r}: file {path} is gone; add it again with "
                                            f"`companion models add {name} MODEL.gguf [--mmproj FILE]`")
            return model, mmproj
        entry = self.catalog.get(name)
        if entry is None:
            known = ", ".join(sorted([*self.catalog, *self._read_registry()["local"]]))
            raise ModelMissingError(f"unknown model {name!r}; known models: {known}")
        if entry.kind not in ("vlm", "llm"):
            raise ModelError(f"{name!r} is a {entry.kind} model, not a language model")
        by_role = {f.role: self.model_dir(entry) / f.filename for f in entry.files}
        missing = [p for p in by_role.values() if not p.is_file()]
        if missing:
            raise ModelMissingError(self._offline_message(entry, missing))
        return by_role["model"], by_role.get("mmproj")

    def _offline_message(self, entry: CatalogEntry, missing: list[Path]) -> str:
        if entry.source != "huggingface":
            return f"model {entry.name!r} is not installed: {entry.install_hint}"
        urls = " and ".join(f"https://huggingface.co/{entry.repo}/resolve/{entry.revision}/{p.name}"
                            for p in missing)
        return (f"model {entry.name!r} is not installed. Run `companion models download {entry.name}` "
                f"while online, or download {urls} yourself and put the file(s) in {missing[0].parent}")

    def download(self, name: str, progress: ProgressCallback | None = None,
                 cancel: threading.Event | None = None) -> list[Path]:
        """Fetch a catalog model's files (resuming partial downloads) and check their sha256."""
        entry = self.catalog.get(name)
        if entry is None:
            raise NotFoundError(f"{name!r} is not in the model catalog")
        if entry.source != "huggingface":
            raise CompanionError(f"{name!r} is not downloaded but installed locally: {entry.install_hint}")
        target = self.model_dir(entry)
        target.mkdir(parents=True, exist_ok=True)
        todo = [f for f in entry.files if not (target / f.filename).is_file()]
        known = sum(f.size for f in todo)
        needed = known if known and all(f.size for f in todo) else entry.approx_mb << 20
        free = shutil.disk_usage(target).free
        if todo and free < needed * 1.05:
            raise CompanionError(f"not enough disk space for {name}: needs about {needed >> 20} MB, "
                                 f"{free >> 20} MB free in {target}")
        from huggingface_hub import hf_hub_download  # lazy: heavy, and only for downloads
        from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

        paths: list[Path] = []
        for index, spec in enumerate(entry.files):
            if cancel is not None and cancel.is_set():
                from companion.core.errors import CancelledError
                raise CancelledError(f"download of {name} cancelled")
            path = target / spec.filename
            if not path.is_file():
                try:
                    hf_hub_download(entry.repo, spec.filename, revision=entry.revision, local_dir=target,
                                    tqdm_class=_progress_tqdm(progress, spec.filename, index, cancel))
                except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as exc:
                    raise ModelMissingError(self._offline_message(entry, [path]) + f" ({exc})") from exc
            self._check_or_record(entry.name, spec, path)
            paths.append(path)
        return paths

    def _check_or_record(self, name: str, spec: ModelFile, path: Path) -> None:
        digest = sha256_file(path)
        with self._lock:
            registry = self._read_registry()
            key = f"{name}/{spec.filename}"
            expected = spec.sha256 or registry["checksums"].get(key, {}).get("sha256", "")
            if expected and digest != expected:
                path.unlink(missing_ok=True)  # a corrupt or tampered file must not be loaded later
                raise ModelError(f"{spec.filename} failed its checksum (got {digest}, expected "
                                 f"{expected}); the file was deleted, download it again")
            if not spec.sha256 and key not in registry["checksums"]:
                registry["checksums"][key] = {"sha256": digest, "size": path.stat().st_size,
                                              "recorded_at": datetime.now(timezone.utc).isoformat(),
                                              "how": "trust on first use"}
                self._write_registry(registry)

    def verify(self, name: str) -> list[tuple[str, bool, str]]:
        """``(file, ok, message)`` per file: sha256 against the catalog or the recorded value."""
        registry = self._read_registry()
        if name in registry["local"]:
            rec = registry["local"][name]
            items = [(ModelFile("model", Path(rec["model"]).name, 0, rec.get("sha256", "")), Path(rec["model"]))]
            if rec.get("mmproj"):
                items.append((ModelFile("mmproj", Path(rec["mmproj"]).name, 0, rec.get("mmproj_sha256", "")),
                              Path(rec["mmproj"])))
        elif name in self.catalog:
            entry = self.catalog[name]
            items = list(zip(entry.files, self._catalog_files(entry)))
        else:
            raise NotFoundError(f"unknown model {name!r}")
        results: list[tuple[str, bool, str]] = []
        for spec, path in items:
            if not path.is_file():
                results.append((spec.filename, False, f"missing: {path}"))
                continue
            digest = sha256_file(path)
            expected = spec.sha256 or registry["checksums"].get(f"{name}/{spec.filename}", {}).get("sha256", "")
            if not expected:
                self._check_or_record(name, spec, path)
                results.append((spec.filename, True, f"sha256 {digest} recorded (first use)"))
            elif digest == expected:
                results.append((spec.filename, True, "sha256 ok"))
            else:
                results.append((spec.filename, False, f"sha256 mismatch: {digest} != {expected}"))
        return results

    def add(self, name: str, model: Path, mmproj: Path | None = None, title: str = "") -> ModelStatus:
        """Register the user's own GGUF (+ mmproj) under ``name``; the files stay where they are."""
        if name in self.catalog:
            raise CompanionError(f"{name!r} is a catalog model; choose another name")
        model = Path(model).expanduser().resolve()
        mmproj = Path(mmproj).expanduser().resolve() if mmproj else None
        for path in (model, mmproj):
            if path is not None and not path.is_file():
                raise CompanionError(f"no such file: {path}")
        info = read_gguf(model)  # fails with ModelError on a non-GGUF file
        if mmproj is not None:
            check_mmproj_compatible(model, mmproj)
        elif any(k.startswith("clip.") for k in info.metadata):
            raise ModelError(f"{model.name} is a vision projector; pass the language model GGUF "
                             "and this file as --mmproj")
        with self._lock:
            registry = self._read_registry()
            registry["local"][name] = {
                "model": str(model), "mmproj": str(mmproj) if mmproj else None,
                "title": title or str(info.metadata.get("general.name", name)),
                "license": str(info.metadata.get("general.license", "")),
                "sha256": sha256_file(model), "mmproj_sha256": sha256_file(mmproj) if mmproj else "",
                "added_at": datetime.now(timezone.utc).isoformat(),
            }
            self._write_registry(registry)
        return next(row for row in self.list() if row.name == name)

    def remove(self, name: str) -> None:
        """Forget a local model (its files are the user's and stay), or delete a downloaded one."""
        with self._lock:
            registry = self._read_registry()
            if name in registry["local"]:
                del registry["local"][name]
            elif name in self.catalog and self.catalog[name].source == "huggingface":
                shutil.rmtree(self.model_dir(self.catalog[name]), ignore_errors=True)
                registry["checksums"] = {k: v for k, v in registry["checksums"].items()
                                         if not k.startswith(f"{name}/")}
            elif name in self.catalog:
                raise CompanionError(f"{name!r} is not managed by downloads: {self.catalog[name].install_hint}")
            else:
                raise NotFoundError(f"unknown model {name!r}")
            self._write_registry(registry)


def _progress_tqdm(progress: ProgressCallback | None, filename: str, index: int,
                   cancel: threading.Event | None) -> type | None:
    """A tqdm class that forwards byte counts to ``progress`` (huggingface_hub drives it)."""
    if progress is None and cancel is None:
        return None
    from tqdm.auto import tqdm  # huggingface_hub depends on tqdm

    class _Forward(tqdm):  # type: ignore[misc, valid-type]
        def update(self, n: float | None = 1) -> bool | None:
            if cancel is not None and cancel.is_set():
                raise OSError("download cancelled")
            result = super().update(n)
            if progress is not None:
                progress(Progress("download", int(self.n), int(self.total) if self.total else None,
                                  f"file {index + 1}: {filename}", filename))
            return result

    return _Forward


def resolve_model(name: str, paths: Paths, settings: Settings | None = None) -> tuple[Path, Path | None]:
    """``(gguf, mmproj or None)`` for a model name (``settings.model`` when ``name`` is empty)."""
    name = name or (settings.model if settings else "")
    if not name:
        raise ModelMissingError("no chat model chosen: pick one with `companion models list` and "
                                "`companion models download NAME`, then set it in the settings")
    return ModelManager(paths).resolve(name)


def open_language_model(name: str = "", paths: Paths | None = None, settings: Settings | None = None,
                        *, process: bool = True, **options: Any) -> Any:
    """Open a ``LanguageModel`` by name: resolves files, checks the pair, picks GPU layers.

    ``process`` (the default) runs it in a child process, so a crash in llama.cpp cannot
    take the app down (``llama_process.py``); False loads it here (tests, benchmarks).
    """
    from companion.paths import resolve

    paths = paths or resolve()
    settings = settings or Settings()
    model, mmproj = resolve_model(name, paths, settings)
    options.setdefault("image_max_tokens", settings.image_max_tokens)
    if process:
        from companion.backends.llama_process import LlamaProcess

        return LlamaProcess(model, mmproj, name=name or settings.model, settings=settings, **options)
    from companion.backends.llama_process import open_model

    return open_model(str(model), str(mmproj) if mmproj else None, name or settings.model, settings, **options)


# --- module-level API for the CLI, the UI and `companion doctor` ------------------------

def list_models(paths: Paths) -> list[ModelStatus]:
    """``companion models list``: catalog and local models, installed or not."""
    return ModelManager(paths).list()


def download(paths: Paths, name: str, progress: Callable[[int, int | None], None] | None = None,
             cancel: threading.Event | None = None) -> list[Path]:
    """``companion models download NAME``; ``progress(done_bytes, total_bytes)`` per chunk."""
    forward = (lambda p: progress(p.done, p.total)) if progress is not None else None
    return ModelManager(paths).download(name, forward, cancel)


def add_local(paths: Paths, name: str, files: list[Path], title: str = "") -> ModelStatus:
    """``companion models add NAME FILE [FILE]``: the projector is told apart by its metadata."""
    if not 1 <= len(files) <= 2:
        raise CompanionError("give one language model GGUF, plus its mmproj file for a vision model")
    projectors = [f for f in files if any(k.startswith("clip.") for k in read_gguf(Path(f)).metadata)]
    models = [f for f in files if f not in projectors]
    if len(models) != 1 or len(projectors) > 1:
        raise CompanionError("expected exactly one language model GGUF and at most one mmproj GGUF")
    return ModelManager(paths).add(name, Path(models[0]), Path(projectors[0]) if projectors else None, title)


def verify(paths: Paths, name: str) -> list[tuple[str, bool, str]]:
    """``companion models verify NAME``; raises ``ModelError`` listing the files that fail."""
    results = ModelManager(paths).verify(name)
    bad = [f"{file}: {message}" for file, ok, message in results if not ok]
    if bad:
        raise ModelError(f"model {name!r} is damaged or incomplete: " + "; ".join(bad))
    return results


def remove(paths: Paths, name: str) -> None:
    """``companion models remove NAME``: deletes downloaded files; forgets local registrations."""
    ModelManager(paths).remove(name)


def installed_summary(paths: Paths) -> dict[str, Any]:
    """For ``companion doctor``: what is installed, where, and how big."""
    rows = list_models(paths)
    return {"models_dir": str(paths.models_dir),
            "installed": {r.name: {"kind": r.kind, "size": r.size, "source": r.source}
                          for r in rows if r.installed},
            "available": [r.name for r in rows if not r.installed]}
