"""Triggers: instructions tied to a concept that must fire when it reappears (ITR)."""

from __future__ import annotations

import builtins

from companion.core.store.db import Database, Row, from_iso, inserted_id, now, to_iso
from companion.core.types import Trigger


def _trigger(row: Row) -> Trigger:
    return Trigger(id=row["id"], concept_id=row["concept_id"], instruction=row["instruction"], keyword=row["keyword"],
                   created_at=from_iso(row["created_at"]) or now(), source_turn_id=row["source_turn_id"],
                   active=bool(row["active"]), fired_count=row["fired_count"],
                   last_fired_at=from_iso(row["last_fired_at"]))


class TriggerRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, concept_id: int, instruction: str, keyword: str = "", source_turn_id: int | None = None) -> int:
        cur = self.db.execute(
            "INSERT INTO triggers (concept_id, instruction, keyword, created_at, source_turn_id) VALUES (?,?,?,?,?)",
            (concept_id, instruction.strip(), keyword, to_iso(now()), source_turn_id))
        return inserted_id(cur)

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
