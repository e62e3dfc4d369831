"""Vector search from memory, with the database as the single source of truth.

Every vector (photos' CLIP embeddings, faces, concept keys, memories) is stored in a
sqlite-vec ``vec0`` table. sqlite-vec's KNN is a brute-force scan through SQLite: about
110 ms over 100k 512-d vectors, 8.5x a numpy product over the same vectors
(benchmarks/README.md), too slow for a question answered in milliseconds.
:class:`VectorIndex` keeps a normalised float32 copy of one table in memory, loaded on its
first search, and answers exactly what ``embedding MATCH ? AND k = ?`` answers (cosine).

Keeping the copy in step with the database:

- every write to a vector table goes through :func:`put` / :func:`remove`, and every delete
  that cascades from a row (a photo, face, key or memory) runs a trigger (migration 0005);
  both append the vector's id to ``vector_changes`` *in the same transaction*;
- before each search the index reads the log past the last sequence number it applied, in a
  read transaction on a private connection, so it only ever takes in committed data, written
  by this process or any other (the CLI indexer while the window is open), re-reads those
  vectors and patches itself;
- inside a write transaction the caller's own uncommitted changes are laid over the shared
  copy for that one search, never merged into it (a rollback must leave nothing behind).

A crash loses only the in-memory copy. A forget deletes rows and logs their ids in one
transaction, so no later search can return them; the in-memory row is zeroed at once.
The log keeps the newest :data:`LOG_KEEP` changes; an index further behind reloads in full.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from companion.core.store.db import Connection, Database, OperationalError, inserted_id, vec_blob
from companion.core.store.migrations import FACE_DIM, IMAGE_DIM, TEXT_DIM
from companion.core.vectors import unit_rows

LOG_KEEP = 100_000        # changes the log keeps (a few MB); an index further behind reloads
PRUNE_EVERY = 10_000      # prune when a sequence number is a multiple of this
PATCH_LIMIT = 5_000       # more changed ids than this: reload the table instead of patching
# A table this large is not loaded for its first search, which sqlite-vec answers (exactly) in a
# fraction of the load's time: a one-shot command (`companion search`) never pays the load
# (~1-2 s per 100k 512-d vectors, read from SQLite overflow pages), the window loads it in its
# warm-up (VectorIndexes.warm) or on the second search.
LOAD_ON_SECOND_SEARCH = 50_000
# Above this a table stays on disk and sqlite-vec answers every search: 1M photo vectors would
# hold 2 GB and take 1.5 minutes to load on these cores (benchmarks/README.md, "1M photos").
MAX_IN_MEMORY = 250_000
VEC0_K_MAX = 4096         # sqlite-vec's limit on k


@dataclass(frozen=True)
class VectorTable:
    name: str     # the vec0 table
    key: str      # its integer primary key
    dim: int


TABLES: dict[str, VectorTable] = {t.name: t for t in (
    VectorTable("vec_images", "photo_id", IMAGE_DIM),
    VectorTable("vec_faces", "face_id", FACE_DIM),
    VectorTable("vec_ref_faces", "ref_id", FACE_DIM),
    VectorTable("vec_ref_images", "ref_id", IMAGE_DIM),
    VectorTable("vec_memories", "memory_id", TEXT_DIM),
)}


# ---- writing (always inside the caller's transaction) ------------------------------------


def put(conn: Connection, table: str, item: int, vector: np.ndarray, *, replace: bool = True) -> None:
    """Store ``item``'s vector (replacing an old one unless ``replace`` is False) and log it."""
    spec = TABLES[table]
    if replace:
        conn.execute(f"DELETE FROM {table} WHERE {spec.key} = ?", (item,))
    conn.execute(f"INSERT INTO {table} ({spec.key}, embedding) VALUES (?, ?)", (item, vec_blob(vector)))
    log(conn, table, item)


def remove(conn: Connection, table: str, item: int) -> None:
    """Delete ``item``'s vector and log it."""
    conn.execute(f"DELETE FROM {table} WHERE {TABLES[table].key} = ?", (item,))
    log(conn, table, item)


def log(conn: Connection, table: str, item: int) -> None:
    seq = inserted_id(conn.execute("INSERT INTO vector_changes (tbl, item) VALUES (?, ?)", (table, item)))
    if seq % PRUNE_EVERY == 0:
        conn.execute("DELETE FROM vector_changes WHERE seq <= ?", (seq - LOG_KEEP,))
        conn.execute("UPDATE vector_log_state SET pruned_upto = max(pruned_upto, ?)", (seq - LOG_KEEP,))


# ---- the in-memory index --------------------------------------------------------------------


class _LayoutChanged(Exception):
    """sqlite-vec's chunk tables are not laid out as this version expects."""


@dataclass
class _Overlay:
    """Changes the caller's open transaction can see but the shared copy must not take in."""

    changed: np.ndarray      # ids whose shared rows are hidden
    ids: np.ndarray          # their current vectors (ids absent here were deleted)
    matrix: np.ndarray


class VectorIndex:
    """An exact in-memory copy of one vector table, loaded lazily, patched from the change log."""

    def __init__(self, db: Database, table: str) -> None:
        self.db = db
        self.spec = TABLES[table]
        self._lock = threading.Lock()
        self._reader: Connection | None = None
        self._seq = -1                                     # last applied change; -1 = not loaded
        self._ids = np.zeros(0, dtype=np.int64)
        self._matrix = np.zeros((0, self.spec.dim), dtype=np.float32)
        self._alive = np.zeros(0, dtype=bool)
        self._count = 0                                    # rows in use (alive or dead)
        self._row: dict[int, int] = {}
        self.load_seconds = 0.0                            # the last full load
        self.loads = 0
        self._searched_once = False

    # ---- public -------------------------------------------------------------------------

    def search(self, query: np.ndarray, k: int, *, offset: int = 0,
               only: Sequence[int] | np.ndarray | None = None) -> list[tuple[int, float]]:
        """(id, cosine distance) of the nearest vectors, nearest first, ranks ``offset..offset+k``.

        ``only`` (ids) restricts the search to those ids. Ties are broken by id.
        """
        if k <= 0:
            return []
        q = unit_rows(np.asarray(query, dtype=np.float32).reshape(-1))
        with self._lock:
            if self._on_disk(first_search_ok=only is None and offset + k <= VEC0_K_MAX):
                return self._disk_search(q, offset + k, only)[offset:offset + k]
            self._sync()
            overlay = self._overlay()
            ids, distances = self._distances(q, overlay)
        if only is not None:
            keep = np.isin(ids, np.asarray(only, dtype=np.int64))
            ids, distances = ids[keep], distances[keep]
        want = min(len(ids), offset + k)
        if want <= 0:
            return []
        if want < len(ids):
            part = np.argpartition(distances, want - 1)[:want]
            # Everything at the cut-off distance too, so ties are broken by id, not by position.
            edge = distances[part].max()
            part = np.flatnonzero(distances <= edge)
            ids, distances = ids[part], distances[part]
        order = np.lexsort((ids, distances))[offset:offset + k]
        return [(int(ids[i]), float(distances[i])) for i in order]

    def warm(self) -> None:
        """Load (or catch up) now, e.g. in a worker when the window opens; a table too large stays on disk."""
        with self._lock:
            if self._seq >= 0 or self._size() <= MAX_IN_MEMORY:
                self._sync()

    def within(self, query: np.ndarray, max_distance: float) -> list[tuple[int, float]]:
        """Every (id, distance) within ``max_distance``, nearest first."""
        q = unit_rows(np.asarray(query, dtype=np.float32).reshape(-1))
        with self._lock:
            if self._seq < 0 and self._size() > MAX_IN_MEMORY:   # on disk: the 4096 nearest at most
                return [hit for hit in self._vec0(q, VEC0_K_MAX) if hit[1] <= max_distance]
            self._sync()
            ids, distances = self._distances(q, self._overlay())
        hit = np.flatnonzero(distances <= max_distance)
        order = hit[np.lexsort((ids[hit], distances[hit]))]
        return [(int(ids[i]), float(distances[i])) for i in order]

    def stats(self) -> dict[str, Any]:
        """Rows held, bytes of memory, and the last full load's seconds (for the benchmark)."""
        with self._lock:
            return {"table": self.spec.name, "loaded": self._seq >= 0, "vectors": int(self._alive[:self._count].sum()),
                    "bytes": int(self._matrix.nbytes + self._ids.nbytes + self._alive.nbytes),
                    "load_seconds": self.load_seconds, "loads": self.loads}

    # ---- keeping in step ------------------------------------------------------------------

    def _reset(self) -> None:
        self._seq = -1
        self._ids = np.zeros(0, dtype=np.int64)
        self._matrix = np.zeros((0, self.spec.dim), dtype=np.float32)
        self._alive = np.zeros(0, dtype=bool)
        self._count = 0
        self._row = {}

    def _connection(self) -> Connection:
        if self._reader is None:
            self._reader = self.db.reader()
        return self._reader

    def _sync(self) -> None:
        """Take in every committed change since the last sync (a read transaction: one snapshot)."""
        conn = self._connection()
        own = not conn.in_transaction    # always, except for an in-memory database (one connection)
        if own:
            conn.execute("BEGIN")
        try:
            pruned, top = conn.execute(
                "SELECT pruned_upto, (SELECT coalesce(max(seq), 0) FROM vector_changes) FROM vector_log_state"
            ).fetchone()
            if self._seq < 0 or pruned > self._seq or top < self._seq:
                self._load(conn)
            elif top > self._seq:
                items = self._changed(conn, self._seq)
                if len(items) > PATCH_LIMIT:
                    self._load(conn)
                elif items:
                    self._patch(items, self._read(conn, items))
            self._seq = int(top)
        finally:
            if own:
                conn.execute("COMMIT")

    def _on_disk(self, *, first_search_ok: bool) -> bool:
        """Whether this search goes to sqlite-vec instead of the in-memory copy (see LOAD_ON_SECOND_SEARCH)."""
        if self._seq >= 0:
            return False
        first, self._searched_once = not self._searched_once, True
        size = self._size()
        return size > MAX_IN_MEMORY or (size >= LOAD_ON_SECOND_SEARCH and first and first_search_ok)

    def _size(self) -> int:
        """About how many vectors the table holds (its highest rowid: no count over a million rows)."""
        try:
            row = self.db.conn.execute(f'SELECT max(rowid) FROM "{self.spec.name}_rowids"').fetchone()
        except OperationalError:   # another sqlite-vec layout: just load
            return 0
        return int(row[0] or 0)

    def _disk_search(self, q: np.ndarray, k: int, only: Sequence[int] | np.ndarray | None) -> list[tuple[int, float]]:
        """Exact search through SQLite: sqlite-vec's KNN, or the distances of the ``only`` ids one by one."""
        if only is None:
            return self._vec0(q, min(k, VEC0_K_MAX))
        sql = f"SELECT vec_distance_cosine(embedding, ?) FROM {self.spec.name} WHERE {self.spec.key} = ?"
        blob, hits = vec_blob(q), []
        for item in np.asarray(only, dtype=np.int64).tolist():
            row = self.db.conn.execute(sql, (blob, item)).fetchone()
            if row is not None:
                hits.append((item, float(row[0])))
        return sorted(hits, key=lambda hit: (hit[1], hit[0]))[:k]

    def _vec0(self, q: np.ndarray, k: int) -> list[tuple[int, float]]:
        """sqlite-vec's own exact KNN, on the caller's connection (so it sees its transaction too)."""
        rows = self.db.conn.execute(
            f"SELECT {self.spec.key}, distance FROM {self.spec.name} WHERE embedding MATCH ? AND k = ?",
            (vec_blob(q), k)).fetchall()
        return sorted(((int(r[0]), float(r[1])) for r in rows), key=lambda hit: (hit[1], hit[0]))

    def _changed(self, conn: Connection, since: int) -> list[int]:
        return [int(r[0]) for r in conn.execute(
            "SELECT DISTINCT item FROM vector_changes WHERE seq > ? AND tbl = ?", (since, self.spec.name))]

    def _read(self, conn: Connection, items: list[int]) -> dict[int, np.ndarray]:
        """The current vectors of ``items`` (point lookups: vec0 answers those by rowid)."""
        sql = f"SELECT embedding FROM {self.spec.name} WHERE {self.spec.key} = ?"
        found = {}
        for item in items:
            row = conn.execute(sql, (item,)).fetchone()
            if row is not None:
                found[item] = np.frombuffer(row[0], dtype="<f4")
        return found

    def _load(self, conn: Connection) -> None:
        started = time.perf_counter()
        self._reset()
        try:
            ids, matrix = self._read_chunks(conn)
        except _LayoutChanged:
            ids, matrix = self._read_rows(conn)
            matrix = unit_rows(matrix)
        n = len(ids)
        self._matrix = matrix if n else np.zeros((0, self.spec.dim), dtype=np.float32)
        self._ids = ids.astype(np.int64, copy=False)
        self._alive = np.ones(n, dtype=bool)
        self._count = n
        self._row = {item: row for row, item in enumerate(self._ids.tolist())}
        self.load_seconds = time.perf_counter() - started
        self.loads += 1

    def _read_rows(self, conn: Connection) -> tuple[np.ndarray, np.ndarray]:
        """Every vector through vec0 itself: always right, but ~50-100 us a row."""
        ids: list[int] = []
        blobs: list[bytes] = []
        for item, blob in conn.execute(f"SELECT {self.spec.key}, embedding FROM {self.spec.name}"):
            ids.append(int(item))
            blobs.append(blob)
        matrix = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(ids), self.spec.dim)
        return np.asarray(ids, dtype=np.int64), matrix

    def _read_chunks(self, conn: Connection) -> tuple[np.ndarray, np.ndarray]:
        """Every vector, normalised, from vec0's chunk tables, 1024 at a time (~40x faster than row by row).

        The chunk layout is sqlite-vec's (0.1.x, pinned in pyproject): per chunk a validity
        bitmap, the rowids and one blob of vectors. The result is checked against vec0 (row
        count, and sampled rows byte for byte); a layout that differs raises _LayoutChanged and
        the caller reads row by row instead.
        """
        name, dim = self.spec.name, self.spec.dim
        try:
            expected = int(conn.execute(f'SELECT count(*) FROM "{name}_rowids"').fetchone()[0])
            # Filled chunk by chunk and normalised in place: one copy of the vectors in memory.
            ids = np.zeros(expected, dtype=np.int64)
            matrix = np.zeros((expected, dim), dtype=np.float32)
            filled = 0
            chunks = conn.execute(f'SELECT c.size, c.validity, c.rowids, v.vectors FROM "{name}_chunks" c '
                                  f'JOIN "{name}_vector_chunks00" v ON v.rowid = c.chunk_id ORDER BY c.chunk_id')
            for size, validity, rowids, vectors in chunks:
                valid = np.unpackbits(np.frombuffer(validity, np.uint8), bitorder="little")[:size].astype(bool)
                if len(valid) != size or len(rowids) != 8 * size or len(vectors) != 4 * dim * size:
                    raise _LayoutChanged(name)
                count = int(valid.sum())
                if filled + count > expected:
                    raise _LayoutChanged(name)
                ids[filled:filled + count] = np.frombuffer(rowids, dtype="<i8")[valid]
                block = matrix[filled:filled + count]
                block[:] = np.frombuffer(vectors, dtype="<f4").reshape(size, dim)[valid]
                block[:] = unit_rows(block)
                filled += count
        except OperationalError as exc:   # a shadow table that is not there (any more)
            raise _LayoutChanged(name) from exc
        if filled != expected:
            raise _LayoutChanged(name)
        sample: Sequence[int] | np.ndarray = (
            np.random.default_rng().choice(len(ids), size=min(8, len(ids)), replace=False) if len(ids) else [])
        for row in sample:
            found = conn.execute(f"SELECT embedding FROM {name} WHERE {self.spec.key} = ?", (int(ids[row]),)).fetchone()
            if found is None or not np.allclose(unit_rows(np.frombuffer(found[0], dtype="<f4")), matrix[row],
                                                rtol=0, atol=1e-6):
                raise _LayoutChanged(name)
        return ids, matrix

    def _patch(self, items: list[int], vectors: dict[int, np.ndarray]) -> None:
        for item in items:
            row = self._row.pop(item, None)
            if row is not None:           # replaced or deleted: the old row goes (and its content with it)
                self._alive[row] = False
                self._matrix[row] = 0.0
        new = [item for item in items if item in vectors]
        if new:
            need = self._count + len(new)
            if need > len(self._ids):
                self._grow(max(need, int(len(self._ids) * 1.5) + 64))
            rows = np.arange(self._count, need)
            self._matrix[rows] = unit_rows(np.stack([vectors[i] for i in new]))
            self._ids[rows] = new
            self._alive[rows] = True
            self._row.update(zip(new, rows.tolist(), strict=True))
            self._count = need
        dead = self._count - len(self._row)
        if dead > max(1024, self._count // 4):
            self._compact()

    def _grow(self, capacity: int) -> None:
        matrix = np.zeros((capacity, self.spec.dim), dtype=np.float32)
        matrix[:self._count] = self._matrix[:self._count]
        ids = np.zeros(capacity, dtype=np.int64)
        ids[:self._count] = self._ids[:self._count]
        alive = np.zeros(capacity, dtype=bool)
        alive[:self._count] = self._alive[:self._count]
        self._matrix, self._ids, self._alive = matrix, ids, alive

    def _compact(self) -> None:
        keep = np.flatnonzero(self._alive[:self._count])
        self._matrix = np.ascontiguousarray(self._matrix[keep])
        self._ids = self._ids[keep].copy()
        self._alive = np.ones(len(keep), dtype=bool)
        self._count = len(keep)
        self._row = {int(item): row for row, item in enumerate(self._ids)}

    def _overlay(self) -> _Overlay | None:
        """The caller's own uncommitted changes to this table, if it is inside a transaction."""
        conn = self.db.conn
        if not conn.in_transaction or conn is self._reader:
            return None
        items = self._changed(conn, self._seq)
        if not items:
            return None
        vectors = self._read(conn, items)
        ids = np.asarray(list(vectors), dtype=np.int64)
        matrix = unit_rows(np.stack(list(vectors.values()))) if vectors else \
            np.zeros((0, self.spec.dim), dtype=np.float32)
        return _Overlay(np.asarray(items, dtype=np.int64), ids, matrix)

    def _distances(self, q: np.ndarray, overlay: _Overlay | None) -> tuple[np.ndarray, np.ndarray]:
        n = self._count
        distances = 1.0 - self._matrix[:n] @ q
        ids = self._ids[:n]
        mask = self._alive[:n]
        if overlay is not None:
            mask = mask & ~np.isin(ids, overlay.changed)
        ids, distances = ids[mask], distances[mask]
        if overlay is not None and len(overlay.ids):
            ids = np.concatenate([ids, overlay.ids])
            distances = np.concatenate([distances, 1.0 - overlay.matrix @ q])
        return ids, distances.astype(np.float32, copy=False)


class VectorIndexes:
    """One lazily built :class:`VectorIndex` per vector table of a database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._indexes: dict[str, VectorIndex] = {}
        self._lock = threading.Lock()

    def __getitem__(self, table: str) -> VectorIndex:
        with self._lock:
            index = self._indexes.get(table)
            if index is None:
                index = self._indexes[table] = VectorIndex(self.db, table)
            return index

    def stats(self) -> list[dict[str, Any]]:
        with self._lock:
            indexes = list(self._indexes.values())
        return [index.stats() for index in indexes]

    def warm(self) -> None:
        """Load every vector table's index now (a worker's job: ~1-2 s per 100k photos)."""
        for table in TABLES:
            self[table].warm()
