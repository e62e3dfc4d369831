"""KNN latency of the memory store's sqlite-vec index next to a numpy brute force.

Run: .venv/bin/python benchmarks/store.py [--sizes 10000 100000] [--queries 200]

Both searches run in this process on the same vectors and queries, so the
ratio between them is what to compare across machines.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from companion.core.store import Store
from companion.core.store.db import vec_blob

DIM = 512
K = 10


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def bench(size: int, queries: int, rng: np.random.Generator) -> dict[str, float]:
    vectors = rng.normal(size=(size, DIM)).astype("f4")
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    probe = rng.normal(size=(queries, DIM)).astype("f4")
    probe /= np.linalg.norm(probe, axis=1, keepdims=True)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "bench.db")
        started = time.perf_counter()
        with store.db.transaction() as conn:
            conn.executemany("INSERT INTO vec_images (photo_id, embedding) VALUES (?, ?)",
                             ((i + 1, vec_blob(v)) for i, v in enumerate(vectors)))
        insert_s = time.perf_counter() - started
        sql = "SELECT photo_id, distance FROM vec_images WHERE embedding MATCH ? AND k = ?"
        store.db.query(sql, (vec_blob(probe[0]), K))  # warm the page cache
        vec_ms, numpy_ms, agree = [], [], 0
        for q in probe:
            t0 = time.perf_counter()
            got = [r[0] - 1 for r in store.db.query(sql, (vec_blob(q), K))]
            t1 = time.perf_counter()
            distances = 1.0 - vectors @ q
            top = np.argpartition(distances, K)[:K]
            expected = top[np.argsort(distances[top])].tolist()
            t2 = time.perf_counter()
            vec_ms.append((t1 - t0) * 1000)
            numpy_ms.append((t2 - t1) * 1000)
            agree += got == expected
        store.close()
    return {"size": size, "insert_s": insert_s, "vec_p50": statistics.median(vec_ms), "vec_p95": percentile(vec_ms, 95),
            "np_p50": statistics.median(numpy_ms), "np_p95": percentile(numpy_ms, 95), "agree": agree / queries}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"KNN, {DIM}-d float32, cosine, k={K}, {args.queries} queries per size")
    print(f"{'vectors':>8}  {'insert s':>8}  {'vec0 p50 ms':>11}  {'vec0 p95 ms':>11}  "
          f"{'numpy p50 ms':>12}  {'numpy p95 ms':>12}  {'vec0/numpy':>10}  {'same top-k':>10}")
    for size in args.sizes:
        r = bench(size, args.queries, rng)
        print(f"{r['size']:>8}  {r['insert_s']:>8.1f}  {r['vec_p50']:>11.2f}  {r['vec_p95']:>11.2f}  "
              f"{r['np_p50']:>12.2f}  {r['np_p95']:>12.2f}  {r['vec_p50'] / r['np_p50']:>10.2f}  {r['agree']:>10.0%}")


if __name__ == "__main__":
    main()
