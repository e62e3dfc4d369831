"""Several processes on one profile: indexing takes turns, imports survive kill -9 and never double.

Real processes (spawned children and the ``companion`` command), deterministic test doubles for
the photo models (tests/unit/test_indexing.py), no model files. The 20-kill run and the watcher
during a 300k-turn import are benchmarks/writers.py.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from companion.app import library
from companion.app.services import Services
from tests.unit.test_import import conversation, fingerprint, profile, write
from tests.unit.test_indexing import SeedEmbedder, SeedFaces, TableGeocoder, TextReader, photo

PHOTOS = 24
FACES_PER_PHOTO = 2


class SlowReader(TextReader):
    """Decoding takes a while, as a real photo does: two unsynchronised runs would overlap."""

    def read(self, path: Path) -> Any:
        time.sleep(0.03)
        return super().read(path)


def index_in_a_child(home: str, folder: str, start: Any, results: Any) -> None:
    services = Services.open(home)
    services.__dict__.update(photo_reader=SlowReader(), face_backend=SeedFaces(), image_embedder=SeedEmbedder(),
                             geocoder=TableGeocoder())
    start.wait(30)
    summary = [s for s in library.index(services, [folder]) if not hasattr(s, "stage")][-1]
    results.put((summary.new, summary.unchanged, summary.faces))
    services.close()


def test_two_processes_indexing_one_folder_store_one_face_row_per_face(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    for i in range(PHOTOS):
        photo(folder / f"{i:02}.jpg", i + 1, ",".join(str(100 + 2 * i + k) for k in range(FACES_PER_PHOTO)))
    home = tmp_path / "home"
    Services.open(home).close()
    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Event(), spawn.Queue()
    children = [spawn.Process(target=index_in_a_child, args=(str(home), str(folder), start, results))
                for _ in range(2)]
    for child in children:
        child.start()
    time.sleep(1.0)                # both children have opened the profile and wait at the start line
    start.set()
    outcomes = sorted(results.get(timeout=120) for _ in children)
    for child in children:
        child.join(30)
        assert child.exitcode == 0
    # One run indexed everything; the other waited for it and found every photo unchanged.
    assert outcomes == [(0, PHOTOS, 0), (PHOTOS, 0, PHOTOS * FACES_PER_PHOTO)]
    services = Services.open(home)
    assert services.store.photos.count() == PHOTOS
    assert services.store.faces.count() == PHOTOS * FACES_PER_PHOTO
    services.close()


def companion(home: Path, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, COMPANION_HOME=str(home), PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.Popen([sys.executable, "-m", "companion", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def turns_in(home: Path) -> int:
    db = home / "data" / "companion.db"
    if not db.exists():
        return 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return int(conn.execute("SELECT count(*) FROM turns").fetchone()[0])
    except sqlite3.OperationalError:       # not migrated yet
        return 0
    finally:
        conn.close()


@pytest.mark.slow     # four imports of 3,000 turns in child processes: left to `make test`, out of `make check`
def test_chat_import_killed_then_repeated_and_run_twice_at_once_equals_one_clean_import(tmp_path: Path) -> None:
    chat = write(tmp_path / "chat.jsonl", conversation(3000))
    clean = profile(tmp_path / "clean")
    clean.close()
    assert companion(tmp_path / "clean", "chat", "--import", str(chat)).wait(300) == 0
    clean = Services.open(tmp_path / "clean")
    expected = fingerprint(clean)
    clean.close()

    home = tmp_path / "killed"
    profile(home).close()
    process = companion(home, "chat", "--import", str(chat))
    deadline = time.monotonic() + 120
    while turns_in(home) < 500 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert process.poll() is None, "the import finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(30)
    saved = turns_in(home)
    assert 0 < saved < 3000
    # The same import again, twice at once: one resumes, the other waits and then finds it done.
    runs = [companion(home, "--json", "chat", "--import", str(chat)) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    states = sorted(json.loads(out)["state"] for out, _ in outputs)
    assert states == ["already imported", "resumed"]
    services = Services.open(home)
    assert fingerprint(services) == expected
    services.close()
