"""The store facade: opens and migrates the database and owns the repositories.

"Forget" lives here because it spans every table: a forgotten concept or
memory leaves no row, vector, FTS entry or reference image behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from companion.core.store import migrations
from companion.core.store.concepts import ConceptRepo
from companion.core.store.conversations import ConversationRepo, fts_query
from companion.core.store.db import Database
from companion.core.store.faces import FaceRepo
from companion.core.store.imports import ImportRepo
from companion.core.store.memories import MemoryRepo
from companion.core.store.observations import ObservationRepo
from companion.core.store.persona import PersonaRepo
from companion.core.store.photos import PhotoRepo
from companion.core.store.triggers import TriggerRepo
from companion.core.store.vectors import VectorIndexes


@dataclass
class ForgetReport:
    """What a forget removed, so the user can be told."""

    name: str
    memories: int = 0
    observations: int = 0
    faces: int = 0
    turns: int = 0
    files: list[str] = field(default_factory=list)


class Store:
    """One profile's memory: photos, faces, concepts, conversations, memories."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # In-memory copies of the vector tables, kept in step with the database (store/vectors.py).
        self.vectors = VectorIndexes(db)
        self.photos = PhotoRepo(db, self.vectors)
        self.faces = FaceRepo(db, self.vectors)
        self.concepts = ConceptRepo(db, self.vectors)
        self.observations = ObservationRepo(db)
        self.conversations = ConversationRepo(db)
        self.memories = MemoryRepo(db, self.vectors)
        self.triggers = TriggerRepo(db)
        self.persona = PersonaRepo(db)
        self.imports = ImportRepo(db)

    @classmethod
    def open(cls, path: Path | str) -> "Store":
        db = Database(path)
        try:
            # Deleted content is overwritten on disk, not just unlinked: forget means forget.
            db.execute("PRAGMA secure_delete = ON")
            migrations.migrate(db)
        except BaseException:
            db.close()
            raise
        return cls(db)

    def close(self) -> None:
        self.db.close()

    def forget_concept(self, concept_id: int) -> ForgetReport:
        """Remove a concept and everything about it.

        That is its card, reference keys and images, its faces (rows and
        vectors), observations, triggers, the memories linked to it (or just
        the link, when a memory also concerns others) and the user's turns
        that named it, with their FTS entries.
        """
        concept = self.concepts.require(concept_id)
        report = ForgetReport(concept.name)
        with self.db.transaction() as conn:
            # Collect reference files first: deleting faces cascades to their keys.
            report.files = [r[0] for r in conn.execute(
                "SELECT image_path FROM concept_refs WHERE concept_id = ? AND image_path IS NOT NULL", (concept_id,))]
            report.observations = conn.execute("SELECT count(*) FROM observations WHERE concept_id = ?",
                                               (concept_id,)).fetchone()[0]
            turn_ids = {r[0] for r in conn.execute(
                "SELECT turn_id FROM observations WHERE concept_id = ? AND turn_id IS NOT NULL", (concept_id,))}
            query = fts_query(concept.name)
            if query:
                phrase = '"' + concept.name.replace('"', " ") + '"'
                turn_ids |= {r[0] for r in conn.execute(
                    "SELECT rowid FROM turns_fts WHERE turns_fts MATCH ?", (phrase,))}
            face_ids = [r[0] for r in conn.execute(
                "SELECT f.id FROM faces f JOIN face_clusters c ON c.id = f.cluster_id WHERE c.concept_id = ?",
                (concept_id,))]
            for memory_id, links in conn.execute(
                    "SELECT m.memory_id, (SELECT count(*) FROM memory_concepts x WHERE x.memory_id = m.memory_id) "
                    "FROM memory_concepts m WHERE m.concept_id = ?", (concept_id,)).fetchall():
                if links == 1:
                    conn.execute("DELETE FROM memories WHERE id = ?", (memory_id,))
                    report.memories += 1
            # Memories derived from the forgotten turns go too.
            for turn_id in turn_ids:
                for (memory_id,) in conn.execute("SELECT memory_id FROM memory_turns WHERE turn_id = ?",
                                                 (turn_id,)).fetchall():
                    report.memories += conn.execute("DELETE FROM memories WHERE id = ?", (memory_id,)).rowcount
            conn.executemany("DELETE FROM faces WHERE id = ?", [(f,) for f in face_ids])
            report.faces = len(face_ids)
            conn.executemany("DELETE FROM turns WHERE id = ?", [(t,) for t in turn_ids])
            report.turns = len(turn_ids)
            conn.execute("DELETE FROM concepts WHERE id = ?", (concept_id,))
        self._purge_text_indexes()
        for file in report.files:
            Path(file).unlink(missing_ok=True)
        return report

    def forget_memory(self, memory_id: int) -> bool:
        removed = self.memories.delete(memory_id)
        self._purge_text_indexes()
        return removed

    def _purge_text_indexes(self) -> None:
        # Merge FTS segments so deleted terms do not linger in old b-tree pages.
        for table in ("memories_fts", "turns_fts"):
            self.db.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")

    def stats(self) -> dict[str, int]:
        return {
            "photos": self.photos.count(),
            "faces": self.faces.count(),
            "concepts": self.concepts.count(),
            "observations": self.observations.count(),
            "turns": self.conversations.count_turns(),
            "memories": self.memories.count(),
        }
