"""Imported conversation sources: what was imported from which file, and how far it got (migration 0010).

A source is one file's content in one format, keyed by its content hash: a renamed or copied file is the
same source, an edited one a new source. ``position`` counts the source's messages committed so far (in
the source's order), and moves in the same transaction as the turns and memories learnt from them, so an
interrupted import resumes after them and a finished one is recognised and adds nothing. Messages that
carry the export's own id are recorded in ``import_items``; a message whose id is known is not stored again,
whichever file it comes from. Every importer (JSONL, ChatGPT and Claude exports) uses this record.

An export of many conversations makes one source per conversation; ``thread`` is the export's own id of it
(migration 0012), so the conversation a newer export continues is found (:meth:`ImportRepo.thread_conversation`).
Memories an export brings as such (ChatGPT's custom instructions) are recorded by their key in
``import_memories``: one the user edited or forgot is not brought back by importing again.
"""

from __future__ import annotations

import builtins
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from companion.core.store.db import Database, Row, from_iso, inserted_id, now, to_iso

ImportStatus = Literal["importing", "done"]


@dataclass(frozen=True)
class ImportSource:
    id: int
    format: str
    content_hash: str
    name: str
    conversation_id: int | None
    items: int                      # messages in the source
    position: int                   # messages committed, in the source's order
    turns: int                      # turns stored (a message known by its id stores none)
    memories: int                   # memories learnt, by every run of this source
    context: tuple[int, ...]        # concepts the last stored user turn was about: "she" in the next one
    status: ImportStatus
    started_at: datetime
    finished_at: datetime | None
    thread: str = ""                # the export's own id of the conversation ("" for a file of one conversation)


def _source(row: Row) -> ImportSource:
    started = from_iso(row["started_at"])
    assert started is not None
    return ImportSource(row["id"], row["format"], row["content_hash"], row["name"], row["conversation_id"],
                        row["items"], row["position"], row["turns"], row["memories"],
                        tuple(int(i) for i in json.loads(row["context"])), row["status"], started,
                        from_iso(row["finished_at"]), row["thread"])


class ImportRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def find(self, format: str, content_hash: str) -> ImportSource | None:
        row = self.db.query_one("SELECT * FROM import_sources WHERE format = ? AND content_hash = ?",
                                (format, content_hash))
        return _source(row) if row else None

    def get(self, source_id: int) -> ImportSource | None:
        row = self.db.query_one("SELECT * FROM import_sources WHERE id = ?", (source_id,))
        return _source(row) if row else None

    def create(self, format: str, content_hash: str, name: str, items: int, conversation_id: int,
               thread: str = "") -> ImportSource:
        """A new source at position 0 (the caller's transaction also makes its conversation)."""
        cur = self.db.execute(
            "INSERT INTO import_sources (format, content_hash, name, conversation_id, items, started_at, thread) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", (format, content_hash, name, conversation_id, items, to_iso(now()), thread))
        source = self.get(inserted_id(cur))
        assert source is not None
        return source

    def set_conversation(self, source_id: int, conversation_id: int) -> ImportSource:
        self.db.execute("UPDATE import_sources SET conversation_id = ? WHERE id = ?", (conversation_id, source_id))
        source = self.get(source_id)
        assert source is not None
        return source

    def advance(self, source_id: int, position: int, *, turns: int, memories: int,
                context: builtins.list[int]) -> None:
        """Record a committed batch; call inside the transaction that stored it."""
        self.db.execute("UPDATE import_sources SET position = ?, turns = turns + ?, memories = memories + ?, "
                        "context = ? WHERE id = ?", (position, turns, memories, json.dumps(context), source_id))

    def finish(self, source_id: int, memories: int) -> None:
        self.db.execute("UPDATE import_sources SET status = 'done', memories = memories + ?, finished_at = ? "
                        "WHERE id = ?", (memories, to_iso(now()), source_id))

    def known_item(self, format: str, external_id: str) -> bool:
        return self.db.query_one("SELECT 1 FROM import_items WHERE format = ? AND external_id = ?",
                                 (format, external_id)) is not None

    def add_item(self, format: str, external_id: str, source_id: int, turn_id: int) -> None:
        self.db.execute("INSERT INTO import_items (format, external_id, source_id, turn_id) VALUES (?, ?, ?, ?)",
                        (format, external_id, source_id, turn_id))

    def thread_conversation(self, format: str, thread: str) -> int | None:
        """The conversation an earlier source of this export conversation made, if it still exists."""
        row = self.db.query_one(
            "SELECT s.conversation_id FROM import_sources s JOIN conversations c ON c.id = s.conversation_id "
            "WHERE s.format = ? AND s.thread = ? ORDER BY s.id DESC LIMIT 1", (format, thread))
        return int(row[0]) if row else None

    def known_memory(self, format: str, external_id: str) -> bool:
        """Whether a memory with this key in an export was imported before (even if edited or forgotten since)."""
        return self.db.query_one("SELECT 1 FROM import_memories WHERE format = ? AND external_id = ?",
                                 (format, external_id)) is not None

    def add_memory(self, format: str, external_id: str, memory_id: int) -> None:
        self.db.execute("INSERT INTO import_memories (format, external_id, memory_id) VALUES (?, ?, ?)",
                        (format, external_id, memory_id))

    def list(self) -> builtins.list[ImportSource]:
        return [_source(r) for r in self.db.query("SELECT * FROM import_sources ORDER BY id")]
