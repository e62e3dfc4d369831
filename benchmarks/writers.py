"""Writers that share a profile, with real processes: kill -9 during imports, two importers, two indexers,
and the watcher during a long import. Each check prints a Markdown row; figures go in benchmarks/README.md.

``imports``  ``chat --import`` killed with SIGKILL at a random moment after its first batch (``--kills``
             runs), then the same import again; and two imports of the file started together. Every profile
             is compared with one clean import: turns, memories by kind, sightings/mentions, reminders, and
             duplicates.
``index``    two ``companion index`` processes started together on one folder of photos with faces
             (skimage's astronaut, matplotlib's Grace Hopper and copies; the real face detector and dlib):
             face rows against the faces one clean run finds.
``watch``    ``companion watch`` on a folder while ``chat --import`` stores a long conversation (``--turns``);
             ``--photos`` JPEGs are copied in during the import; then: how many are indexed.

    python benchmarks/writers.py imports --kills 20
    python benchmarks/writers.py index --runs 3
    python benchmarks/writers.py watch --turns 300000 --photos 20
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "integration"))

from benchmarks.import_memory import PEOPLE, write_conversation  # noqa: E402


def companion(home: Path, *args: str, models: Path | None = None, tree: Path = REPO,
              sigint: bool = False) -> subprocess.Popen[str]:
    env = dict(os.environ, COMPANION_HOME=str(home), PYTHONPATH=str(tree))
    if models is not None:
        env["COMPANION_MODELS_DIR"] = str(models)
    return subprocess.Popen([sys.executable, "-m", "companion", *args], env=env, cwd=tree, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)) if sigint else None)


def done(process: subprocess.Popen[str], timeout: float = 3600) -> str:
    out, err = process.communicate(timeout=timeout)
    if process.returncode != 0:
        raise SystemExit(f"companion failed ({process.returncode}): {err.strip()[-500:]}")
    return out


def query(home: Path, sql: str) -> list[tuple[Any, ...]]:
    """A read-only look (no migration, no lock): what another process left in the profile."""
    db = home / "data" / "companion.db"
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:        # not migrated yet
        return []
    finally:
        conn.close()


def count(home: Path, sql: str) -> int:
    rows = query(home, sql)
    return int(rows[0][0]) if rows else 0


def new_profile(home: Path) -> None:
    for name in PEOPLE:
        done(companion(home, "concepts", "add", "--name", name, "--category", "person"))


def counts(home: Path) -> dict[str, int]:
    """What a user would count, and the duplicates they would find."""
    result = {"turns": count(home, "SELECT count(*) FROM turns")}
    for kind in ("semantic", "episodic", "procedural", "core"):
        result[kind] = count(home, f"SELECT count(*) FROM memories WHERE kind = '{kind}'")
    result["observations"] = count(home, "SELECT count(*) FROM observations")
    result["reminders"] = count(home, "SELECT count(*) FROM triggers")
    result["duplicate turns"] = count(home, "SELECT count(*) - count(DISTINCT text || '|' || time) FROM turns")
    result["duplicate memories"] = count(
        home, "SELECT count(*) - count(DISTINCT kind || '|' || content || '|' || coalesce(time, '')) FROM memories")
    return result


# ---- imports ------------------------------------------------------------------------------------------


def check_imports(args: argparse.Namespace, work: Path) -> None:
    from tests.unit.test_import import conversation

    chat = work / "chat.jsonl"      # weekly chats: people, places, a pronoun, reminders, a profile fact, habits
    chat.write_text("".join(json.dumps(row) + "\n" for row in conversation(args.lines)), encoding="utf-8")
    clean = work / "clean"
    new_profile(clean)
    started = time.perf_counter()
    done(companion(clean, "chat", "--import", str(chat)))
    clean_seconds = time.perf_counter() - started
    expected = counts(clean)
    print(f"clean import of {args.lines:,} lines (half user turns): {clean_seconds:.1f} s, {expected}")
    rng = random.Random(args.seed)
    left_turns, left_memories, equal, interrupted = [], [], 0, 0
    for run in range(args.kills):
        home = work / f"killed-{run}"
        new_profile(home)
        process = companion(home, "chat", "--import", str(chat))
        started = time.perf_counter()
        # A random moment between the first committed batch and where the clean import ended.
        while process.poll() is None and count(home, "SELECT count(*) FROM turns") == 0:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, max(0.1, clean_seconds - (time.perf_counter() - started))))
        killed = process.poll() is None
        if killed:
            process.send_signal(signal.SIGKILL)
        process.wait()
        left_turns.append(count(home, "SELECT count(*) FROM turns"))
        left_memories.append(count(home, "SELECT count(*) FROM memories"))
        interrupted += killed and count(home, "SELECT count(*) FROM import_sources WHERE status = 'done'") == 0
        print(f"  run {run}: killed {'while importing' if killed else 'after it ended'}, "
              f"left {left_turns[-1]:,} turns, {left_memories[-1]:,} memories")
        done(companion(home, "chat", "--import", str(chat)))
        got = counts(home)
        equal += got == expected
        if got != expected:
            print(f"  run {run}: {got}")
        shutil.rmtree(home, ignore_errors=True)
    print(f"| kill -9 at a random moment, then the same import | {args.kills} ({interrupted} interrupted it) | "
          f"left {min(left_turns):,}-{max(left_turns):,} of {args.lines:,} turns, "
          f"{min(left_memories):,}-{max(left_memories):,} memories | {equal} of {args.kills} equal one clean import |")
    equal = 0
    for run in range(args.pairs):
        home = work / f"pair-{run}"
        new_profile(home)
        pair = [companion(home, "--json", "chat", "--import", str(chat)) for _ in range(2)]
        states = sorted(json.loads(done(p))["state"] for p in pair)
        got = counts(home)
        equal += got == expected and states == ["already imported", "imported"]
        if got != expected:
            print(f"  pair {run}: {states} {got}")
        shutil.rmtree(home, ignore_errors=True)
    print(f"| two imports of one file started together | {args.pairs} | one imports, the other waits, "
          f"then adds nothing | {equal} of {args.pairs} equal one clean import |")


# ---- two indexers -------------------------------------------------------------------------------------


def face_photos(folder: Path, count_: int) -> None:
    import numpy as np
    from conftest_perception import astronaut_pixels, grace_hopper_pixels, variants
    from PIL import Image

    scenes = list(variants(astronaut_pixels()).values()) + list(variants(grace_hopper_pixels()).values())
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count_):
        pixels = scenes[i % len(scenes)]
        if i >= len(scenes):     # another file, another hash: a little noise
            noise = np.random.default_rng(i).integers(0, 3, pixels.shape, dtype=np.uint8)
            pixels = np.clip(pixels.astype(np.int16) + noise, 0, 255).astype(np.uint8)
        Image.fromarray(np.ascontiguousarray(pixels)).save(folder / f"{i:03}.jpg", quality=90)


def check_index(args: argparse.Namespace, work: Path) -> None:
    folder = work / "photos"
    face_photos(folder, args.photos)
    models = work / "models"
    models.mkdir(exist_ok=True)
    clean = work / "index-clean"
    done(companion(clean, "index", str(folder), models=models))
    faces = count(clean, "SELECT count(*) FROM faces")
    photos = count(clean, "SELECT count(*) FROM photos WHERE status = 'ok'")
    trees = [("this tree", REPO)] + ([("baseline", args.baseline.resolve())] if args.baseline else [])
    for label, tree in trees:
        equal = 0
        for run in range(args.runs):
            home = work / f"index-{run}"
            done(companion(home, "concepts", "list", tree=tree))         # migrated before the race starts
            pair = [companion(home, "--json", "index", str(folder), models=models, tree=tree) for _ in range(2)]
            news = sorted(json.loads(done(p))["new"] for p in pair)
            got = (count(home, "SELECT count(*) FROM photos WHERE status = 'ok'"),
                   count(home, "SELECT count(*) FROM faces"))
            equal += got == (photos, faces) and news == [0, photos]
            print(f"  {label} run {run}: photos new per process {news}, photos {got[0]}, face rows {got[1]}")
            shutil.rmtree(home, ignore_errors=True)
        print(f"| two `companion index` on one folder at once ({label}) | {args.runs} | {photos} photos, {faces} "
              f"faces (one clean run) | {equal} of {args.runs} with one face row per face |")


# ---- watch during a long import -----------------------------------------------------------------------


def check_watch(args: argparse.Namespace, work: Path) -> None:
    from PIL import Image

    home, watched, source = work / "watch", work / "watched", work / "incoming"
    watched.mkdir()
    source.mkdir()
    for i in range(args.photos):
        Image.new("RGB", (320, 240), ((i * 37) % 256, (i * 91) % 256, (i * 53) % 256)).save(source / f"{i:03}.jpg")
    chat = work / "long.jsonl"
    write_conversation(chat, args.turns, args.user_share)
    new_profile(home)
    done(companion(home, "folders", "add", str(watched)))
    # Ctrl-C ends `watch`; a benchmark started in the background inherits SIGINT ignored, so put it back.
    watcher = companion(home, "watch", "--no-initial-scan", sigint=True)
    time.sleep(3)                                          # the watcher is up
    started = time.perf_counter()
    importer = companion(home, "chat", "--import", str(chat))
    copied_at = []
    for i in range(args.photos):                           # spread over the first minutes of the import
        time.sleep(args.every)
        shutil.copy(source / f"{i:03}.jpg", watched / f"{i:03}.jpg")
        copied_at.append(count(home, "SELECT count(*) FROM turns"))
    done(importer)
    import_seconds = time.perf_counter() - started
    deadline = time.monotonic() + 120
    indexed = 0
    while time.monotonic() < deadline and indexed < args.photos:
        time.sleep(0.5)
        indexed = count(home, "SELECT count(*) FROM photos WHERE status = 'ok'")
    watcher.send_signal(signal.SIGINT)
    _, err = watcher.communicate(timeout=60)
    locked = err.count("database is locked") + err.count("locked by another")
    print(f"  copied while the import had stored {copied_at[0]:,}-{copied_at[-1]:,} turns; "
          f"import {import_seconds:.0f} s")
    print(f"| `watch` during a {args.turns:,}-turn import ({args.user_share:.0%} user turns) | 1 | "
          f"{args.photos} photos copied in during the import | {indexed} of {args.photos} indexed by the end; "
          f"{locked} 'locked' messages |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="check", required=True)
    imports = sub.add_parser("imports")
    imports.add_argument("--kills", type=int, default=20)
    imports.add_argument("--pairs", type=int, default=5)
    imports.add_argument("--lines", type=int, default=2000)
    imports.add_argument("--seed", type=int, default=27)
    index = sub.add_parser("index")
    index.add_argument("--runs", type=int, default=3)
    index.add_argument("--photos", type=int, default=40)
    index.add_argument("--baseline", type=Path, help="another checkout to run the same race with (e.g. main)")
    watch = sub.add_parser("watch")
    watch.add_argument("--turns", type=int, default=300_000)
    watch.add_argument("--user-share", type=float, default=0.1)
    watch.add_argument("--photos", type=int, default=20)
    watch.add_argument("--every", type=float, default=3.0, help="seconds between two copied photos")
    for p in (imports, index, watch):
        p.add_argument("--work", type=Path, help="scratch folder (default: a new temporary one)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix=f"companion-writers-{args.check}-"))
    work.mkdir(parents=True, exist_ok=True)
    {"imports": check_imports, "index": check_index, "watch": check_watch}[args.check](args, work)


if __name__ == "__main__":
    main()
