"""Conversations and their turns, grouped into sessions by time gaps.

A session ends after a gap (PersonaVLM uses 60 minutes); closing one is what
triggers consolidation into episodic memory. Temporary chats never get here.
"""

from __future__ import annotations

import builtins
import json
from datetime import datetime

from companion.core.store.db import (
    Connection,
    Database,
    Row,
    from_iso,
    inserted_id,
    now,
    time_range,
    timestamp,
    to_iso,
)
from companion.core.types import Conversation, Role, Turn


def _turn(row: Row) -> Turn:
    time = from_iso(row["time"])
    assert time is not None
    return Turn(row["id"], row["conversation_id"], row["role"], row["text"], time, json.loads(row["images"]),
                row["speaker"])


PRUNE_FROM = 1_000   # rows before a full-text search leaves out common words...
COMMON = 10          # ...those in more than one row in COMMON


def fts_words(text: str) -> builtins.list[str]:
    """The words of ``text`` as quoted FTS5 strings, each once (punctuation and operators are data)."""
    words = [w for w in "".join(ch if ch.isalnum() else " " for ch in text).split() if len(w) > 1]
    return [f'"{w}"' for w in dict.fromkeys(words)]


def fts_query(text: str) -> str:
    """An FTS5 query that matches any of the words in ``text``, safely quoted."""
    return " OR ".join(fts_words(text))


class ConversationRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def start(self, title: str = "", started_at: datetime | None = None) -> Conversation:
        started = started_at or now()
        cur = self.db.execute("INSERT INTO conversations (started_at, title) VALUES (?, ?)", (to_iso(started), title))
        return Conversation(inserted_id(cur), started, title)

    def get(self, conversation_id: int) -> Conversation | None:
        row = self.db.query_one("SELECT * FROM conversations WHERE id = ?", (conversation_id,))
        if row is None:
            return None
        started = from_iso(row["started_at"])
        assert started is not None
        return Conversation(row["id"], started, row["title"])

    def list(self, limit: int = 100) -> builtins.list[Conversation]:
        rows = self.db.query("SELECT * FROM conversations ORDER BY started_at DESC LIMIT ?", (limit,))
        return [Conversation(r["id"], from_iso(r["started_at"]) or now(), r["title"]) for r in rows]

    def add_turn(self, conversation_id: int, role: Role, text: str, time: datetime,
                 images: builtins.list[str] | None = None, *, session_gap_minutes: int = 60,
                 speaker: str = "") -> Turn:
        """Store a turn, opening a new session when the gap since the last turn is too long."""
        ts = timestamp(time)
        assert ts is not None
        with self.db.transaction() as conn:
            last = conn.execute("SELECT id, ended_ts FROM sessions ORDER BY ended_ts DESC LIMIT 1").fetchone()
            if last is not None and 0 <= ts - last["ended_ts"] <= session_gap_minutes * 60:
                session_id = last["id"]
                conn.execute("UPDATE sessions SET ended_at = ?, ended_ts = ? WHERE id = ?",
                             (to_iso(time), ts, session_id))
            elif last is not None and ts < last["ended_ts"]:
                # An imported turn older than the newest session: find or make its own session.
                session_id = self._session_for_past(conn, time, ts, session_gap_minutes)
            else:
                cur = conn.execute("INSERT INTO sessions (started_at, ended_at, started_ts, ended_ts) "
                                   "VALUES (?,?,?,?)", (to_iso(time), to_iso(time), ts, ts))
                session_id = cur.lastrowid
            cur = conn.execute(
                "INSERT INTO turns (conversation_id, session_id, role, text, time, ts, images, speaker) "
                "VALUES (?,?,?,?,?,?,?,?)",
                (conversation_id, session_id, role, text, to_iso(time), ts, json.dumps(images or []), speaker))
            return Turn(inserted_id(cur), conversation_id, role, text, time, list(images or []), speaker)

    @staticmethod
    def _session_for_past(conn: Connection, time: datetime, ts: float, gap_minutes: int) -> int:
        gap = gap_minutes * 60
        row = conn.execute("SELECT id, started_ts, ended_ts FROM sessions "
                           "WHERE started_ts - ? <= ? AND ? <= ended_ts + ? "
                           "ORDER BY started_ts LIMIT 1", (gap, ts, ts, gap)).fetchone()
        if row is not None:
            conn.execute("UPDATE sessions SET started_ts = min(started_ts, ?), ended_ts = max(ended_ts, ?), "
                         "started_at = CASE WHEN ? < started_ts THEN ? ELSE started_at END, "
                         "ended_at = CASE WHEN ? > ended_ts THEN ? ELSE ended_at END, consolidated = 0 WHERE id = ?",
                         (ts, ts, ts, to_iso(time), ts, to_iso(time), row["id"]))
            return int(row["id"])
        cur = conn.execute("INSERT INTO sessions (started_at, ended_at, started_ts, ended_ts) VALUES (?,?,?,?)",
                           (to_iso(time), to_iso(time), ts, ts))
        return inserted_id(cur)

    def turns(self, conversation_id: int | None = None, *, session_id: int | None = None,
              limit: int = 1000) -> builtins.list[Turn]:
        sql, params = "SELECT * FROM turns", []
        if conversation_id is not None:
            sql += " WHERE conversation_id = ?"
            params.append(conversation_id)
        elif session_id is not None:
            sql += " WHERE session_id = ?"
            params.append(session_id)
        sql += " ORDER BY ts, id LIMIT ?"
        return [_turn(r) for r in self.db.query(sql, (*params, limit))]

    def get_turn(self, turn_id: int) -> Turn | None:
        row = self.db.query_one("SELECT * FROM turns WHERE id = ?", (turn_id,))
        return _turn(row) if row else None

    def search(self, text: str, limit: int = 10) -> builtins.list[Turn]:
        """Full-text search over what was said (FTS5, best match first)."""
        query = fts_query(text)
        if not query:
            return []
        rows = self.db.query("SELECT t.* FROM turns_fts f JOIN turns t ON t.id = f.rowid WHERE turns_fts MATCH ? "
                             "ORDER BY rank LIMIT ?", (query, limit))
        return [_turn(r) for r in rows]

    def search_ranked(self, words: builtins.list[str], limit: int = 40, *, since: datetime | None = None,
                      until: datetime | None = None) -> builtins.list[tuple[int, float]]:
        """(turn id, bm25 rank; lower is better) of user turns holding any of ``words`` (FTS5, porter stems),
        said in ``since <= time < until`` when given.

        Words in more than one turn in :data:`COMMON` are left out once there are
        :data:`PRUNE_FROM` turns, as ``MemoryRepo.search_text`` does: ranking every turn that holds
        "went" or "today" costs more than it finds.
        """
        quoted = fts_words(" ".join(words))
        total = self.count_turns() if len(quoted) > 1 else 0
        if total >= PRUNE_FROM:
            cut = max(1, total // COMMON)
            counts = self.db.query(" UNION ALL ".join(
                ["SELECT count(*) FROM (SELECT rowid FROM turns_fts WHERE turns_fts MATCH ? LIMIT ?)"]
                * len(quoted)), [v for w in quoted for v in (w, cut)])
            quoted = [w for w, (n,) in zip(quoted, counts, strict=True) if n < cut]
        if not quoted:
            return []
        window, params = time_range("t.ts", since, until)
        rows = self.db.query("SELECT f.rowid, f.rank FROM turns_fts f JOIN turns t ON t.id = f.rowid "
                             f"WHERE turns_fts MATCH ? AND t.role = 'user' {''.join(' AND ' + w for w in window)} "
                             "ORDER BY f.rank LIMIT ?", (" OR ".join(quoted), *params, limit))
        return [(int(r["rowid"]), float(r["rank"])) for r in rows]

    def frequencies(self, words: builtins.list[str]) -> dict[str, int]:
        """How many turns hold each word (FTS5, porter stems): how telling a word is."""
        out = {}
        for word in dict.fromkeys(words):
            quoted = fts_words(word)
            row = self.db.query_one("SELECT count(*) AS n FROM turns_fts WHERE turns_fts MATCH ?",
                                    (" ".join(quoted),)) if quoted else None
            out[word] = int(row["n"]) if row else 0
        return out

    def get_turns(self, turn_ids: builtins.list[int]) -> dict[int, Turn]:
        """id -> turn for those of ``turn_ids`` that exist."""
        out: dict[int, Turn] = {}
        for start in range(0, len(turn_ids), 500):
            chunk = turn_ids[start:start + 500]
            for row in self.db.query(f"SELECT * FROM turns WHERE id IN ({','.join('?' * len(chunk))})", chunk):
                out[int(row["id"])] = _turn(row)
        return out

    def around(self, turn: Turn) -> builtins.list[Turn]:
        """The user turns said just before and just after ``turn`` in its conversation (what it answers or
        goes on from, and the reply to it)."""
        ts = timestamp(turn.time)
        rows = self.db.query(
            "SELECT * FROM (SELECT * FROM turns WHERE conversation_id = ? AND role = 'user' AND "
            "(ts < ? OR (ts = ? AND id < ?)) ORDER BY ts DESC, id DESC LIMIT 1) UNION ALL "
            "SELECT * FROM (SELECT * FROM turns WHERE conversation_id = ? AND role = 'user' AND "
            "(ts > ? OR (ts = ? AND id > ?)) ORDER BY ts, id LIMIT 1)",
            (turn.conversation_id, ts, ts, turn.id, turn.conversation_id, ts, ts, turn.id))
        return [_turn(r) for r in rows]

    def closed_sessions(self, before: datetime, gap_minutes: int) -> builtins.list[int]:
        """Sessions not yet consolidated whose last turn is older than the gap."""
        cutoff = (timestamp(before) or 0) - gap_minutes * 60
        return [int(r["id"]) for r in self.db.query(
            "SELECT id FROM sessions WHERE consolidated = 0 AND ended_ts < ? ORDER BY started_ts", (cutoff,))]

    def mark_consolidated(self, session_id: int) -> None:
        self.db.execute("UPDATE sessions SET consolidated = 1 WHERE id = ?", (session_id,))

    def delete_turn(self, turn_id: int) -> None:
        self.db.execute("DELETE FROM turns WHERE id = ?", (turn_id,))

    def last_time(self, conversation_id: int) -> datetime | None:
        """When the conversation's latest turn was said (None when it has none)."""
        row = self.db.query_one("SELECT time FROM turns WHERE conversation_id = ? ORDER BY ts DESC, id DESC LIMIT 1",
                                (conversation_id,))
        return from_iso(row["time"]) if row else None

    def count_turns(self) -> int:
        row = self.db.query_one("SELECT count(*) AS n FROM turns")
        return int(row["n"]) if row else 0
