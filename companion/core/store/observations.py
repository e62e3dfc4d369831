"""Observations: a concept seen in a photo or mentioned in a turn, with time and place.

These rows are the timeline that answers "where did I last see her?" exactly. The
window and place queries (``sightings``, ``seen``, ``places``) count a near-duplicate
group of photos (``photos.dup_of``) once; byte-identical copies are one photo already.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from companion.core.store.db import Database, Row, from_iso, inserted_id, time_range, timestamp, to_iso
from companion.core.store.places import PlaceFilter, city_sql
from companion.core.types import Observation, ObservationKind, ObservationSource


@dataclass(frozen=True)
class Sighting:
    """An observation with its concept's name: who was seen (or talked about) when and where."""

    concept_id: int
    name: str
    category: str
    time: datetime | None
    place: str
    kind: ObservationKind
    source: ObservationSource
    photo_id: int | None
    turn_id: int | None
    action: str


@dataclass(frozen=True)
class PlaceCount:
    """A place someone was seen at: its label, how often, and the latest time."""

    place: str
    count: int
    last: datetime | None


def _sighting(r: Row) -> Sighting:
    return Sighting(int(r["concept_id"]), r["name"], r["category"], from_iso(r["time"]), r["place"], r["kind"],
                    r["source"], r["photo_id"], r["turn_id"], r["action"])


def _observation(row: Row) -> Observation:
    return Observation(id=row["id"], concept_id=row["concept_id"], time=from_iso(row["time"]), place=row["place"],
                       source=row["source"], kind=row["kind"], confidence=row["confidence"],
                       photo_id=row["photo_id"], turn_id=row["turn_id"], action=row["action"])


class ObservationRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, concept_id: int, *, time: datetime | None, place: str, source: ObservationSource,
            kind: ObservationKind, confidence: float = 1.0, photo_id: int | None = None, turn_id: int | None = None,
            action: str = "") -> int:
        """Record an observation; a photo observation of the same concept and source is updated."""
        params = (concept_id, photo_id, turn_id, to_iso(time), timestamp(time), place, source, kind,
                  confidence, action)
        if photo_id is not None:
            cur = self.db.execute(
                "INSERT INTO observations (concept_id, photo_id, turn_id, time, ts, place, source, kind, confidence, "
                "action) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(concept_id, photo_id, source) "
                "WHERE photo_id IS NOT NULL DO UPDATE SET time=excluded.time, ts=excluded.ts, place=excluded.place, "
                "confidence=excluded.confidence RETURNING id", params)
            return int(cur.fetchone()[0])
        cur = self.db.execute(
            "INSERT INTO observations (concept_id, photo_id, turn_id, time, ts, place, source, kind, confidence, "
            "action) VALUES (?,?,?,?,?,?,?,?,?,?)", params)
        return inserted_id(cur)

    def timeline(self, concept_id: int, *, kind: str | None = None, limit: int = 50) -> list[Observation]:
        """Newest first."""
        sql = "SELECT * FROM observations WHERE concept_id = ?"
        params: list[object] = [concept_id]
        if kind:
            sql += " AND kind = ?"
            params.append(kind)
        sql += " ORDER BY ts DESC NULLS LAST, id DESC LIMIT ?"
        return [_observation(r) for r in self.db.query(sql, (*params, limit))]

    def last_action(self, concept_id: int) -> Observation | None:
        """The concept's conversation observation with an action from the newest turn (ties: newest row)."""
        row = self.db.query_one(
            "SELECT o.* FROM observations o JOIN turns t ON t.id = o.turn_id WHERE o.concept_id = ? "
            "AND o.source = 'conversation' AND o.action != '' ORDER BY t.ts DESC, o.ts DESC, o.id DESC LIMIT 1",
            (concept_id,))
        return _observation(row) if row else None

    def latest(self, concept_id: int, kind: str) -> Observation | None:
        found = self.timeline(concept_id, kind=kind, limit=1)
        return found[0] if found else None

    def for_photo(self, photo_id: int) -> list[Observation]:
        return [_observation(r) for r in self.db.query(
            "SELECT * FROM observations WHERE photo_id = ? ORDER BY confidence DESC", (photo_id,))]

    def clear_photo(self, photo_id: int, sources: tuple[str, ...] = ("face", "clip")) -> None:
        """Drop automatic observations of a photo before re-matching it."""
        marks = ",".join("?" * len(sources))
        self.db.execute(f"DELETE FROM observations WHERE photo_id = ? AND source IN ({marks})", (photo_id, *sources))

    def clear_concept_auto(self, concept_id: int) -> None:
        self.db.execute("DELETE FROM observations WHERE concept_id = ? AND source IN ('face', 'clip')", (concept_id,))

    def remove(self, concept_id: int, photo_id: int, source: str) -> None:
        """Drop one automatic photo observation (a face the user moved away from the concept)."""
        self.db.execute("DELETE FROM observations WHERE concept_id = ? AND photo_id = ? AND source = ?",
                        (concept_id, photo_id, source))

    def sightings(self, *, since: datetime | None = None, until: datetime | None = None,
                  place: PlaceFilter | None = None, concept_ids: list[int] | None = None,
                  kinds: tuple[str, ...] = ("sighting",), limit: int = 200) -> list[Sighting]:
        """Who was seen in a time window (``since`` <= t < ``until``) and/or at a place, newest first."""
        where, params = self._filters(since, until, place, concept_ids, kinds)
        rows = self.db.query(
            "SELECT o.*, c.name AS name, c.category AS category FROM observations o "
            f"JOIN concepts c ON c.id = o.concept_id WHERE {' AND '.join(where)} "
            "ORDER BY o.ts DESC NULLS LAST, o.id DESC LIMIT ?", (*params, limit))
        return [_sighting(r) for r in rows]

    def seen(self, *, since: datetime | None = None, until: datetime | None = None,
             place: PlaceFilter | None = None, concept_ids: list[int] | None = None,
             kinds: tuple[str, ...] = ("sighting",), limit: int = 12) -> list[Sighting]:
        """Everyone seen in a window and/or at a place, once each at their latest sighting there, the most
        recently seen first: "who did I see in March?" names the month's people even where one of them
        fills hundreds of its photos. (Near-duplicates change nobody's presence: no need to leave them out,
        which would cost the index-only scan.)"""
        where, params = self._filters(since, until, place, concept_ids, kinds, distinct=False)
        latest = self.db.query(
            f"SELECT o.concept_id AS concept_id, max(o.ts) AS last_ts FROM observations o WHERE {' AND '.join(where)} "
            "AND o.ts IS NOT NULL GROUP BY o.concept_id ORDER BY last_ts DESC LIMIT ?", (*params, limit))
        if not latest:
            return []
        # Each one's latest row, through the (concept_id, ts) index.
        pairs = " OR ".join("(o.concept_id = ? AND o.ts = ?)" for _ in latest)
        rows = self.db.query(
            "SELECT o.*, c.name AS name, c.category AS category FROM observations o "
            f"JOIN concepts c ON c.id = o.concept_id WHERE ({pairs}) AND {' AND '.join(where)} "
            "ORDER BY o.ts DESC, o.id DESC", (*[v for r in latest for v in (r["concept_id"], r["last_ts"])], *params))
        first = {int(r["concept_id"]): r for r in reversed(rows)}   # reversed: the first row per concept wins
        return [_sighting(first[int(r["concept_id"])]) for r in latest if int(r["concept_id"]) in first]

    def places(self, concept_id: int, *, since: datetime | None = None, until: datetime | None = None,
               limit: int = 20) -> list[PlaceCount]:
        """The places a concept was seen at, most recent first, one row per city."""
        where, params = self._filters(since, until, None, [concept_id], ("sighting",))
        city = city_sql("o.place")
        # One row per city; the bare columns come from its latest sighting (SQLite's max() rule).
        rows = self.db.query(
            f"SELECT o.place AS label, o.time AS time, max(o.ts) AS last_ts, count(*) AS n "
            f"FROM observations o WHERE {' AND '.join(where)} AND {city} != '' "
            f"GROUP BY {city} ORDER BY last_ts DESC LIMIT ?", (*params, limit))
        return [PlaceCount(r["label"], int(r["n"]), from_iso(r["time"])) for r in rows]

    @staticmethod
    def _filters(since: datetime | None, until: datetime | None, place: PlaceFilter | None,
                 concept_ids: list[int] | None, kinds: tuple[str, ...],
                 distinct: bool = True) -> tuple[list[str], list[object]]:
        where: list[str] = [f"o.kind IN ({','.join('?' * len(kinds))})"]
        params: list[object] = list(kinds)
        conditions, values = time_range("o.ts", since, until)
        where += conditions
        params += values
        if place:
            condition, values = place.label_sql("o.place")
            where.append(condition)
            params += values
        if concept_ids is not None:
            where.append(f"o.concept_id IN ({','.join('?' * len(concept_ids)) or 'NULL'})")
            params += concept_ids
        if distinct:
            # A near-duplicate (a burst shot, a resized copy) is no sighting of its own when its group's first
            # photo shows the same concept: the group counts once. The grouped photos are listed once per
            # query (the partial index photos_dup_of); only their rows look for the group's first photo.
            where.append("NOT (o.photo_id IN (SELECT id FROM photos WHERE dup_of IS NOT NULL) AND EXISTS ("
                         "SELECT 1 FROM photos d JOIN observations g ON g.photo_id = d.dup_of "
                         "AND g.concept_id = o.concept_id AND g.kind = o.kind WHERE d.id = o.photo_id))")
        return where, params

    def count(self) -> int:
        row = self.db.query_one("SELECT count(*) AS n FROM observations")
        return int(row["n"]) if row else 0
