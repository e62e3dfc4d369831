"""Photos: one row per content, with time, place, size, its image embedding and every path that holds it.

A photo's row keeps one path (``photos.path``, the first found); the other files with
the same bytes (album copies, backups) are rows of ``photo_paths``. Deleting a path
keeps the photo while another path holds it. Near-duplicates (resized or re-encoded
copies, bursts) stay photos of their own, joined to a group by ``dup_of``; the
question queries (``taken``, ``count_taken``) count a group once.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from companion.core.store import vectors
from companion.core.store.db import Database, Row, from_iso, inserted_id, now, time_range, timestamp, to_iso
from companion.core.store.files import ProfileFiles
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
    place_version: int = 0          # which naming rules wrote ``place`` (indexing.PLACE_NAMING)
    dhash: int | None = None        # 64-bit difference hash of the pixels (core/library/near_duplicates.py)
    dup_of: int | None = None       # the photo whose near-duplicate group this one joins


@dataclass(frozen=True)
class PhotoCopy:
    """Another path holding a photo's bytes: which photo, and the file's size and mtime when last seen."""

    path: str
    photo_id: int
    size: int
    mtime: float
    content_hash: str


@dataclass(frozen=True)
class Located:
    """A photo with a GPS position, to be named again by the current naming rules."""

    id: int
    latitude: float
    longitude: float


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
        where.append("(p.city LIKE ? OR p.district LIKE ? OR p.region LIKE ? OR p.country LIKE ?)")
        params += [f"%{place}%"] * 4
    return where, params


def _signed(value: int | None) -> int | None:
    """A 64-bit hash as SQLite's signed INTEGER."""
    if value is None:
        return None
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


def _photo(row: Row, files: ProfileFiles) -> Photo:
    place = Place(row["city"], row["region"], row["country"], row["country_code"], row["district"])
    return Photo(
        id=row["id"], path=row["path"], content_hash=row["content_hash"], size=row["size"],
        mtime=row["mtime"], taken_at=from_iso(row["taken_at"]), taken_at_source=row["taken_at_source"],
        latitude=row["latitude"], longitude=row["longitude"],
        place=place if place.label() else None, width=row["width"], height=row["height"],
        thumbnail=files.from_row("thumbnails", row["thumbnail"]), status=row["status"], error=row["error"],
    )


class PhotoRepo:
    def __init__(self, db: Database, indexes: VectorIndexes, files: ProfileFiles | None = None) -> None:
        self.db = db
        self.index = indexes["vec_images"]
        self.files = files or ProfileFiles()

    def _photo(self, row: Row) -> Photo:
        return _photo(row, self.files)

    def upsert(self, record: PhotoRecord) -> int:
        """Insert or replace the row for ``record.path``; returns the photo id."""
        place = record.place or Place()
        values = (record.content_hash, record.size, record.mtime, to_iso(record.taken_at),
                  timestamp(record.taken_at), record.taken_at_source, record.latitude, record.longitude,
                  place.city, place.region, place.country, place.country_code, place.district,
                  record.place_version, record.width, record.height,
                  self.files.to_row("thumbnails", record.thumbnail), to_iso(now()),
                  _signed(record.dhash), record.dup_of)
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM photo_paths WHERE path = ?", (record.path,))   # now a photo of its own
            row = conn.execute("SELECT id FROM photos WHERE path = ?", (record.path,)).fetchone()
            if row is None:
                cur = conn.execute(
                    "INSERT INTO photos (content_hash, size, mtime, taken_at, ts, taken_at_source, latitude, "
                    "longitude, city, region, country, country_code, district, place_version, width, height, "
                    "thumbnail, indexed_at, dhash, dup_of, path) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (*values, record.path))
                return inserted_id(cur)
            conn.execute(
                "UPDATE photos SET content_hash=?, size=?, mtime=?, taken_at=?, ts=?, taken_at_source=?, "
                "latitude=?, longitude=?, city=?, region=?, country=?, country_code=?, district=?, place_version=?, "
                "width=?, height=?, thumbnail=?, indexed_at=?, dhash=?, dup_of=?, status='ok', error=NULL "
                "WHERE id=?", (*values, row["id"]))
            return int(row["id"])

    def mark_error(self, path: str, size: int, mtime: float, error: str) -> None:
        """Remember a file that could not be indexed, so the summary can say why.

        ``failures`` counts the failures in a row of the file as it is (same size and mtime);
        indexing tries it again while that count is under its cap (core/library/indexing.py).
        """
        self.db.execute(
            "INSERT INTO photos (path, content_hash, size, mtime, status, error, indexed_at, failures) "
            "VALUES (?, '', ?, ?, 'error', ?, ?, 1) ON CONFLICT(path) DO UPDATE SET size=excluded.size, "
            "mtime=excluded.mtime, status='error', error=excluded.error, indexed_at=excluded.indexed_at, "
            "failures=CASE WHEN status = 'error' AND size = excluded.size AND mtime = excluded.mtime "
            "THEN failures + 1 ELSE 1 END",
            (path, size, mtime, error, to_iso(now())))

    def failures(self, path: str) -> int:
        """How many times in a row the file at ``path``, as it is now, could not be indexed (0: never)."""
        row = self.db.query_one("SELECT failures FROM photos WHERE path = ? AND status = 'error'", (path,))
        return int(row["failures"]) if row else 0

    def get(self, photo_id: int) -> Photo | None:
        row = self.db.query_one("SELECT * FROM photos WHERE id = ?", (photo_id,))
        return self._photo(row) if row else None

    def by_path(self, path: str) -> Photo | None:
        row = self.db.query_one("SELECT * FROM photos WHERE path = ?", (path,))
        return self._photo(row) if row else None

    def by_hash(self, content_hash: str) -> builtins.list[Photo]:
        return [self._photo(r) for r in self.db.query(
            "SELECT * FROM photos WHERE content_hash = ? AND status = 'ok'", (content_hash,))]

    # ---- every path of a photo ------------------------------------------------------

    def copy_at(self, path: str) -> PhotoCopy | None:
        """The photo whose bytes ``path`` holds as a second (third, ...) path, or None."""
        row = self.db.query_one("SELECT c.*, p.content_hash FROM photo_paths c JOIN photos p ON p.id = c.photo_id "
                                "WHERE c.path = ?", (path,))
        return PhotoCopy(row["path"], int(row["photo_id"]), row["size"], row["mtime"], row["content_hash"]) \
            if row else None

    def add_path(self, photo_id: int, path: str, size: int, mtime: float) -> None:
        """Record ``path`` as one more file holding the photo's bytes (replacing an error row there)."""
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM photos WHERE path = ? AND status = 'error'", (path,))
            conn.execute("INSERT INTO photo_paths (path, photo_id, size, mtime) VALUES (?, ?, ?, ?) "
                         "ON CONFLICT(path) DO UPDATE SET photo_id=excluded.photo_id, size=excluded.size, "
                         "mtime=excluded.mtime", (path, photo_id, size, mtime))

    def touch_path(self, path: str, size: int, mtime: float) -> None:
        self.db.execute("UPDATE photo_paths SET size = ?, mtime = ? WHERE path = ?", (size, mtime, path))

    def paths(self, photo_id: int) -> builtins.list[str]:
        """Every file that holds the photo: its own path first, then the others by name."""
        row = self.db.query_one("SELECT path FROM photos WHERE id = ?", (photo_id,))
        if row is None:
            return []
        return [row["path"], *(r["path"] for r in self.db.query(
            "SELECT path FROM photo_paths WHERE photo_id = ? ORDER BY path", (photo_id,)))]

    def has_path(self, path: str) -> bool:
        return self.db.query_one("SELECT 1 FROM photos WHERE path = ? UNION ALL "
                                 "SELECT 1 FROM photo_paths WHERE path = ?", (path, path)) is not None

    def hand_over(self, photo_id: int) -> str | None:
        """Make another path the photo's own (its file was edited or removed); the path taken, or None."""
        with self.db.transaction() as conn:
            row = conn.execute("SELECT * FROM photo_paths WHERE photo_id = ? ORDER BY path LIMIT 1",
                               (photo_id,)).fetchone()
            if row is None:
                return None
            conn.execute("DELETE FROM photo_paths WHERE path = ?", (row["path"],))
            conn.execute("UPDATE photos SET path = ?, size = ?, mtime = ? WHERE id = ?",
                         (row["path"], row["size"], row["mtime"], photo_id))
            return str(row["path"])

    def list(self, *, concept_id: int | None = None, place: str | None = None, limit: int = 200,
             offset: int = 0, include_errors: bool = False) -> builtins.list[Photo]:
        """Newest first, optionally only photos of a concept or at a place.

        ``offset`` costs a walk over the skipped rows: to go through a large library use :meth:`page`.
        """
        where, params = _filters(concept_id, place, include_errors)
        sql = f"SELECT p.* FROM photos p WHERE {' AND '.join(where)} ORDER BY p.ts DESC, p.id DESC LIMIT ? OFFSET ?"
        return [self._photo(r) for r in self.db.query(sql, (*params, limit, offset))]

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
        return PhotoPage([self._photo(r) for r in rows], cursor)

    def count_matching(self, *, concept_id: int | None = None, place: str | None = None) -> int:
        """How many photos :meth:`page` goes through with these filters."""
        where, params = _filters(concept_id, place, include_errors=False)
        row = self.db.query_one(f"SELECT count(*) FROM photos p WHERE {' AND '.join(where)}", params)
        return int(row[0]) if row else 0

    def taken(self, *, since: datetime | None = None, until: datetime | None = None,
              place: PlaceFilter | None = None, limit: int = 200) -> builtins.list[Photo]:
        """Photos taken in a window (``since`` <= t < ``until``) and/or at a place, newest first."""
        where, params = self._taken_filters(since, until, place)
        # One photo per near-duplicate group: its newest (SQLite takes the bare columns from the max() row).
        return [self._photo(r) for r in self.db.query(
            f"SELECT p.*, max(p.ts) AS newest FROM photos p WHERE {' AND '.join(where)} "
            "GROUP BY coalesce(p.dup_of, p.id) ORDER BY newest DESC LIMIT ?", (*params, limit))]

    def count_taken(self, *, since: datetime | None = None, until: datetime | None = None,
                    place: PlaceFilter | None = None, concept_id: int | None = None) -> int:
        where, params = self._taken_filters(since, until, place)
        if concept_id is not None:
            where.append("p.id IN (SELECT photo_id FROM observations WHERE concept_id = ? AND photo_id IS NOT NULL)")
            params.append(concept_id)
        # A near-duplicate group (a burst, a resized copy) counts once.
        row = self.db.query_one(
            f"SELECT count(DISTINCT coalesce(p.dup_of, p.id)) AS n FROM photos p WHERE {' AND '.join(where)}", params)
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
        """Every known path under ``folder``: photos' own paths, other paths of the same bytes, error rows."""
        prefix = folder.rstrip("/\\")
        like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return [r["path"] for r in self.db.query(
            "SELECT path FROM photos WHERE path LIKE ? ESCAPE '\\' "
            "UNION ALL SELECT path FROM photo_paths WHERE path LIKE ? ESCAPE '\\'", (like, like))]

    def move(self, old_path: str, new_path: str) -> bool:
        """Keep a moved file's records (faces, observations) under its new path."""
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM photos WHERE path = ? AND status = 'error'", (new_path,))
            cur = conn.execute("UPDATE photos SET path = ? WHERE path = ?", (new_path, old_path))
            return cur.rowcount > 0

    def delete(self, path: str) -> int | None:
        """Forget the file at ``path``; the photo goes (with, by cascade and triggers, its faces, vectors and
        observations) only with its last path. Returns the id of a photo removed, else None."""
        with self.db.transaction() as conn:
            if conn.execute("DELETE FROM photo_paths WHERE path = ?", (path,)).rowcount:
                return None                         # one of several paths: the photo stays
            row = conn.execute("SELECT id FROM photos WHERE path = ?", (path,)).fetchone()
            if row is None:
                return None
            photo_id = int(row["id"])
            if self.hand_over(photo_id) is not None:
                return None                         # another file holds the same bytes: it is the photo now
            # The first other member of its near-duplicate group leads the group from now on.
            heir = conn.execute("SELECT id FROM photos WHERE dup_of = ? ORDER BY id LIMIT 1", (photo_id,)).fetchone()
            if heir is not None:
                conn.execute("UPDATE photos SET dup_of = NULL WHERE id = ?", (heir["id"],))
                conn.execute("UPDATE photos SET dup_of = ? WHERE dup_of = ?", (heir["id"], photo_id))
            conn.execute("DELETE FROM photos WHERE id = ?", (photo_id,))
            return photo_id

    # ---- places, named again ----------------------------------------------------------

    def stale_places(self, version: int, limit: int = 500) -> builtins.list[Located]:
        """Photos with a position whose place was named by older rules than ``version``."""
        return [Located(int(r["id"]), r["latitude"], r["longitude"]) for r in self.db.query(
            "SELECT id, latitude, longitude FROM photos WHERE status = 'ok' AND latitude IS NOT NULL "
            "AND longitude IS NOT NULL AND place_version < ? ORDER BY id LIMIT ?", (version, limit))]

    def set_place(self, photo_id: int, place: Place | None, version: int) -> None:
        """Rename a photo's place, and the place of the sightings in it, in one transaction."""
        place = place or Place()
        with self.db.transaction() as conn:
            conn.execute("UPDATE photos SET city = ?, region = ?, country = ?, country_code = ?, district = ?, "
                         "place_version = ? WHERE id = ?", (place.city, place.region, place.country,
                                                             place.country_code, place.district, version, photo_id))
            conn.execute("UPDATE observations SET place = ? WHERE photo_id = ?", (place.label(), photo_id))

    # ---- near-duplicates ----------------------------------------------------------------

    def dhashes(self) -> builtins.list[tuple[int, int, int | None, float | None]]:
        """(id, difference hash, group lead, time) of every photo with a hash, to find near-duplicates."""
        return [(int(r["id"]), int(r["dhash"]) & ((1 << 64) - 1), r["dup_of"], r["ts"]) for r in self.db.query(
            "SELECT id, dhash, dup_of, ts FROM photos WHERE status = 'ok' AND dhash IS NOT NULL")]

    def group(self, photo_id: int) -> builtins.list[Photo]:
        """The photo's near-duplicate group (itself included), the group's first photo first."""
        row = self.db.query_one("SELECT coalesce(dup_of, id) AS lead FROM photos WHERE id = ?", (photo_id,))
        if row is None:
            return []
        return [self._photo(r) for r in self.db.query(
            "SELECT * FROM photos WHERE (id = ? OR dup_of = ?) AND status = 'ok' ORDER BY dup_of IS NOT NULL, id",
            (row["lead"], row["lead"]))]

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
            found.update((r["id"], self._photo(r)) for r in rows)
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
