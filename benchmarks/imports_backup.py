"""What reading other apps' face tags adds to indexing, and what a backup costs next to copying the file.

    PYTHONPATH=. .venv/bin/python benchmarks/imports_backup.py --photos 300 --rows 20000

1. Face tags: ``xmp_faces.read`` (the embedded packet and the sidecar look-ups) per photo, against
   decoding the same photo (``PillowPhotoReader.read``), on JPEGs of 2000x1500 without and with an
   embedded MWG packet.
2. Backup: ``core.store.backup.snapshot`` (online backup API + integrity check) and the whole
   ``app.backup.backup`` (zip + checksums) of a profile with ``--rows`` memories, against
   ``shutil.copyfile`` of the database file.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from companion.app import backup as backups
from companion.backends.imaging import PillowPhotoReader
from companion.core.library import xmp_faces
from companion.core.store import Store
from companion.core.store.backup import snapshot
from companion.core.store.memories import NewMemory
from companion.paths import resolve

PACKET = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
          '<rdf:Description rdf:about="" xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/" '
          'xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#"><mwg-rs:Regions rdf:parseType="Resource">'
          '<mwg-rs:RegionList><rdf:Bag><rdf:li><rdf:Description mwg-rs:Name="Anna" mwg-rs:Type="Face">'
          '<mwg-rs:Area stArea:x="0.3" stArea:y="0.3" stArea:w="0.1" stArea:h="0.1" stArea:unit="normalized"/>'
          '</rdf:Description></rdf:li></rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions></rdf:Description>'
          '</rdf:RDF></x:xmpmeta>')


def _per_photo(paths: list[Path], step) -> float:  # type: ignore[no-untyped-def]
    times = []
    for path in paths:
        start = time.perf_counter()
        step(path)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def faces(folder: Path, photos: int) -> None:
    rng = np.random.default_rng(0)
    base = Image.fromarray(rng.integers(0, 255, (150, 200, 3), dtype=np.uint8)).resize((2000, 1500))
    plain, tagged = [], []
    for i in range(photos):
        p = folder / f"plain{i}.jpg"
        base.save(p, quality=90)
        plain.append(p)
        t = folder / f"tagged{i}.jpg"
        base.save(t, quality=90, xmp=PACKET.encode())
        tagged.append(t)
    reader = PillowPhotoReader()
    decode = _per_photo(plain, reader.read)
    for name, paths in (("no XMP", plain), ("MWG packet", tagged)):
        tags = _per_photo(paths, xmp_faces.read)
        print(f"face tags, {name}: {tags:.3f} ms/photo median; decoding {decode:.1f} ms; ratio {tags / decode:.4f}")


def backup(folder: Path, rows: int) -> None:
    paths = resolve(folder / "home").ensure()
    store = Store.open(paths.db_path)
    with store.db.transaction():
        for i in range(rows):
            store.memories.add(NewMemory(kind="semantic", content=f"memory number {i} about the garden and Anna"))
    store.close()
    start = time.perf_counter()
    shutil.copyfile(paths.db_path, folder / "copy.db")
    copy = time.perf_counter() - start
    start = time.perf_counter()
    snapshot(paths.db_path, folder / "snap.db")
    snap = time.perf_counter() - start
    start = time.perf_counter()
    backups.backup(paths, folder / "b.zip")
    whole = time.perf_counter() - start
    size = paths.db_path.stat().st_size / 1e6
    print(f"backup of a {size:.1f} MB database: file copy {copy * 1000:.0f} ms; snapshot {snap * 1000:.0f} ms "
          f"({snap / copy:.1f}x); whole archive {whole * 1000:.0f} ms ({whole / copy:.1f}x)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=100)
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        faces(Path(work), args.photos)
        backup(Path(work), args.rows)


if __name__ == "__main__":
    main()
