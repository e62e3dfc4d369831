"""A damaged database is reported with what to do and never written further."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from companion.cli import main
from companion.core.errors import StoreDamagedError
from companion.core.store import Store
from companion.core.store.memories import NewMemory
from companion.paths import resolve

PAGE = 4096


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def damaged_profile() -> Path:
    """A profile with 300 memories, one page of the memories table overwritten (a bad sector)."""
    db_path = resolve().ensure().db_path
    store = Store.open(db_path)
    store.concepts.add("Rex", "pet")
    for i in range(300):
        store.memories.add(NewMemory("semantic", f"We went hiking near lake {i}, " + "a long walk " * 20,
                                     ("hiking",)), np.ones(384, dtype="f4"))
    store.checkpoint()
    leaves = [r[0] for r in store.db.query("SELECT pageno FROM dbstat WHERE name = 'memories' AND pagetype = 'leaf'")]
    store.close()
    with open(db_path, "r+b") as handle:
        handle.seek((leaves[len(leaves) // 2] - 1) * PAGE)
        handle.write(b"\x00" * PAGE)
    return db_path


def digest(path: Path) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))).hexdigest()


def test_memory_search_on_a_damaged_store_says_it_is_damaged(capsys: pytest.CaptureFixture[str]) -> None:
    damaged_profile()
    for command in (["memories", "list"], ["memories", "list", "--search", "hiking"]):
        code, out, err = run(capsys, *command)
        assert code == 1 and out == "" and "No memories yet" not in out, command
        assert "is damaged" in err and "restore" in err and "companion doctor" in err and err.count("\n") == 1


def test_a_damaged_store_is_never_written_further(capsys: pytest.CaptureFixture[str]) -> None:
    db_path = damaged_profile()
    before = digest(db_path)
    code, _, err = run(capsys, "concepts", "add", "--name", "Tom", "--category", "pet")
    assert code == 1 and "is damaged" in err and "will not write" in err
    code, _, err = run(capsys, "concepts", "forget", "Rex")
    assert code == 1 and "is damaged" in err
    assert digest(db_path) == before
    with pytest.raises(StoreDamagedError):     # the same through the store, from any thread's first write
        store = Store.open(db_path)
        try:
            store.concepts.add("Tom", "pet")
        finally:
            store.close()
    assert digest(db_path) == before


def test_doctor_runs_the_full_check_and_says_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "doctor", "--json")
    assert code == 0 and json.loads(out)["integrity"] == {"ok": True}
    damaged_profile()
    code, out, _ = run(capsys, "doctor", "--json")
    report = json.loads(out)["integrity"]
    assert code == 1 and report["ok"] is False and report["problems"]
    assert "restore it from a backup" in report["what to do"]
