"""The activity list: every call another app made to Companion over MCP (companion/mcp/), newest first.

The user reads it and clears it (Settings ▸ Privacy, ``companion mcp activity``). A row keeps the
request only: which tool, its arguments in short, which app asked and how it ended, never what was
answered. Forgetting a person redacts their name here too (``store/forget.py``).
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from companion.core.store.db import Database, Row, from_iso, inserted_id, now, to_iso

Outcome = Literal["ok", "refused", "failed"]

# A row is a line in a list, not a transcript: arguments past this are cut.
MAX_DETAIL = 300


@dataclass(frozen=True)
class ActivityEntry:
    id: int
    time: datetime
    client: str          # the app's name as it introduced itself ("" when it did not)
    tool: str            # a tool name, or "resource" for a read resource
    detail: str          # its arguments in short ("person=Anna")
    outcome: Outcome
    results: int         # how many records the answer held


def _entry(row: Row) -> ActivityEntry:
    return ActivityEntry(row["id"], from_iso(row["ts"]) or now(), row["client"], row["tool"], row["detail"],
                         row["outcome"], row["results"])


class ActivityRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, client: str, tool: str, detail: str, outcome: Outcome, results: int = 0) -> int:
        cur = self.db.execute(
            "INSERT INTO activity (ts, client, tool, detail, outcome, results) VALUES (?,?,?,?,?,?)",
            (to_iso(now()), client[:100], tool[:100], detail[:MAX_DETAIL], outcome, results))
        return inserted_id(cur)

    def list(self, limit: int = 200) -> builtins.list[ActivityEntry]:
        return [_entry(r) for r in self.db.query("SELECT * FROM activity ORDER BY id DESC LIMIT ?", (limit,))]

    def count(self) -> int:
        row = self.db.query_one("SELECT count(*) AS n FROM activity")
        return int(row["n"]) if row else 0

    def clear(self) -> int:
        """Delete every row (``secure_delete`` overwrites them on disk); returns how many there were."""
        return self.db.execute("DELETE FROM activity").rowcount
