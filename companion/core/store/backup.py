"""A consistent copy of the database while it is in use, and the checks a restored copy must pass.

:func:`snapshot` uses SQLite's online backup API on a connection of its own: the copy is
made in one step, under one read transaction, so in WAL mode it is the database as it was
at one commit even while another thread or process goes on writing (a writer never waits
for it, and it never sees half a transaction). The copy is written to a temporary file
beside the target, switched out of WAL mode (one self-contained file, no ``-wal`` to carry),
checked with ``PRAGMA integrity_check`` and only then renamed into place.

:func:`check_copy` is what a restore runs on an extracted database before it replaces
anything: the full integrity check and the schema's migrations, so a database from a newer
Companion is refused here rather than by the store later.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from companion.core.errors import DiskFullError, SchemaTooNewError, StoreDamagedError, StoreError
from companion.core.store import migrations
from companion.core.store.db import BUSY_TIMEOUT_MS, connect, is_busy, retrying
from companion.paths import PRIVATE_FILE

if TYPE_CHECKING:
    import sqlite3
else:
    import sqlean as sqlite3


@dataclass(frozen=True)
class CopyCheck:
    """What a database copy holds: its migrations (oldest first) and the integrity check's problems ([] = ok)."""

    migrations: tuple[str, ...]
    problems: tuple[str, ...]


def snapshot(source: Path, target: Path) -> CopyCheck:
    """Copy the live database at ``source`` to ``target`` atomically; the copy is checked first.

    Raises ``DiskFullError`` when the disk fills (``target`` is then untouched and no temporary
    file is left), ``StoreDamagedError`` when the copy fails its integrity check.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(handle)
    work = Path(name)
    try:
        os.chmod(work, PRIVATE_FILE)
        src = connect(source)
        try:
            dst = sqlite3.connect(str(work), isolation_level=None)
            try:
                # pages=-1: the whole file in one step, under one read lock (a consistent snapshot; in WAL
                # mode writers go on meanwhile). A stepped copy would restart whenever another connection wrote.
                retrying(lambda: src.backup(dst, pages=-1))
                dst.execute("PRAGMA journal_mode = DELETE")    # one self-contained file
            finally:
                dst.close()
        finally:
            src.close()
        check = check_copy(work)
        if check.problems:
            raise StoreDamagedError("the copy of the memory store failed its integrity check ("
                                    + "; ".join(check.problems[:3]) + "): the database itself may be damaged; "
                                    "run `companion doctor`")
        _fsync(work)
        os.replace(work, target)
        return check
    except sqlite3.Error as exc:
        raise _translate(exc) from exc
    except OSError as exc:
        raise _translate(exc) from exc
    finally:
        with contextlib.suppress(OSError):
            work.unlink()


def check_copy(path: Path) -> CopyCheck:
    """``PRAGMA integrity_check`` and the migrations of a database file that no one else has open.

    Raises ``SchemaTooNewError`` when the copy has migrations this Companion does not know.
    A file that is not a database at all is a problem in the result, not an exception.
    """
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None,
                               timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        return CopyCheck((), (f"cannot open it: {exc}",))
    try:
        try:
            rows = conn.execute("PRAGMA integrity_check(20)").fetchall()
            problems = tuple(str(r[0]) for r in rows if str(r[0]) != "ok")
            names = tuple(str(r[0]) for r in conn.execute("SELECT name FROM schema_migrations ORDER BY name"))
        except sqlite3.DatabaseError as exc:
            return CopyCheck((), (str(exc),))
    finally:
        conn.close()
    known = {name for name, _ in migrations.MIGRATIONS}
    unknown = sorted(set(names) - known)
    if unknown:
        raise SchemaTooNewError(f"the memory store in the backup was written by a newer Companion (it has "
                                f"migration {unknown[-1]}); upgrade Companion to restore it")
    return CopyCheck(names, problems)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _translate(exc: BaseException) -> StoreError:
    text = str(exc).lower()
    if (isinstance(exc, OSError) and exc.errno in (28, 122)) or "disk is full" in text:
        return DiskFullError("the disk is full: the backup was not written (free some space and try again); "
                             "nothing was changed")
    if isinstance(exc, BaseException) and is_busy(exc):
        return StoreError("the memory store stayed locked while it was copied: try again")
    return StoreError(f"the memory store could not be copied: {exc}")
