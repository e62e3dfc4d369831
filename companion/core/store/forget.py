"""Forgetting a concept or a memory everywhere: rows, links, vectors, text indexes, files and the WAL.

A forgotten **concept** leaves no card, key, reference photo, face (its group's, and the
faces recognised through its keys, which the caller names: ``recognition.forget_concept``),
sighting, reminder, memory about it, naming it or said by it, turn that named it or that it
said (an imported group chat), vector or FTS entry;
conversation titles, other cards' descriptions and the activity list's requests (what other apps
asked over MCP) that name it are redacted. A forgotten
**memory** takes with it the sentences of its source turns it came from (a turn left empty
goes), the sightings read from them, the memories built from the same sentences (an
episode quoting it, the profile line), and the sentences of other turns that quote it word
for word (an answer that cited it; a paraphrase cannot be told from other text and stays).

Then, outside the transaction: the FTS indexes are merged so deleted terms leave their
b-tree pages, the WAL is checkpointed and truncated (``secure_delete`` has overwritten the
freed content, but the WAL still holds the old pages until a checkpoint, and a backup taken
meanwhile would copy them), and files scheduled in the transaction are deleted
(``store/files.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from companion.core.errors import NotFoundError
from companion.core.store.conversations import fts_query, fts_words
from companion.core.store.db import Connection, Database
from companion.core.store.files import ProfileFiles

REDACTED = "[forgotten]"
PROFILE_KEYWORD = "profile"          # memory/remember.py marks "key: value" facts about the user with it
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")   # as memory/extract.py splits a turn
MIN_QUOTED = 8                       # a shorter sentence ("Yes.") is not taken as quoted by a memory


@dataclass
class ForgetReport:
    """What a forget removed, so the user can be told."""

    name: str
    memories: int = 0
    observations: int = 0
    faces: int = 0
    turns: int = 0
    files: list[str] = field(default_factory=list)
    redacted: int = 0            # conversation titles and other cards' descriptions that named it
    wal_cleared: bool = True     # False: another program held the database; the WAL is cleared later


def name_pattern(name: str) -> re.Pattern[str]:
    """The name as a word: not inside another word ("Ann" is not in "Annual"), but in "anna_chat.jsonl"."""
    return re.compile(r"(?<![^\W\d_])" + re.escape(name) + r"(?![^\W\d_])", re.IGNORECASE)


def forget_concept(db: Database, files: ProfileFiles, concept_id: int,
                   also_faces: Iterable[int] = ()) -> ForgetReport:
    """Remove a concept and everything about it (see the module docstring); ``also_faces``: faces
    recognised through its keys that sit outside its named group."""
    with db.transaction() as conn:
        row = conn.execute("SELECT name FROM concepts WHERE id = ?", (concept_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no concept with id {concept_id}")
        report = ForgetReport(row["name"])
        pattern = name_pattern(report.name)
        phrase = '"' + report.name.replace('"', " ") + '"'
        # Reference files first: deleting the concept cascades to its keys.
        for (stored,) in conn.execute("SELECT DISTINCT image_path FROM concept_refs WHERE concept_id = ? "
                                      "AND image_path IS NOT NULL", (concept_id,)).fetchall():
            report.files.append(files.from_row("concept_images", stored) or stored)
            files.schedule(conn, "concept_images", stored)
        report.observations = conn.execute("SELECT count(*) FROM observations WHERE concept_id = ?",
                                           (concept_id,)).fetchone()[0]
        turn_ids = {r[0] for r in conn.execute(
            "SELECT turn_id FROM observations WHERE concept_id = ? AND turn_id IS NOT NULL", (concept_id,))}
        memory_ids: set[int] = set()
        if fts_query(report.name):
            turn_ids |= {r[0] for r in conn.execute("SELECT rowid FROM turns_fts WHERE turns_fts MATCH ?",
                                                    (phrase,))}
            memory_ids |= {r[0] for r in conn.execute(
                "SELECT rowid FROM memories_fts WHERE memories_fts MATCH ?", (phrase,))}
        # What they said in an imported group chat, and what was learnt from it or about them.
        turn_ids |= {r[0] for r in conn.execute("SELECT id FROM turns WHERE speaker = ? COLLATE NOCASE",
                                                (report.name,))}
        memory_ids |= {r[0] for r in conn.execute(
            "SELECT id FROM memories WHERE speaker = ? COLLATE NOCASE OR subject = ? COLLATE NOCASE",
            (report.name, report.name))}
        face_ids = {r[0] for r in conn.execute(
            "SELECT f.id FROM faces f JOIN face_clusters c ON c.id = f.cluster_id WHERE c.concept_id = ?",
            (concept_id,))} | set(also_faces)
        memory_ids |= {memory_id for memory_id, links in conn.execute(
            "SELECT m.memory_id, (SELECT count(*) FROM memory_concepts x WHERE x.memory_id = m.memory_id) "
            "FROM memory_concepts m WHERE m.concept_id = ?", (concept_id,)) if links == 1}
        # What was learnt from the forgotten turns goes too.
        memory_ids |= set(_memories_of_turns(conn, turn_ids))
        report.memories = _delete(conn, "memories", memory_ids)
        clusters = {r[0] for r in conn.execute(
            f"SELECT DISTINCT cluster_id FROM faces WHERE id IN ({_marks(face_ids)}) AND cluster_id IS NOT NULL",
            sorted(face_ids))}
        report.faces = _delete(conn, "faces", face_ids)
        conn.executemany("DELETE FROM face_clusters WHERE id = ? AND concept_id IS NULL AND NOT EXISTS "
                         "(SELECT 1 FROM faces WHERE cluster_id = ?)", [(c, c) for c in clusters])
        report.turns = _delete(conn, "turns", turn_ids)
        conn.execute("DELETE FROM concepts WHERE id = ?", (concept_id,))
        report.redacted = _redact(conn, "conversations", "title", pattern) + _redact(conn, "concepts", "info",
                                                                                      pattern)
        _redact(conn, "activity", "detail", pattern)    # what other apps asked about them (store/activity.py)
    report.wal_cleared = finish(db, files)
    return report


def forget_memory(db: Database, files: ProfileFiles, memory_id: int) -> bool:
    """Remove a memory, the sentences it came from and what was built from them; False when there is none."""
    with db.transaction() as conn:
        row = conn.execute("SELECT content, keywords FROM memories WHERE id = ?", (memory_id,)).fetchone()
        if row is None:
            return False
        needles = _needles(row["content"], row["keywords"])
        concept_ids = [r[0] for r in conn.execute("SELECT concept_id FROM memory_concepts WHERE memory_id = ?",
                                                  (memory_id,))]
        turn_ids = [r[0] for r in conn.execute("SELECT turn_id FROM memory_turns WHERE memory_id = ?",
                                               (memory_id,))]
        # Read before the turns change: a turn left empty is deleted, and its links with it.
        siblings = conn.execute(
            f"SELECT id, content FROM memories WHERE id IN (SELECT memory_id FROM memory_turns WHERE turn_id "
            f"IN ({_marks(turn_ids)}))", turn_ids).fetchall()
        removed: list[str] = []
        for turn_id in turn_ids:
            removed += _scrub_turn(conn, turn_id, row["content"], needles, concept_ids)
        # Other turns that quote it word for word (an answer that cited it): those sentences go too.
        for turn_id in _quoting(conn, row["content"], set(turn_ids)):
            removed += _scrub_turn(conn, turn_id, row["content"], needles[:1], [])
        quoted = [s.casefold() for s in removed if len(s) >= MIN_QUOTED] + needles
        derived = {memory_id} | {other for other, content in siblings
                                 if any(text in content.casefold() for text in quoted)}
        _delete(conn, "memories", derived)
    finish(db, files)
    return True


def finish(db: Database, files: ProfileFiles) -> bool:
    """After a forget has committed: purge the text indexes, clear the WAL, delete scheduled files.

    Returns whether the WAL was cleared (another process reading at that moment keeps it for now).
    """
    for table in ("memories_fts", "turns_fts"):
        # Merge FTS segments so deleted terms do not linger in old b-tree pages.
        db.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")
    cleared = db.checkpoint()
    files.sweep(db)
    return cleared


# ---- helpers --------------------------------------------------------------------------------------


def _marks(items: Sequence[object] | set[int]) -> str:
    return ",".join("?" * len(items))


def _delete(conn: Connection, table: str, ids: set[int]) -> int:
    return sum(conn.execute(f"DELETE FROM {table} WHERE id = ?", (i,)).rowcount for i in sorted(ids))


def _memories_of_turns(conn: Connection, turn_ids: Iterable[int]) -> list[int]:
    ids = sorted(turn_ids)
    return [r[0] for r in conn.execute(f"SELECT memory_id FROM memory_turns WHERE turn_id IN ({_marks(ids)})", ids)]


def _quoting(conn: Connection, content: str, skip: set[int]) -> list[int]:
    """Turns whose text holds ``content`` as a phrase (FTS5 finds them; the scrub checks the exact words)."""
    words = fts_words(content)
    if len(words) < 3:                        # too short to tell a quote from a coincidence
        return []
    phrase = '"' + " ".join(w.strip('"') for w in words) + '"'
    return [r[0] for r in conn.execute("SELECT rowid FROM turns_fts WHERE turns_fts MATCH ?", (phrase,))
            if r[0] not in skip]


def _redact(conn: Connection, table: str, column: str, pattern: re.Pattern[str]) -> int:
    changed = 0
    for row_id, text in conn.execute(f"SELECT id, {column} FROM {table}").fetchall():
        redacted = pattern.sub(REDACTED, text)
        if redacted != text:
            conn.execute(f"UPDATE {table} SET {column} = ? WHERE id = ?", (redacted, row_id))
            changed += 1
    return changed


def _needles(content: str, keywords: str) -> list[str]:
    """Text whose presence in a sentence makes it the memory's source: the memory itself, and for a
    profile fact ("home: Vienna") its value."""
    needles = [content.strip()]
    if PROFILE_KEYWORD in keywords.split(", ") and ":" in content:
        value = content.split(":", 1)[1].split(" (changed on")[0].strip()
        if len(value) >= 3:
            needles.append(value)
    return [n.casefold() for n in needles if n]


def _scrub_turn(conn: Connection, turn_id: int, content: str, needles: list[str],
                concept_ids: list[int]) -> list[str]:
    """Drop the sentences of a turn a memory came from (the whole turn when nothing else is left), with the
    sightings read from them; returns the sentences removed."""
    row = conn.execute("SELECT text FROM turns WHERE id = ?", (turn_id,)).fetchone()
    if row is None:
        return []
    folded_content = content.casefold()
    kept, removed = [], []
    for sentence in (s.strip() for s in _SENTENCES.split(row["text"]) if s and s.strip()):
        folded = sentence.casefold()
        if any(n in folded for n in needles) or (len(sentence) >= MIN_QUOTED and folded in folded_content):
            removed.append(sentence)
        else:
            kept.append(sentence)
    if not removed:
        return []
    source = " ".join(removed).casefold()
    for obs_id, concept_id, place, action in conn.execute(
            "SELECT id, concept_id, place, action FROM observations WHERE turn_id = ?", (turn_id,)).fetchall():
        if concept_id in concept_ids or any(v and v.casefold() in source for v in (place, action)):
            conn.execute("DELETE FROM observations WHERE id = ?", (obs_id,))
    if kept:
        conn.execute("UPDATE turns SET text = ? WHERE id = ?", (" ".join(kept), turn_id))
    else:
        conn.execute("DELETE FROM turns WHERE id = ?", (turn_id,))
    return removed
