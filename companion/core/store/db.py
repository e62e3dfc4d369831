"""Opening the database: one connection per thread, WAL, foreign keys, sqlite-vec.

The standard library's ``sqlite3`` cannot load extensions on some builds (this
machine's, macOS system Python), so the store uses ``sqlean`` (sqlean.py), a
drop-in ``sqlite3`` with extension loading on Linux, macOS and Windows.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import sqlite_vec

if TYPE_CHECKING:
    import sqlite3  # sqlean ships no type hints; it is a drop-in for the standard module, so check against that
else:
    import sqlean as sqlite3

from companion.core.errors import DiskFullError, StoreBusyError, StoreDamagedError, StoreError
from companion.paths import PRIVATE_FILE, private

Connection = sqlite3.Connection
Row = sqlite3.Row
IntegrityError = sqlite3.IntegrityError
OperationalError = sqlite3.OperationalError

# Writers in other processes (the window, `companion watch`, an import) hold the write lock for one short
# transaction at a time. SQLite's busy handler waits up to BUSY_TIMEOUT_MS for it; some waits it cannot make
# (a read snapshot that went stale before its write: SQLITE_BUSY at once), so a write that still finds the
# database locked is tried again with exponential backoff and jitter, for BUSY_RETRY_SECONDS in all.
BUSY_TIMEOUT_MS = 10_000
BUSY_RETRY_SECONDS = 60.0
BACKOFF_FIRST, BACKOFF_MAX = 0.05, 2.0

T = TypeVar("T")


def is_busy(exc: BaseException) -> bool:
    """Whether SQLite refused because another connection holds a lock (worth waiting for)."""
    text = str(exc).lower()
    # SQLITE_BUSY reads "database is locked"; "database table is locked" (SQLITE_LOCKED) is this
    # connection's own doing and waiting would not help.
    return isinstance(exc, sqlite3.OperationalError) and ("database is locked" in text or "database is busy" in text)


def retrying(step: Callable[[], T], *, seconds: float | None = None) -> T:
    """``step()``, tried again with backoff while the database is locked by another writer."""
    deadline = time.monotonic() + (BUSY_RETRY_SECONDS if seconds is None else seconds)
    delay = BACKOFF_FIRST
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay * random.uniform(0.5, 1.0))
        delay = min(delay * 2, BACKOFF_MAX)


def damaged_message(path: Path | str, detail: str) -> str:
    """What a user reads about a damaged database: what is wrong, that nothing is written, what to do."""
    folder = Path(path).parent
    detail = " ".join(detail.replace("*** in database main ***", "").split())   # one line
    return (f"the memory store {path} is damaged ({detail}); Companion will not write to it. Quit Companion, "
            f"keep a copy of the folder {folder}, then restore it from a backup; `companion doctor` "
            "lists what is damaged")


def _store_failure(exc: Exception) -> bool:
    """An error of the file or the disk (locked, full, read-only, damaged), not of the SQL or its values."""
    return isinstance(exc, sqlite3.OperationalError) or type(exc) is sqlite3.DatabaseError


def _writes(sql: str) -> bool:
    """Whether a statement run outside a transaction may write (reads and pragmas never wait for the check)."""
    return sql.lstrip()[:6].upper() not in ("SELECT", "PRAGMA")


def _damaged(text: str) -> bool:
    return "malformed" in text or "not a database" in text or "corrupt" in text


def translate_error(exc: Exception) -> Exception:
    """Map SQLite's errors onto ones a user can act on."""
    text = str(exc).lower()
    if is_busy(exc):
        return StoreBusyError("the memory store stayed locked by another Companion process (the window, watch or "
                              "an import): nothing was saved; try again when it is done")
    if "disk is full" in text or "disk i/o error" in text:
        return DiskFullError("the disk is full: nothing was saved (free some space and try again)")
    if "readonly" in text or "read-only" in text:
        return StoreError("the memory store is read-only: nothing was saved (check the folder's permissions)")
    if "unable to open" in text:
        return StoreError(f"cannot open the memory store: {exc}")
    if _damaged(text):
        return StoreDamagedError(f"the memory store is damaged ({exc}); Companion will not write to it: "
                                 "run `companion doctor` to see what is damaged, then restore a backup")
    return StoreError(f"database error: {exc}")


def _private_files(path: Path) -> None:
    """The database readable by the user only (0600); SQLite gives its -wal and -shm the database's mode.

    SQLite would create the file 0644 (less the umask), so an empty one is made first with 0600;
    one an older Companion made is tightened, with its -wal and -shm.
    """
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    except FileExistsError:
        for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            private(file)
    except OSError:
        pass                # a read-only folder: opening will say so


def connect(path: Path) -> Connection:
    """A new connection with the store's settings (WAL, foreign keys, sqlite-vec loaded)."""
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                               check_same_thread=False)
    except sqlite3.Error as exc:
        raise translate_error(exc) from exc
    conn.row_factory = sqlite3.Row
    try:
        conn.enable_load_extension(True)
        sqlite_vec.load(conn)
        conn.enable_load_extension(False)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        if str(path) != ":memory:":
            conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL is durable in WAL mode against application crashes; only a power
        # cut can lose the last transactions, never corrupt the file.
        conn.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.Error as exc:
        conn.close()
        raise translate_error(exc) from exc
    return conn


class Database:
    """A SQLite file shared by threads, each with its own connection.

    Writes go through :meth:`transaction`, which takes the write lock up front
    (``BEGIN IMMEDIATE``) so two writers never deadlock half-way.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path) if str(path) != ":memory:" else Path(":memory:")
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _private_files(self.path)
        self._local = threading.local()
        self._all: list[Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        # Set once the file is known to be damaged: from then on nothing is written (query_only).
        self.damaged: str | None = None
        # Called before the first write, until it clears itself (store/integrity.py's OpenCheck).
        self._write_gate: Callable[[], None] | None = None

    @property
    def conn(self) -> Connection:
        """This thread's connection (opened on first use)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise StoreError("the memory store is closed")
            conn = connect(self.path)
            if self.damaged is not None:
                conn.execute("PRAGMA query_only = 1")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def mark_damaged(self, detail: str) -> StoreDamagedError:
        """Stop every write from now on (each connection becomes query-only); returns the error to raise."""
        message = damaged_message(self.path, detail)
        with self._lock:
            self.damaged = message
            for conn in self._all:
                try:
                    conn.execute("PRAGMA query_only = 1")
                except sqlite3.Error:
                    pass
        return StoreDamagedError(message)

    def gate_writes(self, gate: Callable[[], None] | None) -> None:
        """Run ``gate`` before any write until it sets None itself; it may raise to refuse the write."""
        self._write_gate = gate

    def _before_write(self) -> None:
        gate = self._write_gate
        if gate is not None:
            gate()
        if self.damaged is not None:
            raise StoreDamagedError(self.damaged)

    def _translate(self, exc: Exception) -> Exception:
        translated = translate_error(exc)
        if isinstance(translated, StoreDamagedError):
            return self.mark_damaged(str(exc))
        if self.damaged is not None:       # a write refused by query_only: say why
            return StoreDamagedError(self.damaged)
        return translated

    def reader(self) -> Connection:
        """A private connection for reads that must see only committed data (the vector indexes').

        The caller owns it and serialises its use; :meth:`close` closes it with the others.
        An in-memory database exists only on its own connection, so there it is the thread's.
        """
        if str(self.path) == ":memory:":
            return self.conn
        if self._closed:
            raise StoreError("the memory store is closed")
        conn = connect(self.path)
        if self.damaged is not None:
            conn.execute("PRAGMA query_only = 1")
        with self._lock:
            self._all.append(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction; nested use joins the outer one."""
        conn = self.conn
        if conn.in_transaction:
            yield conn
            return
        self._before_write()
        try:
            retrying(lambda: conn.execute("BEGIN IMMEDIATE"))
        except sqlite3.Error as exc:
            raise self._translate(exc) from exc
        try:
            yield conn
        except sqlite3.DatabaseError as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if not _store_failure(exc):
                raise                    # a constraint or a programming error: the caller's to handle
            raise self._translate(exc) from exc
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise self._translate(exc) from exc

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        conn = self.conn
        if not conn.in_transaction and _writes(sql):
            self._before_write()
        try:
            if conn.in_transaction:     # holds the write lock already (BEGIN IMMEDIATE): never busy
                return conn.execute(sql, params)
            return retrying(lambda: conn.execute(sql, params))
        except sqlite3.DatabaseError as exc:
            if not _store_failure(exc):
                raise
            raise self._translate(exc) from exc

    def query(self, sql: str, params: Any = ()) -> list[Row]:
        cursor = self.execute(sql, params)
        try:      # rows are read while stepping: a damaged page can fail here, after execute()
            return cursor.fetchall()
        except sqlite3.DatabaseError as exc:
            if not _store_failure(exc):
                raise
            raise self._translate(exc) from exc

    def query_one(self, sql: str, params: Any = ()) -> Row | None:
        cursor = self.execute(sql, params)
        try:
            row: Row | None = cursor.fetchone()
        except sqlite3.DatabaseError as exc:
            if not _store_failure(exc):
                raise
            raise self._translate(exc) from exc
        return row

    def checkpoint(self) -> bool:
        """Copy the WAL into the database file and truncate it to nothing; False when another
        connection's read kept part of it (it is copied at a later checkpoint)."""
        row = self.query_one("PRAGMA wal_checkpoint(TRUNCATE)")
        return row is None or int(row[0]) == 0

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for conn in self._all:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
            self._all.clear()
        self._local = threading.local()


def versions(db: Database) -> dict[str, str]:
    """SQLite and sqlite-vec versions, for ``companion doctor``."""
    row = db.query_one("SELECT sqlite_version() AS sqlite, vec_version() AS vec")
    assert row is not None
    return {"sqlite": row["sqlite"], "sqlite_vec": row["vec"]}


# ---- value conversions shared by the repositories -------------------------------------

def vec_blob(vector: np.ndarray | list[float]) -> bytes:
    """A float32 little-endian blob, the format vec0 columns take."""
    return np.asarray(vector, dtype="<f4").tobytes()


def to_iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def time_range(column: str, since: datetime | None, until: datetime | None, *,
               inclusive_end: bool = False) -> tuple[list[str], list[object]]:
    """SQL conditions (and their parameters) for ``since <= column < until``; either end may be open."""
    where: list[str] = []
    params: list[object] = []
    if since is not None:
        where.append(f"{column} >= ?")
        params.append(timestamp(since))
    if until is not None:
        where.append(f"{column} {'<=' if inclusive_end else '<'} ?")
        params.append(timestamp(until))
    return where, params


def timestamp(value: datetime | None) -> float | None:
    """Seconds since the epoch for ordering; a naive time is read as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.timestamp()


def now() -> datetime:
    return datetime.now(timezone.utc).astimezone()


def inserted_id(cursor: sqlite3.Cursor) -> int:
    """The row id an INSERT just made (sqlite always sets it after a successful single-row INSERT)."""
    row_id = cursor.lastrowid
    if row_id is None:
        raise StoreError("the database did not report the id of a new row")
    return row_id

