"""The Big-Five persona estimate and its history."""

from __future__ import annotations

from companion.core.store.db import Database, from_iso, now, to_iso
from companion.core.types import BIG_FIVE, Persona


class PersonaRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self) -> Persona:
        row = self.db.query_one("SELECT * FROM persona WHERE id = 1")
        assert row is not None
        return Persona(**{t: row[t] for t in BIG_FIVE}, interactions=row["interactions"],
                       updated_at=from_iso(row["updated_at"]))

    def save(self, persona: Persona, turn_id: int | None = None) -> None:
        stamp = to_iso(now())
        scores = [getattr(persona, t) for t in BIG_FIVE]
        with self.db.transaction() as conn:
            conn.execute(f"UPDATE persona SET {', '.join(f'{t} = ?' for t in BIG_FIVE)}, interactions = ?, "
                         "updated_at = ? WHERE id = 1", (*scores, persona.interactions, stamp))
            conn.execute(f"INSERT INTO persona_history (time, {', '.join(BIG_FIVE)}, turn_id) VALUES (?,?,?,?,?,?,?)",
                         (stamp, *scores, turn_id))

    def history(self, limit: int = 100) -> list[tuple[str, dict[str, float]]]:
        rows = self.db.query("SELECT * FROM persona_history ORDER BY id DESC LIMIT ?", (limit,))
        return [(r["time"], {t: r[t] for t in BIG_FIVE}) for r in rows]

    def reset(self) -> None:
        """Back to neutral, with the history erased: the user asked us to forget it."""
        with self.db.transaction() as conn:
            conn.execute(f"UPDATE persona SET {', '.join(f'{t} = 3' for t in BIG_FIVE)}, interactions = 0, "
                         "updated_at = NULL WHERE id = 1")
            conn.execute("DELETE FROM persona_history")
