"""Faces found in photos, their identity vectors, and the face groups (clusters)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from companion.core.store import vectors
from companion.core.store.db import Connection, Database, Row, inserted_id, now, to_iso
from companion.core.store.vectors import VectorIndexes
from companion.core.types import Box, Face, FaceSuggestion


@dataclass(frozen=True)
class FaceCluster:
    """A group of faces believed to be one person; ``concept_id`` once named."""

    id: int
    concept_id: int | None
    size: int
    sample_face_ids: list[int]


def _face(row: Row) -> Face:
    return Face(id=row["id"], photo_id=row["photo_id"],
                box=Box(row["box_left"], row["box_top"], row["box_right"], row["box_bottom"]),
                score=row["score"], concept_id=row["concept_id"] if "concept_id" in row.keys() else None,
                cluster_id=row["cluster_id"], quality=row["quality"])


# A question about a face is moot once the face is someone's (its group was named, or it was merged).
_STILL_NOBODYS = "LEFT JOIN face_clusters c ON c.id = f.cluster_id"

_FACE_SELECT = ("SELECT f.*, c.concept_id AS concept_id FROM faces f "
                "LEFT JOIN face_clusters c ON c.id = f.cluster_id")


class FaceRepo:
    def __init__(self, db: Database, indexes: VectorIndexes) -> None:
        self.db = db
        self.index = indexes["vec_faces"]

    def add(self, photo_id: int, box: Box, score: float, embedding: np.ndarray, quality: float = 1.0) -> int:
        with self.db.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO faces (photo_id, box_left, box_top, box_right, box_bottom, score, quality) "
                "VALUES (?,?,?,?,?,?,?)", (photo_id, *box.as_list(), score, quality))
            face_id = inserted_id(cur)
            vectors.put(conn, "vec_faces", face_id, embedding, replace=False)
            return face_id

    def replace_for_photo(self, photo_id: int) -> None:
        """Drop a photo's faces before it is re-analysed (a changed file)."""
        self.db.execute("DELETE FROM faces WHERE photo_id = ?", (photo_id,))

    def get(self, face_id: int) -> Face | None:
        row = self.db.query_one(_FACE_SELECT + " WHERE f.id = ?", (face_id,))
        return _face(row) if row else None

    def for_photo(self, photo_id: int) -> list[Face]:
        return [_face(r) for r in self.db.query(_FACE_SELECT + " WHERE f.photo_id = ? ORDER BY f.box_left",
                                                (photo_id,))]

    def in_cluster(self, cluster_id: int) -> list[Face]:
        return [_face(r) for r in self.db.query(_FACE_SELECT + " WHERE f.cluster_id = ? ORDER BY f.id",
                                                (cluster_id,))]

    def of_concept(self, concept_id: int) -> list[Face]:
        return [_face(r) for r in self.db.query(_FACE_SELECT + " WHERE c.concept_id = ? ORDER BY f.id",
                                                (concept_id,))]

    def embedding(self, face_id: int) -> np.ndarray:
        row = self.db.query_one("SELECT embedding FROM vec_faces WHERE face_id = ?", (face_id,))
        if row is None:
            raise KeyError(face_id)
        return np.frombuffer(row["embedding"], dtype="<f4").copy()

    def nearest(self, query: np.ndarray, k: int, max_distance: float) -> list[tuple[int, float]]:
        """(face id, cosine distance) of the k nearest faces within ``max_distance``."""
        return [(face_id, d) for face_id, d in self.index.search(query, k) if d <= max_distance]

    def unclustered(self, min_quality: float = 0.0) -> list[int]:
        """Faces in no group (of at least ``min_quality``: blurred strangers are never grouped), oldest first."""
        return [int(r["id"]) for r in self.db.query(
            "SELECT id FROM faces WHERE cluster_id IS NULL AND quality >= ? ORDER BY id", (min_quality,))]

    # ---- clusters -------------------------------------------------------------------

    def new_cluster(self, concept_id: int | None = None) -> int:
        cur = self.db.execute("INSERT INTO face_clusters (created_at, concept_id) VALUES (?, ?)",
                              (to_iso(now()), concept_id))
        return inserted_id(cur)

    def set_cluster(self, face_ids: list[int], cluster_id: int | None, source: str = "auto") -> None:
        with self.db.transaction() as conn:
            before = set(self.cluster_ids(face_ids).values())
            conn.executemany("UPDATE faces SET cluster_id = ?, cluster_source = ? WHERE id = ?",
                             [(cluster_id, source, f) for f in face_ids])
            self._drop_empty(conn, before)

    def clusters(self, *, named: bool | None = None, min_size: int = 1, min_photos: int = 1) -> list[FaceCluster]:
        """Face groups, largest first; ``named=False`` gives those waiting for a name.

        ``min_photos``: only groups whose faces come from at least that many photos (one person is in a
        photo once: a "group" from one photo is several strangers standing together), or that the user made.
        """
        sql = ("SELECT c.id, c.concept_id, count(f.id) AS size, count(DISTINCT f.photo_id) AS photos, "
               "max(f.cluster_source = 'user') AS by_user, "
               "group_concat(f.id) AS ids FROM face_clusters c JOIN faces f ON f.cluster_id = c.id")
        if named is True:
            sql += " WHERE c.concept_id IS NOT NULL"
        elif named is False:
            sql += " WHERE c.concept_id IS NULL"
        sql += " GROUP BY c.id HAVING size >= ? AND (photos >= ? OR by_user) ORDER BY size DESC, c.id"
        return [FaceCluster(r["id"], r["concept_id"], r["size"], [int(x) for x in r["ids"].split(",")][:12])
                for r in self.db.query(sql, (min_size, min_photos))]

    def cluster_concepts(self, cluster_ids: set[int]) -> dict[int, int]:
        """cluster id -> concept id, for the named ones among ``cluster_ids``."""
        if not cluster_ids:
            return {}
        marks = ",".join("?" * len(cluster_ids))
        return {int(r[0]): int(r[1]) for r in self.db.query(
            f"SELECT id, concept_id FROM face_clusters WHERE concept_id IS NOT NULL AND id IN ({marks})",
            tuple(cluster_ids))}

    def cluster(self, cluster_id: int) -> FaceCluster | None:
        row = self.db.query_one(
            "SELECT c.id, c.concept_id, count(f.id) AS size, group_concat(f.id) AS ids FROM face_clusters c "
            "JOIN faces f ON f.cluster_id = c.id WHERE c.id = ? GROUP BY c.id", (cluster_id,))
        if row is None:
            return None
        return FaceCluster(row["id"], row["concept_id"], row["size"], [int(x) for x in row["ids"].split(",")][:12])

    def cluster_of_concept(self, concept_id: int) -> int | None:
        row = self.db.query_one("SELECT id FROM face_clusters WHERE concept_id = ? ORDER BY id LIMIT 1",
                                (concept_id,))
        return int(row["id"]) if row else None

    def name_cluster(self, cluster_id: int, concept_id: int) -> None:
        """Give a face group to a concept, merging into the concept's existing group."""
        with self.db.transaction() as conn:
            existing = conn.execute("SELECT id FROM face_clusters WHERE concept_id = ? AND id != ? LIMIT 1",
                                    (concept_id, cluster_id)).fetchone()
            if existing:
                conn.execute("UPDATE faces SET cluster_id = ? WHERE cluster_id = ?", (existing["id"], cluster_id))
            else:
                conn.execute("UPDATE face_clusters SET concept_id = ? WHERE id = ?", (concept_id, cluster_id))
            conn.execute("UPDATE faces SET cluster_source = 'user' WHERE cluster_id = ?",
                         (existing["id"] if existing else cluster_id,))
            self._drop_empty(conn, {cluster_id})

    def merge(self, source_id: int, target_id: int) -> None:
        with self.db.transaction() as conn:
            conn.execute("UPDATE faces SET cluster_id = ?, cluster_source = 'user' WHERE cluster_id = ?",
                         (target_id, source_id))
            self._drop_empty(conn, {source_id})

    def split(self, face_ids: list[int]) -> int:
        """Move faces into a new group of their own; returns its id."""
        with self.db.transaction():
            cluster_id = self.new_cluster()
            self.set_cluster(face_ids, cluster_id, source="user")
            return cluster_id

    def remove(self, face_id: int) -> None:
        """Forget a face (a false detection, or the user says it is nobody they know)."""
        self.db.execute("DELETE FROM faces WHERE id = ?", (face_id,))

    @staticmethod
    def _drop_empty(conn: Connection, candidates: set[int | None]) -> None:
        """Remove the unnamed groups among ``candidates`` that no face is in any more.

        Only the groups faces just left can have become empty; sweeping every group cost a
        pass over all faces on each assignment.
        """
        conn.executemany("DELETE FROM face_clusters WHERE id = ? AND concept_id IS NULL AND NOT EXISTS "
                         "(SELECT 1 FROM faces WHERE cluster_id = ?)", [(c, c) for c in candidates if c is not None])

    # ---- added for the photo library (issue 3) ----------------------------------------

    def cluster_source(self, face_id: int) -> str | None:
        """'user' when the user placed the face (automatic matching must not move it), else 'auto'."""
        row = self.db.query_one("SELECT cluster_source FROM faces WHERE id = ?", (face_id,))
        return str(row["cluster_source"]) if row else None

    def cluster_ids(self, face_ids: list[int]) -> dict[int, int | None]:
        """face id -> cluster id (None when unclustered) for the given faces."""
        if not face_ids:
            return {}
        marks = ",".join("?" * len(face_ids))
        return {int(r["id"]): r["cluster_id"] for r in self.db.query(
            f"SELECT id, cluster_id FROM faces WHERE id IN ({marks})", tuple(face_ids))}

    def count(self) -> int:
        row = self.db.query_one("SELECT count(*) AS n FROM faces")
        return int(row["n"]) if row else 0

    # ---- suggestions ("Is this Matt?", issue 23) ---------------------------------------

    def suggest(self, face_id: int, concept_id: int, distance: float) -> bool:
        """Offer ``concept_id`` for a face; False when the user already said no to it (never asked twice)."""
        with self.db.transaction() as conn:
            row = conn.execute("SELECT status FROM face_suggestions WHERE face_id = ? AND concept_id = ?",
                               (face_id, concept_id)).fetchone()
            if row is not None and row["status"] == "rejected":
                return False
            conn.execute("INSERT INTO face_suggestions (face_id, concept_id, distance, status, created_at) "
                         "VALUES (?,?,?, 'open', ?) ON CONFLICT (face_id, concept_id) "
                         "DO UPDATE SET distance = excluded.distance", (face_id, concept_id, distance, to_iso(now())))
            return True

    def suggestions(self, concept_id: int | None = None, limit: int = 200) -> list[FaceSuggestion]:
        """Open suggestions (of one concept), closest first."""
        sql = ("SELECT s.face_id, s.concept_id, f.photo_id, s.distance FROM face_suggestions s "
               f"JOIN faces f ON f.id = s.face_id {_STILL_NOBODYS} WHERE s.status = 'open' AND c.concept_id IS NULL")
        args: tuple[object, ...] = ()
        if concept_id is not None:
            sql += " AND s.concept_id = ?"
            args = (concept_id,)
        sql += " ORDER BY s.distance, s.face_id LIMIT ?"
        return [FaceSuggestion(int(r[0]), int(r[1]), int(r[2]), float(r[3]))
                for r in self.db.query(sql, (*args, limit))]

    def suggestion(self, face_id: int, concept_id: int) -> FaceSuggestion | None:
        row = self.db.query_one(
            "SELECT s.face_id, s.concept_id, f.photo_id, s.distance FROM face_suggestions s "
            f"JOIN faces f ON f.id = s.face_id {_STILL_NOBODYS} "
            "WHERE s.face_id = ? AND s.concept_id = ? AND s.status = 'open' AND c.concept_id IS NULL",
            (face_id, concept_id))
        return FaceSuggestion(int(row[0]), int(row[1]), int(row[2]), float(row[3])) if row else None

    def rejected(self, face_id: int) -> set[int]:
        """The concepts the user said this face is not."""
        return {int(r[0]) for r in self.db.query(
            "SELECT concept_id FROM face_suggestions WHERE face_id = ? AND status = 'rejected'", (face_id,))}

    def reject_suggestion(self, face_id: int, concept_id: int) -> None:
        self.db.execute("UPDATE face_suggestions SET status = 'rejected' WHERE face_id = ? AND concept_id = ?",
                        (face_id, concept_id))

    def clear_open_suggestions(self, face_id: int) -> None:
        """The face's open questions are answered (it was assigned): rejections stay."""
        self.db.execute("DELETE FROM face_suggestions WHERE face_id = ? AND status = 'open'", (face_id,))

    def suggestion_count(self) -> int:
        row = self.db.query_one(f"SELECT count(*) AS n FROM face_suggestions s JOIN faces f ON f.id = s.face_id "
                                f"{_STILL_NOBODYS} WHERE s.status = 'open' AND c.concept_id IS NULL")
        return int(row["n"]) if row else 0
