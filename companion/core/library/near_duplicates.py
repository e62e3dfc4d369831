"""Near-duplicate photos: resized or re-encoded copies and bursts, grouped so that they count once.

Byte-identical copies are one photo already (one content hash, several paths). For
the rest, each photo gets a 64-bit *difference hash* (dHash: the grey image in 9x8
cells, one bit per pair of neighbouring cells, brighter or not), which survives
resizing, re-encoding and small edits but not another view. Two photos are in one
group when their hashes differ in at most ``COPY_BITS`` bits (a copy, whenever
either was taken), or in at most ``BURST_BITS`` bits and were taken at most
``BURST_SECONDS`` apart (a burst, an HDR pair). The thresholds were measured on
real camera files (``benchmarks/near_duplicates.py``; figures in
``benchmarks/README.md``).
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

COPY_BITS = 6           # camera samples: 91-100 % of resized/re-encoded/cropped copies; different pictures 13+
BURST_BITS = 12         # the same scene seconds apart: an HDR pair differs by 5-8 bits
BURST_SECONDS = 30.0
FLAT_STEP = 2.0         # grey levels (of 255) between neighbouring cells that count as an edge ...
MIN_EDGES = 16          # ... and how many of the 64 a photo needs to have a hash at all
_MASK = (1 << 64) - 1
_GREY = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def dhash(pixels: np.ndarray) -> int | None:
    """The 64-bit difference hash of RGB (or grey) pixels, as an unsigned int; None for a nearly flat image.

    A black frame or a blank page has no edges to hash: its bits are noise, and every such
    image would look like every other, so it joins no group.
    """
    array = np.asarray(pixels)
    # Every few pixels are enough for 72 cell means (1024 px -> ~128): ~10x less work than all of them.
    step = max(1, min(array.shape[0], array.shape[1]) // 128)
    sample = array[::step, ::step].astype(np.float32)
    grey = sample @ _GREY if sample.ndim == 3 else sample
    height, width = grey.shape
    if height < 8 or width < 9:
        grey = np.kron(grey, np.ones((-(-8 // height), -(-9 // width)), dtype=np.float32))
        height, width = grey.shape
    rows = np.linspace(0, height, 9).round().astype(int)
    cols = np.linspace(0, width, 10).round().astype(int)
    sums = np.add.reduceat(np.add.reduceat(grey, rows[:-1], axis=0), cols[:-1], axis=1)
    cells = sums / np.outer(np.diff(rows), np.diff(cols))
    steps = (cells[:, 1:] - cells[:, :-1]).ravel()
    if np.count_nonzero(np.abs(steps) > FLAT_STEP) < MIN_EDGES:
        return None
    bits = steps > 0
    return int(np.packbits(bits, bitorder="little").view("<u8")[0])


def distance(a: int, b: int) -> int:
    """How many of the 64 bits differ."""
    return ((a ^ b) & _MASK).bit_count()


class GroupIndex:
    """The hashes of the library's photos, in memory for one indexing run, to find a new photo's group.

    Rows are (photo id, hash, the lead photo of its group or None, capture time in epoch seconds or None).
    """

    def __init__(self, rows: list[tuple[int, int, int | None, float | None]]) -> None:
        self.size = len(rows)
        capacity = max(64, 2 * self.size)     # room to grow: a photo added costs no copy of the rest
        self.ids = np.zeros(capacity, dtype=np.int64)
        self.hashes = np.zeros(capacity, dtype=np.uint64)
        self.leads = np.zeros(capacity, dtype=np.int64)
        self.times = np.full(capacity, np.nan, dtype=np.float64)
        for i, (photo_id, value, lead, taken) in enumerate(rows):
            self._put(i, photo_id, value, lead, taken)

    def group_of(self, value: int, taken_at: datetime | None) -> int | None:
        """The lead photo of the group a photo with hash ``value`` joins, or None (a photo of its own)."""
        n = self.size
        if not n:
            return None
        bits = np.bitwise_count(self.hashes[:n] ^ np.uint64(value & _MASK))
        close = np.flatnonzero(bits <= BURST_BITS)        # a handful at most: the rest is decided here
        if not len(close):
            return None
        near = bits[close] <= COPY_BITS
        if taken_at is not None:
            near |= np.abs(self.times[close] - taken_at.timestamp()) <= BURST_SECONDS
        found = close[near]
        if not len(found):
            return None
        return int(self.leads[found[np.argmin(bits[found])]])

    def add(self, photo_id: int, value: int, lead: int | None, taken_at: datetime | None) -> None:
        if self.size == len(self.ids):
            grow = len(self.ids)
            self.ids = np.concatenate([self.ids, np.zeros(grow, dtype=np.int64)])
            self.hashes = np.concatenate([self.hashes, np.zeros(grow, dtype=np.uint64)])
            self.leads = np.concatenate([self.leads, np.zeros(grow, dtype=np.int64)])
            self.times = np.concatenate([self.times, np.full(grow, np.nan)])
        self._put(self.size, photo_id, value, lead, taken_at.timestamp() if taken_at is not None else None)
        self.size += 1

    def _put(self, i: int, photo_id: int, value: int, lead: int | None, taken: float | None) -> None:
        self.ids[i], self.hashes[i] = photo_id, np.uint64(value & _MASK)
        self.leads[i] = lead if lead is not None else photo_id
        self.times[i] = np.nan if taken is None else taken
