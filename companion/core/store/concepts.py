"""Concepts (RAP-style cards) and their reference keys (face or image embeddings)."""

from __future__ import annotations

import builtins
import re

import numpy as np

from companion.core.errors import InvalidInputError, NotFoundError
from companion.core.store import vectors
from companion.core.store.db import Database, IntegrityError, Row, from_iso, inserted_id, now, to_iso
from companion.core.store.files import ProfileFiles
from companion.core.store.vectors import VectorIndexes
from companion.core.types import CATEGORIES, Box, Concept, ConceptRef


def _concept(row: Row) -> Concept:
    created = from_iso(row["created_at"])
    updated = from_iso(row["updated_at"])
    assert created is not None and updated is not None
    return Concept(row["id"], row["name"], row["category"], row["info"], created, updated)


def _ref(row: Row, files: ProfileFiles) -> ConceptRef:
    box = None
    if row["box_left"] is not None:
        box = Box(row["box_left"], row["box_top"], row["box_right"], row["box_bottom"])
    return ConceptRef(row["id"], row["concept_id"], row["kind"], files.from_row("concept_images", row["image_path"]),
                      box, row["face_id"], row["photo_id"])


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _check(name: str, category: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise InvalidInputError("a concept needs a name")
    if _CONTROL.search(name):      # an escape sequence in a name would act on every terminal that lists it
        raise InvalidInputError(f"a name cannot hold control characters: {name!r}")
    if category not in CATEGORIES:
        raise InvalidInputError(f"category must be one of {', '.join(CATEGORIES)} (got {category!r})")
    return name


def _key_table(kind: str) -> str:
    return "vec_ref_faces" if kind == "face" else "vec_ref_images"


class ConceptRepo:
    def __init__(self, db: Database, indexes: VectorIndexes, files: ProfileFiles | None = None) -> None:
        self.db = db
        self.indexes = indexes
        self.files = files or ProfileFiles()

    def add(self, name: str, category: str, info: str = "") -> Concept:
        name = _check(name, category)
        stamp = to_iso(now())
        try:
            cur = self.db.execute(
                "INSERT INTO concepts (name, category, info, created_at, updated_at) VALUES (?,?,?,?,?)",
                (name, category, info.strip(), stamp, stamp))
        except IntegrityError as exc:
            raise InvalidInputError(f"a concept named {name!r} already exists") from exc
        return self.require(inserted_id(cur))

    def get(self, concept_id: int) -> Concept | None:
        row = self.db.query_one("SELECT * FROM concepts WHERE id = ?", (concept_id,))
        return _concept(row) if row else None

    def require(self, concept_id: int) -> Concept:
        concept = self.get(concept_id)
        if concept is None:
            raise NotFoundError(f"no concept with id {concept_id}")
        return concept

    def by_name(self, name: str) -> Concept | None:
        row = self.db.query_one("SELECT * FROM concepts WHERE name = ? COLLATE NOCASE", (" ".join(name.split()),))
        return _concept(row) if row else None

    def resolve(self, ref: str) -> Concept:
        """A concept by id or by name (what the CLI accepts)."""
        concept = self.get(int(ref)) if ref.isdigit() else self.by_name(ref)
        if concept is None:
            raise NotFoundError(f"no concept called {ref!r}")
        return concept

    def list(self, category: str | None = None) -> builtins.list[Concept]:
        if category:
            rows = self.db.query("SELECT * FROM concepts WHERE category = ? ORDER BY name COLLATE NOCASE", (category,))
        else:
            rows = self.db.query("SELECT * FROM concepts ORDER BY name COLLATE NOCASE")
        return [_concept(r) for r in rows]

    def names(self, categories: tuple[str, ...] = ()) -> builtins.list[str]:
        """Every concept's name (of ``categories``, else all), sorted (a question reads them all: no rows to
        hydrate)."""
        if categories:
            return [r[0] for r in self.db.query(
                f"SELECT name FROM concepts WHERE category IN ({','.join('?' * len(categories))}) "
                "ORDER BY name COLLATE NOCASE", categories)]
        return [r[0] for r in self.db.query("SELECT name FROM concepts ORDER BY name COLLATE NOCASE")]

    def named_in(self, text: str) -> builtins.list[Concept]:
        """Concepts whose name appears in ``text`` as whole words (case-insensitive)."""
        found = []
        folded = text.casefold()
        # A cheap test on the names first: 500 full rows and 500 regexes cost 5 ms a question.
        candidates = [int(r[0]) for r in self.db.query("SELECT id, name FROM concepts ORDER BY name COLLATE NOCASE")
                      if r[1].casefold() in folded]
        for concept in (c for c in map(self.get, candidates) if c is not None):
            pattern = r"(?<!\w)" + re.escape(concept.name) + r"(?:'s)?(?!\w)"
            if re.search(pattern, text, flags=re.IGNORECASE):
                found.append(concept)
        # Longer names first, so "Anna Maria" wins over "Anna" when both match.
        return sorted(found, key=lambda c: -len(c.name))

    def edit(self, concept_id: int, *, name: str | None = None, category: str | None = None,
             info: str | None = None) -> Concept:
        current = self.require(concept_id)
        new_name = _check(name if name is not None else current.name,
                          category if category is not None else current.category)
        try:
            self.db.execute("UPDATE concepts SET name=?, category=?, info=?, updated_at=? WHERE id=?",
                            (new_name, category or current.category,
                             info.strip() if info is not None else current.info, to_iso(now()), concept_id))
        except IntegrityError as exc:
            raise InvalidInputError(f"a concept named {new_name!r} already exists") from exc
        return self.require(concept_id)

    # ---- reference keys ------------------------------------------------------------

    def add_ref(self, concept_id: int, kind: str, embedding: np.ndarray | None, *, image_path: str | None = None,
                box: Box | None = None, face_id: int | None = None, photo_id: int | None = None) -> int:
        """A key of the concept; ``embedding`` None keeps a reference photo whose model is not installed yet
        (``pending_refs``; ``set_ref_vector`` completes it)."""
        coords = box.as_list() if box else [None] * 4
        with self.db.transaction() as conn:
            if face_id is not None:
                existing = conn.execute("SELECT id FROM concept_refs WHERE face_id = ?", (face_id,)).fetchone()
                if existing:
                    conn.execute("DELETE FROM concept_refs WHERE id = ?", (existing["id"],))
            cur = conn.execute(
                "INSERT INTO concept_refs (concept_id, kind, image_path, box_left, box_top, box_right, box_bottom, "
                "face_id, photo_id, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (concept_id, kind, self.files.to_row("concept_images", image_path), *coords, face_id, photo_id,
                 to_iso(now())))
            ref_id = inserted_id(cur)
            if embedding is not None:
                vectors.put(conn, _key_table(kind), ref_id, embedding, replace=False)
            conn.execute("UPDATE concepts SET updated_at = ? WHERE id = ?", (to_iso(now()), concept_id))
            return ref_id

    def pending_refs(self, kind: str = "image") -> builtins.list[ConceptRef]:
        """Reference photos kept without a vector (added while their model was missing), oldest first."""
        table = _key_table(kind)
        return [_ref(r, self.files) for r in self.db.query(
            f"SELECT r.* FROM concept_refs r LEFT JOIN {table} v ON v.ref_id = r.id "
            "WHERE r.kind = ? AND v.ref_id IS NULL AND r.image_path IS NOT NULL ORDER BY r.id", (kind,))]

    def set_ref_vector(self, ref_id: int, kind: str, embedding: np.ndarray) -> None:
        with self.db.transaction() as conn:
            vectors.put(conn, _key_table(kind), ref_id, embedding, replace=True)

    def refs(self, concept_id: int) -> builtins.list[ConceptRef]:
        return [_ref(r, self.files) for r in self.db.query(
            "SELECT * FROM concept_refs WHERE concept_id = ? ORDER BY id", (concept_id,))]

    def delete(self, concept_id: int) -> None:
        """Remove a card with what hangs on it by foreign key (keys, sightings, the link of its face group).

        For a card made a moment ago by mistake (an undone naming); forgetting a person
        everywhere is ``Store.forget_concept``.
        """
        self.db.execute("DELETE FROM concepts WHERE id = ?", (concept_id,))

    def remove_refs_for_faces(self, face_ids: builtins.list[int]) -> None:
        self.db.conn.executemany("DELETE FROM concept_refs WHERE face_id = ?", [(f,) for f in face_ids])

    def match(self, kind: str, query: np.ndarray, max_distance: float, k: int = 8) -> builtins.list[tuple[int, float]]:
        """(concept id, best cosine distance) for concepts with a key within ``max_distance``."""
        hits = [(ref_id, d) for ref_id, d in self.indexes[_key_table(kind)].search(query, k) if d <= max_distance]
        if not hits:
            return []
        marks = ",".join("?" * len(hits))
        owner = {int(r[0]): int(r[1]) for r in self.db.query(
            f"SELECT id, concept_id FROM concept_refs WHERE id IN ({marks})", [ref_id for ref_id, _ in hits])}
        best: dict[int, float] = {}
        for ref_id, distance in hits:
            concept_id = owner.get(ref_id)
            if concept_id is not None and concept_id not in best:
                best[concept_id] = distance
        return sorted(best.items(), key=lambda item: item[1])

    def nearest_concepts(self, kind: str, query: np.ndarray, k: int) -> tuple[builtins.list[tuple[int, float]], float]:
        """(concept id, best distance) among the ``k`` nearest keys, nearest first, and the horizon: how far
        the k-th key read is (2.0, the largest cosine distance, when there are fewer keys). A concept not
        listed is at least that far."""
        hits = self.indexes[_key_table(kind)].search(query, k)
        horizon = hits[-1][1] if len(hits) >= k else 2.0
        if not hits:
            return [], horizon
        marks = ",".join("?" * len(hits))
        owner = {int(r[0]): int(r[1]) for r in self.db.query(
            f"SELECT id, concept_id FROM concept_refs WHERE id IN ({marks})", [ref_id for ref_id, _ in hits])}
        best: dict[int, float] = {}
        for ref_id, distance in hits:
            concept_id = owner.get(ref_id)
            if concept_id is not None and concept_id not in best:
                best[concept_id] = distance
        return sorted(best.items(), key=lambda item: item[1]), horizon

    def ref_embeddings(self, kind: str) -> builtins.list[tuple[int, np.ndarray]]:
        """Every (concept id, key) of a kind, for re-matching photos without models."""
        table = _key_table(kind)
        rows = self.db.query(f"SELECT r.concept_id, v.embedding FROM {table} v JOIN concept_refs r ON r.id = v.ref_id")
        return [(int(r["concept_id"]), np.frombuffer(r["embedding"], dtype="<f4").copy()) for r in rows]

    def count(self) -> int:
        row = self.db.query_one("SELECT count(*) AS n FROM concepts")
        return int(row["n"]) if row else 0
