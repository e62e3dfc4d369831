"""The store facade: opens, checks and migrates the database and owns the repositories.

Opening starts ``PRAGMA quick_check`` (``store/integrity.py``): a damaged file is never
written further (``companion doctor`` opens it read-only to say what is wrong) instead of
being read as partly empty and written next to the damage. "Forget" spans every table and
lives in ``store/forget.py``; the facade keeps the entry points.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from companion.core.errors import StoreDamagedError
from companion.core.store import forget, integrity, migrations
from companion.core.store.activity import ActivityRepo
from companion.core.store.concepts import ConceptRepo
from companion.core.store.conversations import ConversationRepo
from companion.core.store.db import Database
from companion.core.store.faces import FaceRepo
from companion.core.store.files import ProfileFiles
from companion.core.store.forget import ForgetReport
from companion.core.store.imports import ImportRepo
from companion.core.store.memories import MemoryRepo
from companion.core.store.observations import ObservationRepo
from companion.core.store.persona import PersonaRepo
from companion.core.store.photos import PhotoRepo
from companion.core.store.triggers import TriggerRepo
from companion.core.store.vectors import VectorIndexes

__all__ = ["ForgetReport", "Store"]


class Store:
    """One profile's memory: photos, faces, concepts, conversations, memories."""

    def __init__(self, db: Database, files: ProfileFiles | None = None) -> None:
        self.db = db
        self.files = files or ProfileFiles.beside(db.path)
        # In-memory copies of the vector tables, kept in step with the database (store/vectors.py).
        self.vectors = VectorIndexes(db)
        self.photos = PhotoRepo(db, self.vectors, self.files)
        self.faces = FaceRepo(db, self.vectors)
        self.concepts = ConceptRepo(db, self.vectors, self.files)
        self.observations = ObservationRepo(db)
        self.conversations = ConversationRepo(db)
        self.memories = MemoryRepo(db, self.vectors)
        self.triggers = TriggerRepo(db)
        self.persona = PersonaRepo(db)
        self.imports = ImportRepo(db)
        self.activity = ActivityRepo(db)
        self._check: integrity.OpenCheck | None = None     # the quick check started by open()

    @classmethod
    def open(cls, path: Path | str, *, files: ProfileFiles | None = None, read_damaged: bool = False) -> "Store":
        """Open (creating or migrating) the database at ``path``.

        ``files``: the profile's folders, so paths inside them are stored relative (default: the
        reference photos' folder next to the database). An existing file is checked
        (``store/integrity.py``): in the background, with writes waiting for the verdict, or,
        with ``read_damaged`` (``companion doctor``), before returning, a damaged store then
        being opened read-only (``db.damaged`` says why) instead of refused.
        """
        existing = str(path) != ":memory:" and Path(path).is_file() and Path(path).stat().st_size > 0
        db = Database(path)
        check: integrity.OpenCheck | None = None
        try:
            if existing:
                check = integrity.OpenCheck(db)
                if read_damaged and check.verdict() is not None:
                    return cls(db, files)
                db.gate_writes(check.gate)
            # Deleted content is overwritten on disk, not just unlinked: forget means forget.
            db.execute("PRAGMA secure_delete = ON")
            migrations.migrate(db)
            store = cls(db, files)
            store._check = check
            store.files.sweep(db)          # files a forget scheduled before a crash
        except BaseException:
            if check is not None:
                check.cancel()
            db.close()
            raise
        return store

    def verify(self) -> None:
        """Wait for the check :meth:`open` started; ``StoreDamagedError`` when the file is damaged.

        The command line calls this before it prints, so that a read which happened to miss the
        damaged pages is not shown as the whole truth ("No memories yet").
        """
        if self._check is not None:
            self._check.verdict()
        if self.db.damaged is not None:
            raise StoreDamagedError(self.db.damaged)

    def close(self) -> None:
        if self._check is not None:
            self._check.cancel()       # a short command need not wait for the whole file to be read
        self.db.close()

    def forget_concept(self, concept_id: int, also_faces: Iterable[int] = ()) -> ForgetReport:
        """Remove a concept and everything about it (``store/forget.py``); ``also_faces`` are faces
        recognised through its keys outside its named group (``recognition.forget_concept`` finds them)."""
        return forget.forget_concept(self.db, self.files, concept_id, also_faces)

    def forget_memory(self, memory_id: int) -> bool:
        """Remove a memory, the sentences it came from and what was built from them (``store/forget.py``)."""
        return forget.forget_memory(self.db, self.files, memory_id)

    def checkpoint(self) -> bool:
        """Copy the WAL into the database and truncate it; False when a reader elsewhere kept it."""
        return self.db.checkpoint()

    def stats(self) -> dict[str, int]:
        return {
            "photos": self.photos.count(),
            "faces": self.faces.count(),
            "concepts": self.concepts.count(),
            "observations": self.observations.count(),
            "turns": self.conversations.count_turns(),
            "memories": self.memories.count(),
        }
