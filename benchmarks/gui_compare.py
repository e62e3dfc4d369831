"""Run benchmarks/gui.py of another build (default: ``main``) and of this tree alternately, in one run.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/gui_compare.py [--baseline main] [--rounds 2]

The baseline is exported with ``git archive`` into a temporary folder (its own
``benchmarks/gui.py`` and ``companion``; the same virtual environment), so both
builds are measured on the same machine in the same minutes. Prints each figure
of both and the ratio this/baseline; timings on a shared machine move by tens
of percent, so only same-run ratios are compared.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIGURE = re.compile(r"^(?P<name>[^:]+): (?:median (?P<start>[\d.]+) ms|longest stall (?P<stall>[\d.]+) ms)")


def export(ref: str, into: Path) -> Path:
    data = subprocess.run(["git", "archive", ref], cwd=REPO, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    cache = REPO / ".cache"
    if cache.exists():
        (into / ".cache").symlink_to(cache.resolve())
    return into


def run(tree: Path, photos: int, starts: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree), "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, str(tree / "benchmarks" / "gui.py"), "--photos", str(photos),
                          "--starts", str(starts)], cwd=tree, env=env, capture_output=True, text=True, check=True)
    figures = {}
    for line in out.stdout.splitlines():
        match = FIGURE.match(line.strip())
        if match:
            figures[match["name"]] = float(match["start"] or match["stall"])
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="main", help="git ref of the build to compare with")
    parser.add_argument("--rounds", type=int, default=2, help="baseline/this pairs, alternated")
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--starts", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gui-baseline-") as tmp:
        baseline = export(args.baseline, Path(tmp))
        results: dict[str, dict[str, list[float]]] = {"baseline": {}, "this": {}}
        for round_ in range(args.rounds):
            for label, tree in (("baseline", baseline), ("this", REPO)):
                for name, value in run(tree, args.photos, args.starts).items():
                    results[label].setdefault(name, []).append(value)
                print(f"round {round_ + 1}: {label} done", flush=True)
    print(f"\n{'figure (ms; cold start is a median of --starts, stalls are the longest)':74} "
          f"{args.baseline:>10} {'this':>10} {'ratio':>7}")
    for name in dict.fromkeys([*results["baseline"], *results["this"]]):
        base, this = results["baseline"].get(name), results["this"].get(name)
        b = f"{statistics.median(base):.1f}" if base else "-"
        t = f"{statistics.median(this):.1f}" if this else "-"
        ratio = f"{statistics.median(this) / statistics.median(base):.2f}" if base and this and \
            statistics.median(base) > 0 else ""
        print(f"{name[:74]:74} {b:>10} {t:>10} {ratio:>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
