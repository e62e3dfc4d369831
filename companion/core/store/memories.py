"""Timestamped memories (semantic / episodic / procedural / core) with FTS5 and vectors."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from companion.core.errors import InvalidInputError, NotFoundError
from companion.core.store import vectors
from companion.core.store.conversations import COMMON, PRUNE_FROM, fts_query, fts_words
from companion.core.store.db import Database, Row, from_iso, inserted_id, now, time_range, timestamp, to_iso
from companion.core.store.places import PlaceFilter
from companion.core.store.vectors import VectorIndexes
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
    speaker: str = ""           # who said it ("" is the user)
    subject: str = ""           # whom it is about ("" is the user)
    origin: str = ""            # the app it was imported from as a memory ("chatgpt"); "" learnt here


class MemoryRepo:
    def __init__(self, db: Database, indexes: VectorIndexes) -> None:
        self.db = db
        self.index = indexes["vec_memories"]

    def _memories(self, rows: builtins.list[Row]) -> builtins.list[Memory]:
        """Memories for rows of ``memories``, with their links read in two queries for all of them."""
        ids = [int(r["id"]) for r in rows]
        concepts: dict[int, builtins.list[int]] = {i: [] for i in ids}
        turns: dict[int, builtins.list[int]] = {i: [] for i in ids}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for memory_id, concept_id in self.db.query(f"SELECT memory_id, concept_id FROM memory_concepts WHERE "
                                                       f"memory_id IN ({marks}) ORDER BY concept_id", chunk):
                concepts[memory_id].append(concept_id)
            for memory_id, turn_id in self.db.query(f"SELECT memory_id, turn_id FROM memory_turns WHERE "
                                                    f"memory_id IN ({marks}) ORDER BY turn_id", chunk):
                turns[memory_id].append(turn_id)
        return [Memory(id=row["id"], kind=row["kind"], content=row["content"],
                       keywords=[k for k in row["keywords"].split(", ") if k], time=from_iso(row["time"]),
                       place=row["place"], action=row["action"], concept_ids=concepts[row["id"]],
                       source_turn_ids=turns[row["id"]], created_at=from_iso(row["created_at"]) or now(),
                       updated_at=from_iso(row["updated_at"]) or now(), session_id=row["session_id"],
                       speaker=row["speaker"], subject=row["subject"], origin=row["origin"])
                for row in rows]

    def add(self, memory: NewMemory, embedding: np.ndarray | None = None) -> int:
        if memory.kind not in MEMORY_KINDS:
            raise InvalidInputError(f"memory kind must be one of {', '.join(MEMORY_KINDS)}")
        if not memory.content.strip():
            raise InvalidInputError("a memory needs some content")
        stamp = to_iso(now())
        with self.db.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO memories (kind, content, keywords, time, ts, place, action, session_id, created_at, "
                "updated_at, speaker, subject, origin) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (memory.kind, memory.content.strip(), ", ".join(memory.keywords), to_iso(memory.time),
                 timestamp(memory.time), memory.place, memory.action, memory.session_id, stamp, stamp,
                 memory.speaker, memory.subject, memory.origin))
            memory_id = inserted_id(cur)
            conn.executemany("INSERT OR IGNORE INTO memory_concepts (memory_id, concept_id) VALUES (?, ?)",
                             [(memory_id, c) for c in memory.concept_ids])
            conn.executemany("INSERT OR IGNORE INTO memory_turns (memory_id, turn_id) VALUES (?, ?)",
                             [(memory_id, t) for t in memory.source_turn_ids])
            if embedding is not None:
                vectors.put(conn, "vec_memories", memory_id, embedding, replace=False)
            return memory_id

    def get(self, memory_id: int) -> Memory | None:
        row = self.db.query_one("SELECT * FROM memories WHERE id = ?", (memory_id,))
        return self._memories([row])[0] if row else None

    def get_many(self, memory_ids: builtins.list[int]) -> dict[int, Memory]:
        """id -> memory for those of ``memory_ids`` that exist."""
        rows: builtins.list[Row] = []
        for start in range(0, len(memory_ids), 500):
            chunk = memory_ids[start:start + 500]
            rows += self.db.query(f"SELECT * FROM memories WHERE id IN ({','.join('?' * len(chunk))})", chunk)
        return {m.id: m for m in self._memories(rows)}

    def require(self, memory_id: int) -> Memory:
        memory = self.get(memory_id)
        if memory is None:
            raise NotFoundError(f"no memory with id {memory_id}")
        return memory

    def list(self, kind: str | None = None, *, concept_id: int | None = None, limit: int = 200,
             since: datetime | None = None, until: datetime | None = None,
             place: PlaceFilter | None = None) -> builtins.list[Memory]:
        """Newest first, filtered by kind, linked concept, time window and place."""
        where: builtins.list[str] = ["1=1"]
        params: builtins.list[object] = []
        if place:
            condition, values = place.label_sql("place")
            where.append(condition)
            params += values
        if kind:
            where.append("kind = ?")
            params.append(kind)
        if concept_id is not None:
            where.append("id IN (SELECT memory_id FROM memory_concepts WHERE concept_id = ?)")
            params.append(concept_id)
        conditions, values = time_range("ts", since, until, inclusive_end=True)
        where += conditions
        params += values
        rows = self.db.query(f"SELECT * FROM memories WHERE {' AND '.join(where)} "
                             "ORDER BY ts DESC NULLS LAST, id DESC LIMIT ?", (*params, limit))
        return self._memories(rows)

    def with_keyword(self, keyword: str, kind: str | None = None, *, limit: int = 2000) -> builtins.list[Memory]:
        """Memories carrying exactly ``keyword``, newest first (found through the FTS keywords column)."""
        query = fts_query(keyword)
        if not query:
            return []
        sql = ("SELECT m.* FROM memories_fts f JOIN memories m ON m.id = f.rowid WHERE memories_fts MATCH ?"
               + (" AND m.kind = ?" if kind else "") + " ORDER BY m.ts DESC NULLS LAST, m.id DESC")
        params: builtins.list[object] = [f"keywords : ({query})", *([kind] if kind else [])]
        found = [m for m in self._memories(self.db.query(sql, params)) if keyword in m.keywords]
        return found[:limit]

    def about(self, concept_id: int, name: str, limit: int = 20) -> builtins.list[Memory]:
        """Semantic memories linked to a concept, those that start with its name first ("Anna now works
        as ..."), then newest first: the candidates for what the user said *about* someone."""
        rows = self.db.query(
            "SELECT m.* FROM memory_concepts c JOIN memories m ON m.id = c.memory_id "
            "WHERE c.concept_id = ? AND m.kind = 'semantic' "
            "ORDER BY (m.content LIKE ? OR m.content LIKE ?) DESC, m.ts DESC NULLS LAST, m.id DESC LIMIT ?",
            (concept_id, f"{name}%", f"my % {name}%", limit))
        return self._memories(rows)

    def edit(self, memory_id: int, *, content: str | None = None, keywords: builtins.list[str] | None = None,
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
                vectors.put(conn, "vec_memories", memory_id, embedding)
        return self.require(memory_id)

    def delete(self, memory_id: int) -> bool:
        """Remove a memory with its links, FTS entry and vector (triggers do the last two)."""
        cur = self.db.execute("DELETE FROM memories WHERE id = ?", (memory_id,))
        return cur.rowcount > 0

    def delete_kind(self, kind: str) -> None:
        self.db.execute("DELETE FROM memories WHERE kind = ?", (kind,))

    def search_text(self, text: str, limit: int = 10) -> builtins.list[tuple[int, float]]:
        """(memory id, bm25 rank; lower is better) by full-text search.

        Once there are :data:`PRUNE_FROM` memories, words found in more than one memory in
        :data:`COMMON` ("the", "and", "in", "I", in any language) are left out of the query.
        bm25 weighs them little (IDF <= ln 9 against ~ln 2000 for a name in 5 of 10k memories;
        none at all from one in two), but ranking every memory that contains one cost 32 ms at
        10k memories (benchmarks/README.md, "Scale"). Memories that share only such words
        with the question are no longer listed after the real matches; the vector half of
        the hybrid search still finds what they mean.
        """
        words = fts_words(text)
        total = self.count() if len(words) > 1 else 0
        if total >= PRUNE_FROM:
            cut = max(1, total // COMMON)
            counts = self.db.query(" UNION ALL ".join(
                ["SELECT count(*) FROM (SELECT rowid FROM memories_fts WHERE memories_fts MATCH ? LIMIT ?)"]
                * len(words)), [v for w in words for v in (w, cut)])
            words = [w for w, (n,) in zip(words, counts, strict=True) if n < cut]
        if not words:
            return []
        return [(int(r["rowid"]), float(r["rank"])) for r in self.db.query(
            "SELECT rowid, rank FROM memories_fts WHERE memories_fts MATCH ? ORDER BY rank LIMIT ?",
            (" OR ".join(words), limit))]

    def search_vector(self, query: np.ndarray, limit: int = 10) -> builtins.list[tuple[int, float]]:
        """(memory id, cosine distance) of the nearest memories."""
        return self.index.search(query, limit)

    def ids_for_concept(self, concept_id: int) -> builtins.list[int]:
        return [int(r[0]) for r in self.db.query("SELECT memory_id FROM memory_concepts WHERE concept_id = ?",
                                                 (concept_id,))]

    def count(self) -> int:
        row = self.db.query_one("SELECT count(*) AS n FROM memories")
        return int(row["n"]) if row else 0
