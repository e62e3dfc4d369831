"""Writers that share a profile: a busy database is waited for, and locks hold across processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from companion.app.locks import ProfileLock
from companion.core.errors import StoreBusyError
from companion.core.store import Store, db
from companion.core.store.memories import NewMemory

HOLD = """
import sys, time
from companion.app.locks import ProfileLock
lock = ProfileLock(sys.argv[1])
assert lock.try_acquire()
print("held", flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("write", ["transaction", "statement"])
def test_a_write_waits_for_another_writer_longer_than_the_busy_timeout(tmp_path: Path, write: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A long write elsewhere (an import's batch) makes this writer wait and retry, not fail."""
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 50)      # SQLite's own wait gives up after 50 ms
    path = tmp_path / "c.db"
    mine, theirs = Store.open(path), db.Database(path)
    held = threading.Event()

    def long_write() -> None:
        with theirs.transaction() as conn:
            conn.execute("INSERT INTO memories (kind, content, created_at, updated_at) VALUES (?, ?, ?, ?)",
                         ("semantic", "theirs", "2025-01-01T00:00:00", "2025-01-01T00:00:00"))
            held.set()
            time.sleep(0.6)
        theirs.close()

    other = threading.Thread(target=long_write)
    other.start()
    held.wait(5)
    if write == "transaction":
        mine.memories.add(NewMemory("semantic", "mine"))     # BEGIN IMMEDIATE waits
    else:
        mine.db.execute("INSERT INTO memories (kind, content, created_at, updated_at) VALUES (?, ?, ?, ?)",
                        ("semantic", "mine", "2025-01-01T00:00:00", "2025-01-01T00:00:00"))
    other.join()
    assert sorted(m.content for m in mine.memories.list()) == ["mine", "theirs"]
    mine.close()


def test_a_writer_that_stays_locked_out_gets_a_clear_message(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 10)
    monkeypatch.setattr(db, "BUSY_RETRY_SECONDS", 0.3)
    path = tmp_path / "c.db"
    mine, theirs = Store.open(path), db.Database(path)
    with theirs.transaction():
        with pytest.raises(StoreBusyError, match="locked by another Companion process.*nothing was saved"):
            mine.concepts.add("Rex", "pet")
    assert mine.concepts.list() == []
    mine.close()
    theirs.close()


def test_the_lock_holds_across_processes_and_a_killed_holder_releases_it(tmp_path: Path) -> None:
    path = tmp_path / "locks" / "index.lock"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        lock = ProfileLock(path)
        assert not lock.try_acquire(0.3)
        os.kill(holder.pid, signal.SIGKILL)             # kill -9: no clean-up runs in the holder
        holder.wait(10)
        assert lock.try_acquire(5)
        lock.release()
    finally:
        holder.kill()
        holder.wait(10)


def test_threads_of_one_process_take_turns_and_a_waiter_can_give_up(tmp_path: Path) -> None:
    lock = ProfileLock(tmp_path / "x.lock")
    assert lock.try_acquire()
    cancel = threading.Event()
    waited: list[object] = []

    def wait() -> None:
        steps = lock.wait(cancel, "scan", "waiting")
        try:
            while True:
                waited.append(next(steps))
                cancel.set()
        except StopIteration as done:
            waited.append(done.value)

    other = threading.Thread(target=wait)
    other.start()
    other.join(10)
    assert waited[-1] is False and len(waited) >= 2     # it said it was waiting, then gave up
    lock.release()
    assert lock.try_acquire()
    lock.release()
