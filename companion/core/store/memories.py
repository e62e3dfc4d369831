"""Timestamped memories (semantic / episodic / procedural / core) with FTS5 and vectors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from companion.core.errors import InvalidInputError, NotFoundError
from companion.core.store.conversations import fts_query
from companion.core.store.db import Database, Row, from_iso, now, timestamp, to_iso, vec_blob
from companion.core.types import MEMORY_KINDS, Memory


@dataclass(frozen=True)
class NewMemory:
    kind: str
    content: str
    keywords: tuple[str, ...] = ()
    time: datetime | None = None
    place: str = ""
    action: str = ""
    concept_ids: tuple[int, ...] = ()
    source_turn_ids: tuple[int, ...] = ()
    session_id: int | None = None


class MemoryRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _memory(self, row: Row) -> Memory:
        concepts = [r[0] for r in self.db.query(
            "SELECT concept_id FROM memory_concepts WHERE memory_id = ? ORDER BY concept_id", (row["id"],))]
        turns = [r[0] for r in self.db.query(
            "SELECT turn_id FROM memory_turns WHERE memory_id = ? ORDER BY turn_id", (row["id"],))]
        return Memory(id=row["id"], kind=row["kind"], content=row["content"],
                      keywords=[k for k in row["keywords"].split(", ") if k], time=from_iso(row["time"]),
                      place=row["place"], action=row["action"], concept_ids=concepts, source_turn_ids=turns,
                      created_at=from_iso(row["created_at"]) or now(), updated_at=from_iso(row["updated_at"]) or now(),
                      session_id=row["session_id"])

    def add(self, memory: NewMemory, embedding: np.ndarray | None = None) -> int:
        if memory.kind not in MEMORY_KINDS:
            raise InvalidInputError(f"memory kind must be one of {', '.join(MEMORY_KINDS)}")
        if not memory.content.strip():
            raise InvalidInputError("a memory needs some content")
        stamp = to_iso(now())
        with self.db.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO memories (kind, content, keywords, time, ts, place, action, session_id, created_at, "
                "updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (memory.kind, memory.content.strip(), ", ".join(memory.keywords), to_iso(memory.time),
                 timestamp(memory.time), memory.place, memory.action, memory.session_id, stamp, stamp))
            memory_id = int(cur.lastrowid)
            conn.executemany("INSERT OR IGNORE INTO memory_concepts (memory_id, concept_id) VALUES (?, ?)",
                             [(memory_id, c) for c in memory.concept_ids])
            conn.executemany("INSERT OR IGNORE INTO memory_turns (memory_id, turn_id) VALUES (?, ?)",
                             [(memory_id, t) for t in memory.source_turn_ids])
            if embedding is not None:
                conn.execute("INSERT INTO vec_memories (memory_id, embedding) VALUES (?, ?)",
                             (memory_id, vec_blob(embedding)))
            return memory_id

    def get(self, memory_id: int) -> Memory | None:
        row = self.db.query_one("SELECT * FROM memories WHERE id = ?", (memory_id,))
        return self._memory(row) if row else None

    def require(self, memory_id: int) -> Memory:
        memory = self.get(memory_id)
        if memory is None:
            raise NotFoundError(f"no memory with id {memory_id}")
        return memory

    def list(self, kind: str | None = None, *, concept_id: int | None = None, limit: int = 200,
             since: datetime | None = None, until: datetime | None = None) -> list[Memory]:
        """Newest first, filtered by kind, linked concept and time window."""
        where, params = ["1=1"], []
        if kind:
            where.append("kind = ?")
            params.append(kind)
        if concept_id is not None:
            where.append("id IN (SELECT memory_id FROM memory_concepts WHERE concept_id = ?)")
            params.append(concept_id)
        if since is not None:
            where.append("ts >= ?")
            params.append(timestamp(since))
        if until is not None:
            where.append("ts <= ?")
            params.append(timestamp(until))
        rows = self.db.query(f"SELECT * FROM memories WHERE {' AND '.join(where)} "
                             "ORDER BY ts DESC NULLS LAST, id DESC LIMIT ?", (*params, limit))
        return [self._memory(r) for r in rows]

    def edit(self, memory_id: int, *, content: str | None = None, keywords: list[str] | None = None,
             kind: str | None = None, embedding: np.ndarray | None = None) -> Memory:
        current = self.require(memory_id)
        if kind is not None and kind not in MEMORY_KINDS:
            raise InvalidInputError(f"memory kind must be one of {', '.join(MEMORY_KINDS)}")
        with self.db.transaction() as conn:
            conn.execute("UPDATE memories SET content = ?, keywords = ?, kind = ?, updated_at = ? WHERE id = ?",
                         ((content if content is not None else current.content).strip(),
                          ", ".join(keywords if keywords is not None else current.keywords),
                          kind or current.kind, to_iso(now()), memory_id))
            if embedding is not None:
                conn.execute("DELETE FROM vec_memories WHERE memory_id = ?", (memory_id,))
                conn.execute("INSERT INTO vec_memories (memory_id, embedding) VALUES (?, ?)",
                             (memory_id, vec_blob(embedding)))
        return self.require(memory_id)

    def delete(self, memory_id: int) -> bool:
        """Remove a memory with its links, FTS entry and vector (triggers do the last two)."""
        cur = self.db.execute("DELETE FROM memories WHERE id = ?", (memory_id,))
        return cur.rowcount > 0

    def delete_kind(self, kind: str) -> None:
        self.db.execute("DELETE FROM memories WHERE kind = ?", (kind,))

    def search_text(self, text: str, limit: int = 10) -> list[tuple[int, float]]:
        """(memory id, bm25 rank; lower is better) by full-text search."""
        query = fts_query(text)
        if not query:
            return []
        return [(int(r["rowid"]), float(r["rank"])) for r in self.db.query(
            "SELECT rowid, rank FROM memories_fts WHERE memories_fts MATCH ? ORDER BY rank LIMIT ?", (query, limit))]

    def search_vector(self, query: np.ndarray, limit: int = 10) -> list[tuple[int, float]]:
        """(memory id, cosine distance) of the nearest memories."""
        return [(int(r["memory_id"]), float(r["distance"])) for r in self.db.query(
            "SELECT memory_id, distance FROM vec_memories WHERE embedding MATCH ? AND k = ? ORDER BY distance",
            (vec_blob(query), limit))]

    def ids_for_concept(self, concept_id: int) -> list[int]:
        return [int(r[0]) for r in self.db.query("SELECT memory_id FROM memory_concepts WHERE concept_id = ?",
                                                 (concept_id,))]

    def count(self) -> int:
        row = self.db.query_one("SELECT count(*) AS n FROM memories")
        return int(row["n"]) if row else 0
