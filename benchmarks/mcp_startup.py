"""How fast ``companion mcp`` is ready: the time from launch to the reply to ``initialize``.

A desktop AI app launches the server when it starts, and waits for that reply before it lists the
tools; it must come within a second. The baseline, measured in the same run, is ``companion
--version`` (the interpreter and the command line's imports, nothing else). Each run is a fresh
process on a fresh profile copy of the same kind (an empty profile, or one made by ``--profile``).

Wall time on a shared machine mostly measures the other work running; the CPU time each process used
until then (user + system: ``--version`` until it exits, ``mcp`` until its reply, read from /proc) is what
an idle machine's wall time comes close to, start-up being one busy thread reading cached files.

    PYTHONPATH=. .venv/bin/python benchmarks/mcp_startup.py [--runs 15] [--profile DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def version(env: dict[str, str]) -> tuple[float, float]:
    """Seconds for ``companion --version`` to exit: wall, CPU."""
    start, cpu = time.perf_counter(), cpu_of_children()
    subprocess.run([sys.executable, "-m", "companion", "--version"], env=env, check=True, capture_output=True)
    return time.perf_counter() - start, cpu_of_children() - cpu


def initialize(env: dict[str, str]) -> tuple[float, float]:
    """Seconds from launching ``companion mcp`` to its reply to ``initialize`` (then it is closed): wall, and
    the CPU the process had used by then (Linux)."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "companion", "mcp"], env=env, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(json.dumps(INITIALIZE) + "\n")
    process.stdin.flush()
    reply = json.loads(process.stdout.readline())
    elapsed = time.perf_counter() - start
    fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    used = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")     # utime + stime, this process
    assert reply.get("id") == 1 and "result" in reply, reply
    process.stdin.close()
    process.wait(timeout=30)
    return elapsed, used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--profile", type=Path, help="a profile folder to copy for each run (default: empty)")
    args = parser.parse_args()
    repo = str(Path(__file__).resolve().parents[1])
    times: dict[str, list[tuple[float, float]]] = {"companion --version": [], "companion mcp: initialize reply": []}
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
    load = os.getloadavg()[0]
    what = f"profile {args.profile}" if args.profile else "empty profile"
    print(f"{args.runs} runs each, median (p90), {what}, "
          f"{os.cpu_count()} CPUs, load average {load:.1f}")
    for column, label in ((0, "wall"), (1, "CPU")):
        base = statistics.median(v[column] for v in times["companion --version"])
        for name, values in times.items():
            seconds = sorted(v[column] for v in values)
            median, p90 = statistics.median(seconds), seconds[int(0.9 * (len(seconds) - 1))]
            print(f"  {label:4s} {name:34s} {median * 1000:6.0f} ms ({p90 * 1000:.0f} ms)  "
                  f"{median / base:.2f}x the baseline")


if __name__ == "__main__":
    main()
