"""The figures a benchmark script writes with ``--json``: ``benchmarks/results/<script>.json``.

Each file holds where its figures came from (script, command, date, commit, machine) and the
figures, each with its target where the issue set one; ``benchmarks/summary.py`` turns them into
the table at the top of ``benchmarks/README.md``.

    {"script": "benchmarks/gui.py", "command": "...", "date": "2026-12-07", "commit": "0d15021",
     "machine": "2 cores, Intel Xeon ..., load 3.1", "note": "...",
     "figures": [{"name": "...", "value": 14.7, "unit": "ms", "target": "<", "limit": 50}]}

``target`` is one of ``<``, ``<=``, ``>``, ``>=`` (``limit`` is the bound) or absent (a figure
without a target, kept for the record).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
TARGETS = ("<", "<=", ">", ">=")


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    target: str | None = None     # one of TARGETS
    limit: float | None = None

    def met(self) -> bool | None:
        if self.target is None or self.limit is None:
            return None
        return {"<": self.value < self.limit, "<=": self.value <= self.limit,
                ">": self.value > self.limit, ">=": self.value >= self.limit}[self.target]


def machine() -> str:
    """Cores, CPU model and load: enough to tell a quiet run from a busy one."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = f", load {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    return f"{os.cpu_count()} cores, {model}{load}"


def commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else ""


def write(script: str, figures: list[Figure], note: str = "", name: str = "") -> Path:
    """Write this run's figures for ``script`` (its file name, e.g. ``gui.py``) to ``results/<name>.json``
    (``name``: the script's stem unless one script writes two files); returns the file."""
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{name or Path(script).stem}.json"
    record = {
        "script": f"benchmarks/{Path(script).name}",
        "command": " ".join(["python", f"benchmarks/{Path(script).name}", *sys.argv[1:]]),
        "date": datetime.now(timezone.utc).date().isoformat(),
        "commit": commit(),
        "machine": machine(),
        "note": note,
        "figures": [{k: v for k, v in asdict(f).items() if v is not None} for f in figures],
    }
    out.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"figures written to {out} (benchmarks/summary.py puts them in the README)")
    return out


def read(path: Path) -> tuple[dict[str, str], list[Figure]]:
    """A results file: its provenance and its figures."""
    record = json.loads(path.read_text(encoding="utf-8"))
    figures = [Figure(**f) for f in record.pop("figures")]
    for figure in figures:
        if figure.target is not None and figure.target not in TARGETS:
            raise ValueError(f"{path.name}: {figure.name!r} has target {figure.target!r}, not one of {TARGETS}")
    return record, figures
