"""How well the difference hash tells copies from other photos: ``python benchmarks/near_duplicates.py PATH``.

For every photo under PATH (e.g. ``shared/data/camera-samples``) it makes the
copies a library collects (half size, a quarter size, re-encoded at JPEG quality
60, a messenger's 1280 px at quality 70, a 3 % crop, a little brighter) and
prints the bits by which each copy's hash differs from its photo's, against the
bits between different photos, and what the thresholds in
``companion/core/library/near_duplicates.py`` make of them: copies grouped
(recall) and different photos wrongly grouped (false pairs). Hashing time is
given as a ratio to decoding the same photo, measured in the same run.
"""

from __future__ import annotations

import argparse
import io
import itertools
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance


def copies(image: Image.Image) -> dict[str, Image.Image]:
    def jpeg(img: Image.Image, quality: int) -> Image.Image:
        buffer = io.BytesIO()
        img.save(buffer, "JPEG", quality=quality)
        return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")

    w, h = image.size
    small = image.copy()
    small.thumbnail((1280, 1280))
    return {"half": image.resize((max(1, w // 2), max(1, h // 2))),
            "quarter": image.resize((max(1, w // 4), max(1, h // 4))),
            "quality 60": jpeg(image, 60), "messenger": jpeg(small, 70),
            "crop 3%": image.crop((w * 3 // 200, h * 3 // 200, w - w * 3 // 200, h - h * 3 // 200)),
            "brighter": ImageEnhance.Brightness(image).enhance(1.1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--show", type=int, default=0, help="list this many of the closest pairs of different files")
    args = parser.parse_args(argv)
    from companion.backends.imaging import PillowPhotoReader
    from companion.core.errors import BadImageError
    from companion.core.library.near_duplicates import BURST_BITS, COPY_BITS, dhash, distance
    from companion.core.library.scan import scan_targets

    reader = PillowPhotoReader()
    hashes: dict[str, int] = {}
    copy_bits: dict[str, list[int]] = {}
    decode = hashing = 0.0
    flat: list[str] = []
    for file in scan_targets([args.path]).files:
        try:
            start = time.perf_counter()
            photo = reader.read(Path(file))
            decode += time.perf_counter() - start
        except BadImageError:
            continue
        start = time.perf_counter()
        value = dhash(photo.pixels)
        hashing += time.perf_counter() - start
        if value is None:
            flat.append(file)
            continue
        hashes[file] = value
        image = Image.fromarray(photo.pixels)
        for kind, copy in copies(image).items():
            other = dhash(np.asarray(copy))
            copy_bits.setdefault(kind, []).append(64 if other is None else distance(value, other))
    pairs = [distance(a, b) for a, b in itertools.combinations(hashes.values(), 2)]
    print(f"{len(hashes)} photos hashed, {len(flat)} too flat to hash; {len(pairs)} pairs of different files")
    for kind, bits in copy_bits.items():
        print(f"  {kind:11s} copies: bits differing median {np.median(bits):.0f}, max {max(bits)}; "
              f"grouped as copies (<= {COPY_BITS}): {sum(b <= COPY_BITS for b in bits)}/{len(bits)}")
    histogram = np.bincount(pairs, minlength=65)
    names = list(hashes)
    close = [(distance(hashes[a], hashes[b]), a, b) for a, b in itertools.combinations(names, 2)
             if distance(hashes[a], hashes[b]) <= COPY_BITS]
    for bits, a, b in sorted(close)[:args.show]:
        print(f"    {bits:2d} bits: {Path(a).relative_to(args.path)}  ~  {Path(b).relative_to(args.path)}")
    print(f"  different photos: min {min(pairs)} bits, 1st percentile {np.percentile(pairs, 1):.0f}, "
          f"median {np.median(pairs):.0f}")
    print(f"  false pairs at <= {COPY_BITS} bits (copy rule): {int(histogram[:COPY_BITS + 1].sum())}; "
          f"at <= {BURST_BITS} bits (burst rule, only within seconds): {int(histogram[:BURST_BITS + 1].sum())}")
    print(f"hashing costs {hashing / max(decode, 1e-9):.3f}x decoding "
          f"({1000 * hashing / max(1, len(hashes) + len(flat)):.2f} ms a photo)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
