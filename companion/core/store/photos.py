"""Photos: one row per file, with time, place, size and its image embedding."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from companion.core.store import vectors
from companion.core.store.db import Database, Row, from_iso, inserted_id, now, time_range, timestamp, to_iso
from companion.core.store.places import PlaceFilter
from companion.core.store.vectors import VectorIndexes
from companion.core.types import Photo, Place


@dataclass(frozen=True)
class PhotoRecord:
    """What indexing learned about a file, ready to be written."""

    path: str
    content_hash: str
    size: int
    mtime: float
    taken_at: datetime | None
    taken_at_source: str
    latitude: float | None
    longitude: float | None
    place: Place | None
    width: int
    height: int
    thumbnail: str | None


@dataclass(frozen=True)
class PhotoCursor:
    """Where the next page of :meth:`PhotoRepo.page` starts: after this photo (its ``ts`` and id)."""

    ts: float | None
    id: int


@dataclass(frozen=True)
class PhotoPage:
    """A page of photos and where the next one starts (pass it back as ``after``; None: last page)."""

    photos: builtins.list[Photo]
    next: PhotoCursor | int | None      # a keyset cursor when listing, a rank when searching
    distances: builtins.list[float] | None = None   # cosine distances, when the page comes from a search


def _filters(concept_id: int | None, place: str | None,
             include_errors: bool) -> tuple[builtins.list[str], builtins.list[object]]:
    """WHERE terms (over ``photos p``) shared by listing, paging, counting and filtered search."""
    where: builtins.list[str] = ["1 = 1"]
    params: builtins.list[object] = []
    if not include_errors:
        where.append("p.status = 'ok'")
    if concept_id is not None:
        where.append("p.id IN (SELECT photo_id FROM observations WHERE concept_id = ? AND photo_id IS NOT NULL)")
        params.append(concept_id)
    if place:
        where.append("(p.city LIKE ? OR p.region LIKE ? OR p.country LIKE ?)")
        params += [f"%{place}%"] * 3
    return where, params


def _photo(row: Row) -> Photo:
    place = Place(row["city"], row["region"], row["country"], row["country_code"])
    return Photo(
        id=row["id"], path=row["path"], content_hash=row["content_hash"], size=row["size"],
        mtime=row["mtime"], taken_at=from_iso(row["taken_at"]), taken_at_source=row["taken_at_source"],
        latitude=row["latitude"], longitude=row["longitude"],
        place=place if place.label() else None, width=row["width"], height=row["height"],
        thumbnail=row["thumbnail"], status=row["status"], error=row["error"],
    )


class PhotoRepo:
    def __init__(self, db: Database, indexes: VectorIndexes) -> None:
        self.db = db
        self.index = indexes["vec_images"]

    def upsert(self, record: PhotoRecord) -> int:
        """Insert or replace the row for ``record.path``; returns the photo id."""
        place = record.place or Place()
        values = (record.content_hash, record.size, record.mtime, to_iso(record.taken_at),
                  timestamp(record.taken_at), record.taken_at_source, record.latitude, record.longitude,
                  place.city, place.region, place.country, place.country_code, record.width,
                  record.height, record.thumbnail, to_iso(now()))
        with self.db.transaction() as conn:
            row = conn.execute("SELECT id FROM photos WHERE path = ?", (record.path,)).fetchone()
            if row is None:
                cur = conn.execute(
                    "INSERT INTO photos (content_hash, size, mtime, taken_at, ts, taken_at_source, latitude, "
                    "longitude, city, region, country, country_code, width, height, thumbnail, indexed_at, path) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", (*values, record.path))
                return inserted_id(cur)
            conn.execute(
                "UPDATE photos SET content_hash=?, size=?, mtime=?, taken_at=?, ts=?, taken_at_source=?, "
                "latitude=?, longitude=?, city=?, region=?, country=?, country_code=?, width=?, height=?, "
                "thumbnail=?, indexed_at=?, status='ok', error=NULL WHERE id=?", (*values, row["id"]))
            return int(row["id"])

    def mark_error(self, path: str, size: int, mtime: float, error: str) -> None:
        """Remember a file that could not be indexed, so the summary can say why."""
        self.db.execute(
            "INSERT INTO photos (path, content_hash, size, mtime, status, error, indexed_at) "
            "VALUES (?, '', ?, ?, 'error', ?, ?) ON CONFLICT(path) DO UPDATE SET size=excluded.size, "
            "mtime=excluded.mtime, status='error', error=excluded.error, indexed_at=excluded.indexed_at",
            (path, size, mtime, error, to_iso(now())))

    def get(self, photo_id: int) -> Photo | None:
        row = self.db.query_one("SELECT * FROM photos WHERE id = ?", (photo_id,))
        return _photo(row) if row else None

    def by_path(self, path: str) -> Photo | None:
        row = self.db.query_one("SELECT * FROM photos WHERE path = ?", (path,))
        return _photo(row) if row else None

    def by_hash(self, content_hash: str) -> builtins.list[Photo]:
        return [_photo(r) for r in self.db.query(
            "SELECT * FROM photos WHERE content_hash = ? AND status = 'ok'", (content_hash,))]

    def list(self, *, concept_id: int | None = None, place: str | None = None, limit: int = 200,
             offset: int = 0, include_errors: bool = False) -> builtins.list[Photo]:
        """Newest first, optionally only photos of a concept or at a place.

        ``offset`` costs a walk over the skipped rows: to go through a large library use :meth:`page`.
        """
        where, params = _filters(concept_id, place, include_errors)
        sql = f"SELECT p.* FROM photos p WHERE {' AND '.join(where)} ORDER BY p.ts DESC, p.id DESC LIMIT ? OFFSET ?"
        return [_photo(r) for r in self.db.query(sql, (*params, limit, offset))]

    def page(self, *, concept_id: int | None = None, place: str | None = None, after: PhotoCursor | None = None,
             limit: int = 200) -> PhotoPage:
        """One page of the library, newest first (undated photos last), starting after ``after``.

        Keyset paging: each page costs the same however deep into 100k photos it is, and
        photos added or removed meanwhile never make a page repeat or skip one.
        """
        where, params = _filters(concept_id, place, include_errors=False)
        order = " ORDER BY p.ts DESC, p.id DESC LIMIT ?"
        if after is None:
            rows = self.db.query(f"SELECT p.* FROM photos p WHERE {' AND '.join(where)}{order}", (*params, limit))
        else:
            rows = []
            if after.ts is not None:   # a row value: SQLite seeks the ts index instead of scanning from the top
                rows = self.db.query(f"SELECT p.* FROM photos p WHERE {' AND '.join(where)} AND (p.ts, p.id) < (?, ?)"
                                     f"{order}", (*params, after.ts, after.id, limit))
            if len(rows) < limit:      # then the undated photos, which come last
                undated = " AND p.id < ?" if after.ts is None else ""
                rows += self.db.query(f"SELECT p.* FROM photos p WHERE {' AND '.join(where)} AND p.ts IS NULL"
                                      f"{undated}{order}",
                                      (*params, *([after.id] if after.ts is None else []), limit - len(rows)))
        cursor = PhotoCursor(rows[-1]["ts"], int(rows[-1]["id"])) if len(rows) == limit else None
        return PhotoPage([_photo(r) for r in rows], cursor)

    def count_matching(self, *, concept_id: int | None = None, place: str | None = None) -> int:
        """How many photos :meth:`page` goes through with these filters."""
        where, params = _filters(concept_id, place, include_errors=False)
        row = self.db.query_one(f"SELECT count(*) FROM photos p WHERE {' AND '.join(where)}", params)
        return int(row[0]) if row else 0

    def taken(self, *, since: datetime | None = None, until: datetime | None = None,
              place: PlaceFilter | None = None, limit: int = 200) -> builtins.list[Photo]:
        """Photos taken in a window (``since`` <= t < ``until``) and/or at a place, newest first."""
        where, params = self._taken_filters(since, until, place)
        return [_photo(r) for r in self.db.query(
            f"SELECT p.* FROM photos p WHERE {' AND '.join(where)} ORDER BY p.ts DESC LIMIT ?", (*params, limit))]

    def count_taken(self, *, since: datetime | None = None, until: datetime | None = None,
                    place: PlaceFilter | None = None, concept_id: int | None = None) -> int:
        where, params = self._taken_filters(since, until, place)
        if concept_id is not None:
            where.append("p.id IN (SELECT photo_id FROM observations WHERE concept_id = ? AND photo_id IS NOT NULL)")
            params.append(concept_id)
        row = self.db.query_one(f"SELECT count(*) AS n FROM photos p WHERE {' AND '.join(where)}", params)
        return int(row["n"]) if row else 0

    @staticmethod
    def _taken_filters(since: datetime | None, until: datetime | None,
                       place: PlaceFilter | None) -> tuple[builtins.list[str], builtins.list[object]]:
        where: builtins.list[str] = ["p.status = 'ok'", "p.ts IS NOT NULL"]
        params: builtins.list[object] = []
        conditions, values = time_range("p.ts", since, until)
        where += conditions
        params += values
        if place:
            condition, values = place.photo_sql("p")
            where.append(condition)
            params += values
        return where, params

    def errors(self) -> builtins.list[tuple[str, str]]:
        return [(r["path"], r["error"] or "") for r in self.db.query(
            "SELECT path, error FROM photos WHERE status = 'error' ORDER BY path")]

    def paths_under(self, folder: str) -> builtins.list[str]:
        prefix = folder.rstrip("/\\")
        return [r["path"] for r in self.db.query(
            "SELECT path FROM photos WHERE path LIKE ? ESCAPE '\\'",
            (prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",))]

    def move(self, old_path: str, new_path: str) -> bool:
        """Keep a moved file's records (faces, observations) under its new path."""
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM photos WHERE path = ? AND status = 'error'", (new_path,))
            cur = conn.execute("UPDATE photos SET path = ? WHERE path = ?", (new_path, old_path))
            return cur.rowcount > 0

    def delete(self, path: str) -> int | None:
        """Remove a photo and (by cascade and triggers) its faces, vectors and observations."""
        with self.db.transaction() as conn:
            row = conn.execute("SELECT id, thumbnail FROM photos WHERE path = ?", (path,)).fetchone()
            if row is None:
                return None
            conn.execute("DELETE FROM photos WHERE id = ?", (row["id"],))
            return int(row["id"])

    def set_embedding(self, photo_id: int, embedding: np.ndarray) -> None:
        with self.db.transaction() as conn:
            vectors.put(conn, "vec_images", photo_id, embedding)

    def embedding(self, photo_id: int) -> np.ndarray | None:
        row = self.db.query_one("SELECT embedding FROM vec_images WHERE photo_id = ?", (photo_id,))
        return np.frombuffer(row["embedding"], dtype="<f4").copy() if row else None

    def search(self, query: np.ndarray, k: int = 20, *, offset: int = 0, concept_id: int | None = None,
               place: str | None = None) -> builtins.list[tuple[Photo, float]]:
        """Photos whose image embedding is nearest to ``query`` (cosine distance), ranks ``offset..offset+k``.

        ``concept_id`` / ``place`` keep only the photos :meth:`page` would list with the same filters.
        """
        only = None
        if concept_id is not None or place:
            where, params = _filters(concept_id, place, include_errors=True)
            only = [r[0] for r in self.db.query(f"SELECT p.id FROM photos p WHERE {' AND '.join(where)}", params)]
        hits = self.index.search(query, k, offset=offset, only=only)
        photos = {p.id: p for p in self.get_many([i for i, _ in hits])}
        return [(photos[i], distance) for i, distance in hits if i in photos]

    def search_page(self, query: np.ndarray, limit: int = 200, *, after: int = 0, concept_id: int | None = None,
                    place: str | None = None) -> PhotoPage:
        """Ranks ``after..after+limit`` of a search, as a page (``next`` is the rank to go on from)."""
        hits = self.search(query, limit, offset=after, concept_id=concept_id, place=place)
        return PhotoPage([p for p, _ in hits], after + limit if len(hits) == limit else None, [d for _, d in hits])

    def get_many(self, photo_ids: builtins.list[int]) -> builtins.list[Photo]:
        """The photos with these ids, in the order given (ids of deleted photos are left out)."""
        found: dict[int, Photo] = {}
        for start in range(0, len(photo_ids), 500):
            chunk = photo_ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.query(f"SELECT * FROM photos WHERE id IN ({marks})", chunk)
            found.update((r["id"], _photo(r)) for r in rows)
        return [found[i] for i in photo_ids if i in found]

    # ---- added for the photo library (issue 3) ----------------------------------------

    def touch(self, path: str, size: int, mtime: float) -> None:
        """Record a new size/mtime for a file whose content is unchanged (touched, copied back, moved)."""
        self.db.execute("UPDATE photos SET size = ?, mtime = ? WHERE path = ?", (size, mtime, path))

    def delete_embedding(self, photo_id: int) -> None:
        with self.db.transaction() as conn:
            vectors.remove(conn, "vec_images", photo_id)

    def count(self) -> int:
        row = self.db.query_one("SELECT count(*) AS n FROM photos WHERE status = 'ok'")
        return int(row["n"]) if row else 0

    # ---- added for pets and things added offline (issue 23) ------------------------------

    def without_embedding(self, limit: int = 1000) -> builtins.list[tuple[int, str]]:
        """(id, path) of indexed photos with no image vector (indexed before the image model was installed)."""
        return [(int(r[0]), str(r[1])) for r in self.db.query(
            "SELECT p.id, p.path FROM photos p WHERE p.status = 'ok' AND NOT EXISTS "
            "(SELECT 1 FROM vec_images v WHERE v.photo_id = p.id) ORDER BY p.id LIMIT ?", (limit,))]
