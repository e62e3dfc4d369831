"""The composition root: the one place where real pieces are wired together.

The CLI and the GUI both talk to a :class:`Services`; neither touches SQL or a
model directly. Backends are built lazily, on first use, so starting the app or
running ``companion concepts list`` never loads a model.
"""

from __future__ import annotations

import platform
import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from companion import __version__, config
from companion.backends import registry
from companion.core.errors import CompanionError, ModelMissingError
from companion.core.memory.chat_import import parse_jsonl
from companion.core.store import Store
from companion.core.store.db import versions
from companion.core.types import Concept, Turn
from companion.paths import Paths, resolve


@dataclass(frozen=True)
class ImportResult:
    conversation_id: int
    turns: int
    memories: int


class _EitherEvent:
    """Looks like a set ``threading.Event`` when any of its events is set (all ``index_paths`` asks)."""

    def __init__(self, *events: threading.Event | None) -> None:
        self.events = [e for e in events if e is not None]

    def is_set(self) -> bool:
        return any(e.is_set() for e in self.events)


class Services:
    """Everything one profile needs, built from its paths and settings."""

    def __init__(self, paths: Paths, settings: config.Settings, store: Store) -> None:
        self.paths = paths
        self.settings = settings
        self.store = store
        self._lock = threading.Lock()
        # One indexing run at a time: the window's catch-up scan and a watched-folder batch
        # racing over the same new file would both analyse it and write its faces twice.
        self._index_lock = threading.Lock()

    @classmethod
    def open(cls, home: str | Path | None = None) -> "Services":
        paths = resolve(home).ensure()
        settings = config.load(paths.settings_path)
        store = Store.open(paths.db_path)
        return cls(paths, settings, store)

    def save_settings(self) -> None:
        config.save(self.paths.settings_path, self.settings)

    def close(self) -> None:
        # Backends that hold a process or a model (cached_property keeps them in __dict__).
        for name in ("model_host", "face_backend"):
            closable = getattr(self.__dict__.get(name), "close", None)
            if closable is not None:
                closable()
        self.store.close()

    # ---- backends (lazy) ------------------------------------------------------------

    def _backend(self, kind: str) -> Any:
        with self._lock:
            return registry.create(kind, self.paths, self.settings)

    @cached_property
    def photo_reader(self) -> Any:
        return self._backend("photo_reader")

    @cached_property
    def face_backend(self) -> Any:
        return self._backend("faces")

    @cached_property
    def image_embedder(self) -> Any:
        return self._backend("image_embedder")

    @cached_property
    def text_embedder(self) -> Any:
        return self._backend("text_embedder")

    @cached_property
    def geocoder(self) -> Any:
        return self._backend("geocoder")

    def optional(self, name: str) -> Any | None:
        """A backend if its model is installed, else None (features degrade, never crash)."""
        try:
            return getattr(self, name)
        except ModelMissingError:
            return None

    def warm_up(self) -> list[str]:
        """Load the perception models and the gazetteer's name index now; returns what loaded.

        The app runs this in a worker as soon as its window shows, so the first
        question or index does not wait seconds for them: it starts the face
        child process (which loads dlib there), opens the ONNX sessions and
        builds the gazetteer (written so that none of this holds the GIL for
        long: benchmarks/README.md, "Desktop app responsiveness").
        """
        import numpy as np

        blank = np.zeros((64, 64, 3), dtype=np.uint8)
        steps = {
            "face_backend": lambda b: b.detect(blank),
            "image_embedder": lambda b: b.embed_images([blank]),
            "text_embedder": lambda b: b.embed(["warm up"]),
            "geocoder": lambda b: b.find_places("Paris"),
        }
        loaded = []
        for name, touch in steps.items():
            backend = self.optional(name)
            if backend is not None:
                touch(backend)
                loaded.append(name)
        return loaded

    # ---- concepts -------------------------------------------------------------------

    def add_concept(self, name: str, category: str, info: str = "", images: list[Path] | None = None,
                    box: list[int] | None = None) -> Concept:
        """Create a card; reference images become its keys (faces for people, image embeddings otherwise).

        ``box`` picks the face or region when a single reference image holds several.
        """
        images = list(images or [])
        for image in images:
            if not Path(image).is_file():
                raise CompanionError(f"image not found: {image}")
        concept = self.store.concepts.add(name, category, info)
        try:
            for image in images:
                self.add_concept_key(concept.id, Path(image), box)
        except BaseException:
            # A card without the keys the user asked for would silently mis-recognise: undo it.
            self.store.forget_concept(concept.id)
            raise
        return concept

    def add_concept_key(self, concept_id: int, image: Path, box: list[int] | None = None) -> int:
        """Use a reference photo as a key of the concept. Implemented with the photo library."""
        from companion.core.library.recognition import add_reference_image

        return add_reference_image(self, concept_id, image, box)

    def forget_concept(self, ref: str | int) -> Any:
        concept = self.store.concepts.resolve(str(ref))
        return self.store.forget_concept(concept.id)

    # ---- conversations --------------------------------------------------------------

    def import_chat(self, path: Path) -> ImportResult:
        """Import past turns, all or nothing, then learn from them."""
        turns = parse_jsonl(Path(path))
        stored: list[Turn] = []
        with self.store.db.transaction():
            conversation = self.store.conversations.start(title=f"Imported from {Path(path).name}",
                                                          started_at=turns[0].time)
            for turn in turns:
                stored.append(self.store.conversations.add_turn(
                    conversation.id, turn.role, turn.text, turn.time, turn.images,
                    session_gap_minutes=self.settings.session_gap_minutes))
        memories = self.learn_from_turns(stored)
        return ImportResult(conversation.id, len(stored), memories)

    def learn_from_turns(self, turns: list[Turn]) -> int:
        """Extract memories from stored turns; returns how many were written."""
        from companion.core.memory.learn import learn_from_turns

        return learn_from_turns(self, turns)

    # ---- personalization (issue 5) ----

    @cached_property
    def model_host(self) -> Any:
        """Keeps one chat model resident, loads on demand, unloads after the idle timeout."""
        from companion.backends import model_manager
        from companion.backends.model_host import ModelHost

        return ModelHost(lambda name: model_manager.open_language_model(name, self.paths, self.settings),
                         self.settings.idle_unload_seconds)

    def language_model(self, name: str | None = None) -> Any | None:
        """The chat model (``name``, else settings.model) through the host; None when none is installed."""
        key = name or self.settings.model
        if not key:
            return None
        from companion.backends import model_manager

        try:
            model_manager.resolve_model(key, self.paths, self.settings)  # cheap: files only, no load
        except ModelMissingError:
            return None
        return self.model_host.language_model(key)

    def model_hint(self) -> str:
        """Which model to get when none is installed: the catalog's smallest chat model."""
        try:
            from companion.backends import model_manager

            chat = [e for e in model_manager.load_catalog().values() if e.kind in ("vlm", "llm")]
            name = min(chat, key=lambda e: e.approx_mb or 1 << 30).name if chat else "NAME"
        except (ImportError, OSError, ValueError):
            name = "NAME"
        return f"Install a chat model with: companion models download {name}"

    def deps(self, model_name: str | None = None, *, with_model: bool = True) -> Any:
        from companion.core.deps import Deps

        return Deps.from_services(self, with_model=with_model, model_name=model_name)

    def ask(self, question: str, image: Path | str | None = None, *, model: str | None = None,
            temporary: bool = False, cancel: threading.Event | None = None) -> Any:
        """Stream ``AnswerEvent``s for a question about an optional photo (see companion.core.answer.pipeline)."""
        from companion.core.answer.pipeline import ask

        return ask(self.deps(model), question, image, temporary=temporary, cancel=cancel)

    def chat_session(self, *, model: str | None = None, temporary: bool = False) -> Any:
        """An interactive conversation; ``session.send(text, image)`` streams AnswerEvents."""
        from companion.core.answer.pipeline import ChatSession

        return ChatSession(self.deps(model), temporary=temporary)

    # ---- photo library (issue 3) ----

    def index(self, targets: list[Path | str], cancel: threading.Event | None = None,
              timings: dict[str, float] | None = None) -> Iterator[Any]:
        """Index folders/files: an iterator of ``Progress`` ending with an ``IndexSummary``.

        Missing face/CLIP/geocoder models make indexing skip that step, never fail.
        Runs are serialized: a second run waits (in its own thread) for the first.
        """
        from companion.core.library.indexing import index_paths

        run = index_paths(self.store, self.settings, list(targets), reader=self.photo_reader,
                          faces=self.optional("face_backend"), embedder=self.optional("image_embedder"),
                          geocoder=self.optional("geocoder"), thumbnails_dir=self.paths.thumbnails_dir,
                          cancel=cancel, timings=timings)
        return self._one_at_a_time(run)

    def _one_at_a_time(self, run: Iterator[Any]) -> Iterator[Any]:
        with self._index_lock:     # released when the run ends, or is closed when cancelled
            yield from run

    def search_photos(self, text: str, k: int = 20) -> list[Any]:
        """(Photo, cosine distance) pairs for a text query, nearest first (CLIP)."""
        if not text.strip():
            return []
        query = self.image_embedder.embed_texts([text])[0]
        return self.store.photos.search(query, k)

    def face_groups(self, named: bool | None = None) -> list[Any]:
        """Face groups (``FaceCluster``), largest first; ``named=False`` gives those waiting for a name."""
        return self.store.faces.clusters(named=named)

    def name_face_group(self, cluster_id: int, name: str | int) -> Concept:
        from companion.core.library.recognition import name_face_group

        return name_face_group(self.store, cluster_id, name, settings=self.settings)

    def merge_face_groups(self, source_id: int, target_id: int) -> int:
        from companion.core.library.recognition import merge_face_groups

        return merge_face_groups(self.store, source_id, target_id, settings=self.settings)

    def split_faces(self, face_ids: list[int]) -> int:
        from companion.core.library.recognition import split_faces

        return split_faces(self.store, list(face_ids))

    def remove_face(self, face_id: int) -> None:
        from companion.core.library.recognition import remove_face

        remove_face(self.store, face_id)

    def watch(self, on_event: Callable[[Any], Any], quiet_seconds: float = 0.5, *,
              on_progress: Callable[[Any], Any] | None = None,
              cancel: threading.Event | None = None) -> Any:
        """Start watching the watched folders; returns the running ``PhotoWatcher`` (call ``stop()``).

        ``on_event`` gets an ``IndexSummary`` after each indexed batch and a ``str`` for status
        messages; ``on_progress`` (optional) every ``Progress`` of a batch. Setting ``cancel``
        stops the batch being indexed (the files are picked up by the next scan); stopping the
        watcher does too. All callbacks run on the watcher's thread.
        """
        from companion.core.library.indexing import IndexSummary
        from companion.watcher import PhotoWatcher

        folders = [str(Path(f).expanduser().absolute()) for f in self.settings.watched_folders]

        def on_batch(events: list[Any]) -> None:
            targets: list[str] = []
            for event in events:
                path = Path(event.path)
                if path.is_dir() or path.suffix == "":
                    # A folder appeared or vanished: rescan the watched folder holding it (cheap:
                    # unchanged files cost a stat), which also removes photos that went with it.
                    roots = [f for f in folders if event.path == f or event.path.startswith(f + "/")]
                    targets += [r for r in roots if Path(r).is_dir()]
                else:
                    targets.append(event.path)
            if not targets:
                return
            stop = _EitherEvent(watcher.stopping, cancel)
            for item in self.index(list(dict.fromkeys(targets)), cancel=stop):  # type: ignore[arg-type]
                if isinstance(item, IndexSummary):
                    on_event(item)
                elif on_progress is not None:
                    on_progress(item)

        watcher = PhotoWatcher(folders, on_batch, on_status=on_event, quiet_seconds=quiet_seconds)
        return watcher.start()

    def add_watched_folder(self, path: Path | str) -> list[str]:
        folder = Path(path).expanduser().absolute()
        if not folder.is_dir():
            raise CompanionError(f"not a folder: {path}")
        if str(folder) not in self.settings.watched_folders:
            self.settings.watched_folders.append(str(folder))
            self.save_settings()
        return list(self.settings.watched_folders)

    def remove_watched_folder(self, path: Path | str) -> list[str]:
        """Stop watching a folder; its photos stay in the library."""
        folder = str(Path(path).expanduser().absolute())
        if folder not in self.settings.watched_folders:
            raise CompanionError(f"not a watched folder: {path}")
        self.settings.watched_folders.remove(folder)
        self.save_settings()
        return list(self.settings.watched_folders)

    # ---- diagnostics ----------------------------------------------------------------

    def doctor(self) -> dict[str, Any]:
        """What a user (or a bug report) needs to know about this installation."""
        usage = shutil.disk_usage(self.paths.data_dir)
        report: dict[str, Any] = {
            "companion": __version__,
            "python": sys.version.split()[0],
            "platform": f"{platform.system()} {platform.release()} ({platform.machine()})",
            **versions(self.store.db),
            "paths": {"data": str(self.paths.data_dir), "cache": str(self.paths.cache_dir),
                      "models": str(self.paths.models_dir), "settings": str(self.paths.settings_path)},
            "disk_free_gb": round(usage.free / 1e9, 1),
            "store": self.store.stats(),
        }
        try:
            from companion.backends import hardware

            report["hardware"] = hardware.report(self.settings)
        except ImportError as exc:
            report["hardware"] = {"error": f"hardware probe unavailable: {exc}"}
        try:
            from companion.backends import model_manager

            report["models"] = model_manager.installed_summary(self.paths)
        except ImportError as exc:
            report["models"] = {"error": f"model manager unavailable: {exc}"}
        return report

