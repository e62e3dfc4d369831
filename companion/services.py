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
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from companion import __version__, config
from companion.backends import registry
from companion.core.chat_import import parse_jsonl
from companion.core.errors import CompanionError, ModelMissingError
from companion.core.store import Store
from companion.core.store.db import versions
from companion.core.types import Concept, Turn
from companion.paths import Paths, resolve


@dataclass(frozen=True)
class ImportResult:
    conversation_id: int
    turns: int
    memories: int


class Services:
    """Everything one profile needs, built from its paths and settings."""

    def __init__(self, paths: Paths, settings: config.Settings, store: Store) -> None:
        self.paths = paths
        self.settings = settings
        self.store = store
        self._lock = threading.Lock()

    @classmethod
    def open(cls, home: str | Path | None = None) -> "Services":
        paths = resolve(home).ensure()
        settings = config.load(paths.settings_path)
        store = Store.open(paths.db_path)
        return cls(paths, settings, store)

    def save_settings(self) -> None:
        config.save(self.paths.settings_path, self.settings)

    def close(self) -> None:
        host = self.__dict__.get("model_host")
        if host is not None:
            host.close()
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
        from companion.core.recognition import add_reference_image

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
        from companion.core.memory import learn_from_turns

        return learn_from_turns(self, turns)

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

