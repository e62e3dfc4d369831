"""How fast ``companion mcp`` is ready: the time from launch to the reply to ``initialize``.

A desktop AI app launches the server when it starts, and waits for that reply before it lists the
tools; it must come within a second. The baseline, measured in the same run, is ``companion
--version`` (the interpreter and the command line's imports, nothing else). Each run is a fresh
process on a fresh profile copy of the same kind (an empty profile, or one made by ``--profile``).

    PYTHONPATH=. .venv/bin/python benchmarks/mcp_startup.py [--runs 15] [--profile DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                         "clientInfo": {"name": "benchmark", "version": "1"}}}


def version(env: dict[str, str]) -> float:
    """Seconds for ``companion --version`` to exit."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "companion", "--version"], env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def initialize(env: dict[str, str]) -> float:
    """Seconds from launching ``companion mcp`` to its reply to ``initialize`` (then it is closed)."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "companion", "mcp"], env=env, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(json.dumps(INITIALIZE) + "\n")
    process.stdin.flush()
    reply = json.loads(process.stdout.readline())
    elapsed = time.perf_counter() - start
    assert reply.get("id") == 1 and "result" in reply, reply
    process.stdin.close()
    process.wait(timeout=30)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--profile", type=Path, help="a profile folder to copy for each run (default: empty)")
    args = parser.parse_args()
    repo = str(Path(__file__).resolve().parents[1])
    times: dict[str, list[float]] = {"companion --version": [], "companion mcp: initialize reply": []}
    with tempfile.TemporaryDirectory() as scratch:
        for run in range(args.runs + 1):      # run 0 warms the disk cache and writes the .pyc files
            home = Path(scratch) / f"home-{run}"
            if args.profile is not None:
                shutil.copytree(args.profile, home)
            env = {**os.environ, "COMPANION_HOME": str(home), "PYTHONPATH": repo}
            # Alternate which goes first, so neither always gets the warmer cache.
            pair = [("companion --version", version), ("companion mcp: initialize reply", initialize)]
            for name, measure in pair if run % 2 else reversed(pair):
                seconds = measure(env)
                if run:
                    times[name].append(seconds)
    base = statistics.median(times["companion --version"])
    print(f"{args.runs} runs each, median (p90), {'profile ' + str(args.profile) if args.profile else 'empty profile'}")
    for name, values in times.items():
        median = statistics.median(values)
        p90 = sorted(values)[int(0.9 * (len(values) - 1))]
        print(f"  {name:34s} {median * 1000:6.0f} ms ({p90 * 1000:.0f} ms)  {median / base:.2f}x the baseline")


if __name__ == "__main__":
    main()
