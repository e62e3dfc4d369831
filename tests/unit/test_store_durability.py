"""The store survives a writer killed mid-transaction, and readers run during writes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from companion.core.store import Store, migrations
from companion.core.store.memories import NewMemory

WRITER = textwrap.dedent("""
    import sys, time
    from companion.core.store import Store
    from companion.core.store.memories import NewMemory
    store = Store.open(sys.argv[1])
    for i in range(50):
        store.memories.add(NewMemory("semantic", f"committed {i}"))
    print("committed", flush=True)
    with store.db.transaction():
        for i in range(5000):
            store.memories.add(NewMemory("semantic", f"uncommitted {i}"))
            if i == 2500:
                print("mid-transaction", flush=True)
                time.sleep(60)
""")


def test_writer_killed_mid_transaction_loses_nothing_committed(tmp_path: Path) -> None:
    db_path = tmp_path / "c.db"
    Store.open(db_path).close()
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db_path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "committed"
    assert proc.stdout.readline().strip() == "mid-transaction"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)

    store = Store.open(db_path)
    assert store.db.query_one("PRAGMA integrity_check")[0] == "ok"
    contents = [m.content for m in store.memories.list(limit=10_000)]
    assert len(contents) == 50 and all(c.startswith("committed") for c in contents)
    assert store.memories.search_text("uncommitted") == []
    store.memories.add(NewMemory("semantic", "still writable"))  # the write lock was released
    store.close()


def test_reader_sees_consistent_counts_during_writes(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "c.db")
    errors: list[BaseException] = []
    seen: list[int] = []
    done = threading.Event()

    def write() -> None:
        try:
            for batch in range(40):
                with store.db.transaction():
                    for i in range(10):
                        store.memories.add(NewMemory("semantic", f"batch {batch} item {i}"))
        except BaseException as exc:  # noqa: BLE001 - a thread's error is reported by the assertion below
            errors.append(exc)
        finally:
            done.set()

    def read() -> None:
        try:
            while not done.is_set():
                seen.append(store.memories.count())  # this thread's own connection
        except BaseException as exc:  # noqa: BLE001 - a thread's error is reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write), threading.Thread(target=read)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert seen == sorted(seen)                   # never goes backwards
    assert all(n % 10 == 0 for n in seen)         # never sees half a transaction
    assert store.memories.count() == 400
    store.close()


def test_processes_opening_a_new_database_together_do_not_collide(tmp_path: Path) -> None:
    db_path = tmp_path / "new.db"
    script = "import sys; from companion.core.store import Store; Store.open(sys.argv[1]).close(); print('ok')"
    procs = [subprocess.Popen([sys.executable, "-c", script, str(db_path)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err for _, err in results]
    store = Store.open(db_path)
    assert store.db.query_one("SELECT count(*) FROM schema_migrations")[0] == len(migrations.MIGRATIONS)
    store.close()
