"""Peak memory of ``companion chat --import`` on large files: this tree against another checkout.

Writes a synthetic JSONL conversation (people, places, activities; a share of user turns, the rest
assistant replies; a session every 1,000 lines), then runs ``python -m companion chat --import`` on
it in a fresh profile, once per tree, and reads each child's peak RSS from ``wait4`` (Linux/macOS).
The baseline is the same command with another checkout first on ``PYTHONPATH`` (e.g. ``/work/main``
before the streaming import).

Learning is what takes time (about 3 ms per user turn here, dateparser and the gazetteer), so a
million-line file is run with few user turns; the peak does not depend on that share in the
streaming import (one line and one batch at a time), which ``--user-share`` lets you check.

    python benchmarks/import_memory.py --lines 1000000 --user-share 0.02 --baseline /work/main
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PEOPLE = ["Anna", "Bo", "Carla", "Dev"]
PLACES = ["Paris", "Lyon", "Nice", "Berlin", "Rome", "Porto"]
ACTIVITIES = ["hiking", "swimming", "cooking", "reading", "cycling", "painting"]


def write_conversation(path: Path, lines: int, user_share: float, seed: int = 7) -> None:
    rng = random.Random(seed)
    when = datetime(2015, 1, 1, 8, tzinfo=timezone.utc)
    with open(path, "w", encoding="utf-8") as out:
        for number in range(lines):
            # A few minutes between messages, a new session (an 18-hour gap) every 1,000 lines.
            when += timedelta(minutes=1080 if number % 1000 == 999 else rng.choice([1, 2, 5]))
            if rng.random() < user_share:
                text = f"I went {rng.choice(ACTIVITIES)} in {rng.choice(PLACES)} with {rng.choice(PEOPLE)}."
                row = {"time": when.isoformat(), "role": "user", "text": text}
            else:
                row = {"time": when.isoformat(), "role": "assistant", "text": "That sounds lovely, tell me more."}
            out.write(json.dumps(row) + "\n")


def companion(tree: Path, home: Path, *args: str) -> tuple[int, float, float, str]:
    """(exit status, peak RSS in MB, seconds, last output line) of one command in its own process."""
    env = dict(os.environ, COMPANION_HOME=str(home), PYTHONPATH=str(tree))
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "companion", *args], env=env, cwd=tree,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    peak_kb = usage.ru_maxrss / (1024 if sys.platform == "darwin" else 1)   # bytes on macOS, KB on Linux
    lines = output.strip().splitlines()
    return os.waitstatus_to_exitcode(status), peak_kb / 1024, seconds, lines[-1] if lines else ""


def measure(tree: Path, chat: Path, work: Path) -> tuple[float, float, str]:
    home = work / f"home-{tree.name}-{time.monotonic_ns()}"
    for name in PEOPLE:
        companion(tree, home, "concepts", "add", "--name", name, "--category", "person")
    code, peak, seconds, last = companion(tree, home, "chat", "--import", str(chat))
    if code != 0:
        raise SystemExit(f"{tree}: exit {code}: {last}")
    shutil.rmtree(home, ignore_errors=True)
    return peak, seconds, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--user-share", type=float, default=0.02)
    parser.add_argument("--baseline", type=Path, help="another checkout to compare with (e.g. main)")
    parser.add_argument("--work", type=Path, help="where to write the files (default: a temporary folder)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="companion-import-memory-"))
    work.mkdir(parents=True, exist_ok=True)
    trees = [("this tree", REPO)] + ([("baseline", args.baseline.resolve())] if args.baseline else [])
    print("| lines | user turns | tree | peak RSS | time | result |\n|---:|---:|---|---:|---:|---|")
    for lines in args.lines:
        chat = work / f"chat-{lines}.jsonl"
        write_conversation(chat, lines, args.user_share)
        size = chat.stat().st_size / 1e6
        for label, tree in trees:
            peak, seconds, last = measure(tree, chat, work)
            print(f"| {lines:,} ({size:.0f} MB) | {args.user_share:.0%} | {label} | {peak:,.0f} MB | "
                  f"{seconds:,.0f} s | {last} |", flush=True)
        chat.unlink()


if __name__ == "__main__":
    main()
