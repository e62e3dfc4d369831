"""Is the database file sound? A quick check whenever the store opens, the full check for ``companion doctor``.

``PRAGMA quick_check`` reads every page and checks the b-trees (not that each index matches
its table): it finds a damaged page (a bad disk, a copy cut short) at a fraction of the full
check's cost, but that is still a pass over the whole file: 0.9 s for the 300 MB of a
100k-photo profile here (benchmarks/integrity.py), against 1 ms to open the store. So the
check runs on its own connection and thread (:class:`OpenCheck`) while the command or the
window gets going; SQLite releases the GIL while it reads. Writes wait for its verdict
(``Database.gate_writes``): a damaged store is never written further. A damaged page that
a read meets first is reported at once (``db.translate_error``) and stops writes as well.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from companion.core.store.db import BUSY_TIMEOUT_MS, Database

if TYPE_CHECKING:
    import sqlite3
else:
    import sqlean as sqlite3


def _problems(conn: sqlite3.Connection, pragma: str) -> list[str]:
    try:
        rows = conn.execute(pragma).fetchall()
    except sqlite3.OperationalError:
        raise                                  # interrupted, locked: no verdict
    except sqlite3.DatabaseError as exc:       # too damaged to check: that is the verdict
        return [str(exc)]
    problems = [str(row[0]) for row in rows]
    return [] if problems == ["ok"] else problems


def integrity_check(db: Database, limit: int = 20) -> list[str]:
    """Up to ``limit`` problems ``PRAGMA integrity_check`` finds (indexes against tables too); [] when ok."""
    try:
        return _problems(db.conn, f"PRAGMA integrity_check({int(limit)})")
    except sqlite3.OperationalError as exc:
        return [str(exc)]


class OpenCheck:
    """``PRAGMA quick_check`` on its own connection and daemon thread, started when a store opens."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.problem: str | None = None
        self._done = threading.Event()
        # A bare connection: the check reads pages, it needs neither sqlite-vec nor the store's pragmas.
        self._conn = sqlite3.connect(str(db.path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                     check_same_thread=False)
        self._conn.execute("PRAGMA query_only = 1")
        self._thread = threading.Thread(target=self._run, name="store-quick-check", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            problems = _problems(self._conn, "PRAGMA quick_check(1)")
            self.problem = problems[0] if problems else None
        except sqlite3.Error:
            self.problem = None                # cancelled (the store closed) or busy: no verdict
        finally:
            try:
                self._conn.close()
            except sqlite3.Error:
                pass
            if self.problem is not None:
                self.db.mark_damaged(self.problem)
            self._done.set()

    def verdict(self, timeout: float | None = None) -> str | None:
        """Wait for the check; the first problem, or None when the file is sound (or the check was cancelled)."""
        self._done.wait(timeout)
        return self.problem

    def gate(self) -> None:
        """The write gate: wait for the verdict, then let writes through or refuse them."""
        problem = self.verdict()
        if problem is not None:
            raise self.db.mark_damaged(problem)
        self.db.gate_writes(None)

    def cancel(self) -> None:
        """Ask a check still running to stop (the store is closing); it is not waited for.

        SQLite looks at the interrupt between VDBE steps, and quick_check is one long step, so the
        thread may go on reading for up to the check's length on its own read-only connection: harmless,
        and a short command does not wait for it.
        """
        if not self._done.is_set():
            try:
                self._conn.interrupt()
            except sqlite3.Error:
                pass
