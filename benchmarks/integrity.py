"""What checking the database costs: ``PRAGMA quick_check`` on open and ``integrity_check`` in doctor.

Run (the profile is built once into .cache/scale/, about two minutes per 100k photos):

    PYTHONPATH=. python benchmarks/integrity.py [--photos 100000] [--repeats 5]

On a private copy of a synthetic profile (benchmarks/scale_profile.py) it times, median of
``--repeats`` warm runs: opening the store (``Store.open``, which starts the quick check on its
own thread and returns), the quick check's verdict (``Store.verify``, what the command line waits
for before it prints), the full ``integrity_check`` (``companion doctor``), and as baselines the
first page of ``memories list`` and a store opened with no check at all, all in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_profile import REPO, Spec, copy_profile, ensure_profile

from companion.app.services import profile_files
from companion.core.store import Database, Store, integrity
from companion.paths import resolve


def median_ms(step: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        step()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    home = ensure_profile(REPO / ".cache" / "scale", Spec(args.photos))
    with tempfile.TemporaryDirectory() as tmp:
        paths = resolve(copy_profile(home, Path(tmp) / "profile"))
        files = profile_files(paths)
        Store.open(paths.db_path, files=files).close()       # migrate the copy once (not timed)
        size_mb = paths.db_path.stat().st_size / 1e6

        def unchecked() -> None:
            Database(paths.db_path).query("SELECT count(*) FROM schema_migrations")

        def opened() -> None:
            Store.open(paths.db_path, files=files).close()

        def verdict() -> None:
            store = Store.open(paths.db_path, files=files)
            store.verify()
            store.close()

        def memories_page() -> None:
            store = Store.open(paths.db_path, files=files)
            store.memories.list(limit=50)
            store.close()

        reader = Database(paths.db_path)
        rows = [("open, no check (baseline)", median_ms(unchecked, args.repeats)),
                ("Store.open (check started, not awaited)", median_ms(opened, args.repeats)),
                ("first page of memories list", median_ms(memories_page, args.repeats)),
                ("Store.open + quick_check verdict", median_ms(verdict, args.repeats)),
                ("integrity_check (doctor)", median_ms(lambda: integrity.integrity_check(reader), args.repeats))]
        reader.close()
    base = rows[0][1]
    print(f"{args.photos} photos, database {size_mb:.0f} MB, median of {args.repeats} warm runs")
    for name, ms in rows:
        print(f"  {name:42} {ms:8.1f} ms  {ms / base:8.1f}x baseline")


if __name__ == "__main__":
    main()
