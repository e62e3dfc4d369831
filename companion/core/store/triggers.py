"""Triggers: instructions tied to a concept that must fire when it reappears (ITR).

A trigger learnt from text the user did not type in this chat (an import) is stored
``pending``: inactive until they confirm it (:meth:`TriggerRepo.confirm`), so text from a file
can never plant a reminder or an instruction that fires on its own.
"""

from __future__ import annotations

import builtins

from companion.core.store.db import Database, Row, from_iso, inserted_id, now, to_iso
from companion.core.types import Trigger


def _trigger(row: Row) -> Trigger:
    return Trigger(id=row["id"], concept_id=row["concept_id"], instruction=row["instruction"], keyword=row["keyword"],
                   created_at=from_iso(row["created_at"]) or now(), source_turn_id=row["source_turn_id"],
                   active=bool(row["active"]), fired_count=row["fired_count"],
                   last_fired_at=from_iso(row["last_fired_at"]), pending=bool(row["pending"]))


class TriggerRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, concept_id: int, instruction: str, keyword: str = "", source_turn_id: int | None = None, *,
            pending: bool = False) -> int:
        """A new trigger; ``pending`` ones stay inactive until :meth:`confirm`."""
        cur = self.db.execute(
            "INSERT INTO triggers (concept_id, instruction, keyword, created_at, source_turn_id, active, pending) "
            "VALUES (?,?,?,?,?,?,?)",
            (concept_id, instruction.strip(), keyword, to_iso(now()), source_turn_id, int(not pending), int(pending)))
        return inserted_id(cur)

    def get(self, trigger_id: int) -> Trigger | None:
        row = self.db.query_one("SELECT * FROM triggers WHERE id = ?", (trigger_id,))
        return _trigger(row) if row else None

    def waiting(self) -> builtins.list[Trigger]:
        """Triggers learnt from imported text that wait for the user's confirmation, oldest first."""
        return [_trigger(r) for r in self.db.query("SELECT * FROM triggers WHERE pending = 1 ORDER BY id")]

    def confirm(self, trigger_id: int) -> bool:
        """The user wants this pending trigger: it becomes active. False when there is no such pending one."""
        return self.db.execute("UPDATE triggers SET active = 1, pending = 0 WHERE id = ? AND pending = 1",
                               (trigger_id,)).rowcount > 0

    def for_concepts(self, concept_ids: builtins.list[int], *, active_only: bool = True) -> builtins.list[Trigger]:
        if not concept_ids:
            return []
        marks = ",".join("?" * len(concept_ids))
        sql = f"SELECT * FROM triggers WHERE concept_id IN ({marks})"
        if active_only:
            sql += " AND active = 1"
        return [_trigger(r) for r in self.db.query(sql + " ORDER BY id", concept_ids)]

    def list(self) -> builtins.list[Trigger]:
        return [_trigger(r) for r in self.db.query("SELECT * FROM triggers ORDER BY id")]

    def mark_fired(self, trigger_id: int) -> None:
        self.db.execute("UPDATE triggers SET fired_count = fired_count + 1, last_fired_at = ? WHERE id = ?",
                        (to_iso(now()), trigger_id))

    def set_active(self, trigger_id: int, active: bool) -> None:
        self.db.execute("UPDATE triggers SET active = ? WHERE id = ?", (int(active), trigger_id))

    def delete(self, trigger_id: int) -> bool:
        return self.db.execute("DELETE FROM triggers WHERE id = ?", (trigger_id,)).rowcount > 0
