"""What checking the database costs: ``PRAGMA quick_check`` on open and ``integrity_check`` in doctor.

Run (the profile is built once into .cache/scale/, about two minutes per 100k photos):

    PYTHONPATH=. python benchmarks/integrity.py [--photos 100000] [--repeats 5]

On a private copy of a synthetic profile (benchmarks/scale_profile.py) it times, median of
``--repeats`` warm runs, each after the previous run's check has finished: opening the store
with the check switched off (the baseline, as before this check existed), opening it with the
check started on its own thread (what the window and a command wait for), the quick check's
verdict (``Store.verify``: what the command line waits for before it prints, and the first
write), and the full ``integrity_check`` (``companion doctor``).
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


class NoCheck:
    """Stands in for ``integrity.OpenCheck``: the store as it opened before the check."""

    def __init__(self, db: Database) -> None:
        pass

    def verdict(self, timeout: float | None = None) -> None:
        return None

    def gate(self) -> None:
        pass

    def cancel(self) -> None:
        pass


def median_ms(step: Callable[[], Callable[[], object]], repeats: int) -> float:
    """``step`` runs the timed part and returns the untimed clean-up (waiting for the check, closing)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        finish = step()
        times.append((time.perf_counter() - started) * 1000)
        finish()
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

        def opened() -> Callable[[], object]:
            store = Store.open(paths.db_path, files=files)
            return lambda: (store.verify(), store.close())

        def verdict() -> Callable[[], object]:
            store = Store.open(paths.db_path, files=files)
            store.verify()
            return store.close

        def unchecked() -> Callable[[], object]:
            original, integrity.OpenCheck = integrity.OpenCheck, NoCheck   # type: ignore[misc,assignment]
            try:
                store = Store.open(paths.db_path, files=files)
            finally:
                integrity.OpenCheck = original                              # type: ignore[misc]
            return store.close

        reader = Database(paths.db_path)
        rows = [("Store.open, no check (baseline)", median_ms(unchecked, args.repeats)),
                ("Store.open, check started", median_ms(opened, args.repeats)),
                ("Store.open + quick_check verdict", median_ms(verdict, args.repeats)),
                ("integrity_check (doctor)", median_ms(lambda: (integrity.integrity_check(reader), list)[1],
                                                       args.repeats))]
        reader.close()
    base = rows[0][1]
    print(f"{args.photos} photos, database {size_mb:.0f} MB, median of {args.repeats} warm runs")
    for name, ms in rows:
        print(f"  {name:42} {ms:8.1f} ms  {ms / base:8.1f}x baseline")


if __name__ == "__main__":
    main()
