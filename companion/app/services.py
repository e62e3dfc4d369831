"""The composition root: the one place where real pieces are wired together.

A :class:`Services` holds one profile's paths, settings, store and backends;
the use cases (``companion.app.concepts``, ``chat``, ``library``, ``memories``,
``models``, ``people``, ``search``, ``diagnostics``) take it as their first
argument. The CLI and the GUI call only those: neither reads the store, SQL or a
model directly (tests/unit/test_app_layer.py and import-linter check it), and
the core gets what it needs as explicit arguments or a :class:`Deps` built by
:meth:`Services.deps`. Backends are built lazily, on first use, so starting the
app or running ``companion concepts list`` never loads a model.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Literal, TypeVar

from companion import config
from companion.app.locks import ProfileLock
from companion.backends.factory import BackendFactory, FaceSetup
from companion.backends.lifecycle import Lifecycle
from companion.backends.llama_process import ChatFiles, LlamaChild
from companion.backends.model_kinds import ChatModel, FaceModel, ImageEmbedderModel, TextEmbedderModel
from companion.core.deps import Deps
from companion.core.errors import ModelMissingError
from companion.core.protocols import FaceBackend, Geocoder, ImageEmbedder, LanguageModel, PhotoReader, TextEmbedder
from companion.core.store import Store
from companion.core.store.files import ProfileFiles
from companion.paths import Paths, resolve

T = TypeVar("T")
# What holds a model (or a process) once built: closed with the app, woken when the idle setting changes.
Running = Lifecycle[ChatFiles, LlamaChild] | FaceModel[FaceSetup] | ImageEmbedderModel[Path] | TextEmbedderModel[Path]
# The backends Services builds on first use and can drop again (``reset_backend``).
BackendName = Literal["photo_reader", "face_backend", "image_embedder", "text_embedder", "geocoder"]


def single_threaded_blas() -> None:
    """Run numpy's BLAS on one thread in this process.

    The vector indexes (core/store/vectors.py) answer with matrix-vector products of a few
    MB to a few hundred MB: memory-bound, so a second thread gains nothing, while on a busy
    machine (indexing, the face process, the window) OpenBLAS's thread hand-offs made a
    0.2 ms product over 15k face keys take 16 ms (benchmarks/README.md, "Scale").
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")


def profile_files(paths: Paths) -> ProfileFiles:
    """The profile's folders whose files the store keeps as relative paths (store/files.py)."""
    return ProfileFiles(concept_images=paths.concept_images_dir, thumbnails=paths.thumbnails_dir)


class Services:
    """Everything one profile needs, built from its paths and settings."""

    # The perception models, each a lifecycle object like the chat model: loaded on first
    # use, released idle_unload_seconds after the last call (backends/lifecycle.py).
    HOSTED: tuple[BackendName, ...] = ("face_backend", "image_embedder", "text_embedder")

    def __init__(self, paths: Paths, settings: config.Settings, store: Store) -> None:
        single_threaded_blas()
        self.paths = paths
        self.settings = settings
        self.store = store
        self._lock = threading.Lock()
        self._factory = BackendFactory(paths, settings)
        # One indexing run at a time in this profile, across threads and processes (``app.library.index``):
        # the window's catch-up scan, a watched-folder batch and `companion index` racing over the same new
        # file would each analyse it and write its faces twice.
        self.index_lock = ProfileLock(paths.locks_dir / "index.lock")

    def import_lock(self, content_hash: str) -> ProfileLock:
        """The lock that makes two imports of one source (by content hash) take turns, across processes."""
        return ProfileLock(self.paths.locks_dir / f"import-{content_hash[:20]}.lock")

    @classmethod
    def open(cls, home: str | Path | None = None, *, read_damaged: bool = False) -> Services:
        """The profile at ``home``; ``read_damaged`` opens a damaged store read-only (``companion doctor``)."""
        paths = resolve(home).ensure()
        settings = config.load(paths.settings_path)
        store = Store.open(paths.db_path, files=profile_files(paths), read_damaged=read_damaged)
        return cls(paths, settings, store)

    def _lifecycles(self) -> list[Running]:
        """The model lifecycles built so far (cached_property keeps them in __dict__)."""
        built = self.__dict__
        found: list[Running] = [built["chat_lifecycle"]] if "chat_lifecycle" in built else []
        return found + [built[name] for name in self.HOSTED
                        if isinstance(built.get(name), FaceModel | ImageEmbedderModel | TextEmbedderModel)]

    def wake_hosts(self) -> None:
        """Wake the idle-unload timers, which read ``idle_unload_seconds`` live: a changed value applies now."""
        for lifecycle in self._lifecycles():
            lifecycle.wake()

    def verify_store(self) -> None:
        """Wait for the integrity check the store started when it opened; ``StoreDamagedError`` if it failed."""
        self.store.verify()

    def close(self) -> None:
        # Backends that hold a process or a model.
        for lifecycle in self._lifecycles():
            lifecycle.close()
        self.store.close()

    # ---- backends (lazy) ------------------------------------------------------------

    def loaded_models(self) -> dict[str, bool | str | None]:
        """Which models are in memory now (``companion doctor``): the chat model's name, else a flag each."""
        built = self.__dict__
        chat = built["chat_lifecycle"].resident if "chat_lifecycle" in built else None
        report: dict[str, bool | str | None] = {"chat": chat.name if chat is not None else None}
        for name in self.HOSTED:
            kind = built.get(name)
            report[name] = isinstance(kind, FaceModel | ImageEmbedderModel | TextEmbedderModel) and kind.loaded
        return report

    @cached_property
    def photo_reader(self) -> PhotoReader:
        with self._lock:
            return self._factory.photo_reader()

    @cached_property
    def face_backend(self) -> FaceBackend:
        """The face backend (dlib on the chosen detector; in a child process on 2+ cores)."""
        with self._lock:
            return self._factory.face_backend()

    def reset_backend(self, name: BackendName) -> None:
        """Close a built backend (``face_backend``, ...) and forget it: its next use builds it from the settings."""
        with self._lock:
            backend = self.__dict__.pop(name, None)
        closable = getattr(backend, "close", None)
        if closable is not None:
            closable()

    @cached_property
    def image_embedder(self) -> ImageEmbedder:
        with self._lock:
            return self._factory.image_embedder()

    @cached_property
    def text_embedder(self) -> TextEmbedder:
        with self._lock:
            return self._factory.text_embedder()

    @cached_property
    def geocoder(self) -> Geocoder:
        with self._lock:
            return self._factory.geocoder()

    @cached_property
    def optional(self) -> OptionalBackends:
        """The same backends, each None when its model is not installed: ``services.optional.image_embedder``."""
        return OptionalBackends(self)

    def warm_up(self) -> list[str]:
        """Load the perception models and the gazetteer's name index now; returns what loaded.

        The app runs this in a worker as soon as its window shows, so the first
        question or index does not wait seconds for them: it starts the face
        child process (which loads dlib there), opens the ONNX sessions and
        builds the gazetteer (written so that none of this holds the GIL for
        long: benchmarks/README.md, "Desktop app responsiveness"), and loads
        dateparser's data for the question planner's languages. Then it loads the
        vector indexes, which a first search would otherwise wait for (about a
        second per 100k photos; benchmarks/README.md, "Scale").
        """
        import numpy as np

        blank = np.zeros((64, 64, 3), dtype=np.uint8)
        optional = self.optional
        steps: dict[str, Callable[[], object]] = {
            "face_backend": lambda: _touch(optional.face_backend, lambda b: b.detect(blank)),
            "image_embedder": lambda: _touch(optional.image_embedder, lambda b: b.embed_images([blank])),
            "text_embedder": lambda: _touch(optional.text_embedder, lambda b: b.embed(["warm up"])),
            "geocoder": lambda: _touch(optional.geocoder, lambda b: b.find_places("Paris")),
        }
        loaded = [name for name, touch in steps.items() if touch()]
        # dateparser's language data: the first question naming a time would wait ~0.2 s for it.
        from companion.core.memory import dates

        dates.warm_up()
        loaded.append("dates")
        self.store.vectors.warm()
        loaded.append("vector_indexes")
        return loaded

    # ---- the chat model and what the core needs ----------------------------------

    @cached_property
    def chat_lifecycle(self) -> Lifecycle[ChatFiles, LlamaChild]:
        """Keeps one chat model resident, loads on demand, unloads after the idle timeout."""
        return self._factory.chat_lifecycle()

    def language_model(self, name: str | None = None) -> LanguageModel | None:
        """The chat model (``name``, else settings.model) through its lifecycle; None when none is installed."""
        key = name or self.settings.model
        if not key:
            return None
        try:
            files = self._factory.resolve_chat(key)        # cheap: files only, no load
        except ModelMissingError:
            return None
        return ChatModel(self.chat_lifecycle, files)

    def model_hint(self) -> str:
        """Which model to get when none is installed: the catalog's smallest chat model."""
        try:
            from companion.backends.catalog import load_catalog

            chat = [e for e in load_catalog().values() if e.kind in ("vlm", "llm")]
            name = min(chat, key=lambda e: e.approx_mb or 1 << 30).name if chat else "NAME"
        except (ImportError, OSError, ValueError):
            name = "NAME"
        return f"Install a chat model with: companion models download {name}"

    def deps(self, model_name: str | None = None, *, with_model: bool = True) -> Deps:
        """What the core's personalization and answering steps need: the store, settings and the
        installed models (each None when missing), and the chat model ``model_name`` (else settings')."""
        optional = self.optional
        return Deps(store=self.store, settings=self.settings,
                    model=self.language_model(model_name) if with_model else None,
                    text_embedder=optional.text_embedder, geocoder=optional.geocoder,
                    photo_reader=optional.photo_reader, face_backend=optional.face_backend,
                    image_embedder=optional.image_embedder, model_hint=self.model_hint())


def _touch(backend: T | None, call: Callable[[T], object]) -> bool:
    """Call a backend once to load it (``warm_up``); False when it is not installed."""
    if backend is None:
        return False
    call(backend)
    return True


def _installed(build: Callable[[], T]) -> T | None:
    try:
        return build()
    except ModelMissingError:
        return None


class OptionalBackends:
    """``Services``' backends, each None when its model is not installed: features degrade, never crash."""

    def __init__(self, services: Services) -> None:
        self._services = services

    @property
    def photo_reader(self) -> PhotoReader | None:
        return _installed(lambda: self._services.photo_reader)

    @property
    def face_backend(self) -> FaceBackend | None:
        return _installed(lambda: self._services.face_backend)

    @property
    def image_embedder(self) -> ImageEmbedder | None:
        return _installed(lambda: self._services.image_embedder)

    @property
    def text_embedder(self) -> TextEmbedder | None:
        return _installed(lambda: self._services.text_embedder)

    @property
    def geocoder(self) -> Geocoder | None:
        return _installed(lambda: self._services.geocoder)
