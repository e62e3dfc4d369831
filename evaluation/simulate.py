"""``annotated`` perception: the dataset's ground-truth presence, corrupted at configurable rates.

A miss drops a concept that is in the photo (a missed person becomes an
unknown face); a false match adds a known concept that is not there. The
same seeded draw serves every baseline, so they differ only in memory and
reasoning, never in what they were told the photo shows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Seen:
    """What perception reports for one photo."""

    present: tuple[str, ...]     # concept names perception claims are in the photo
    unknown_faces: int = 0


def annotate(key: str, present: tuple[str, ...], strangers: int, known: list[str], categories: dict[str, str],
             miss_rate: float = 0.0, false_match_rate: float = 0.0, seed: int = 0) -> Seen:
    rng = random.Random(f"{seed}:{key}")
    kept, unknown = [], strangers
    for name in present:
        if rng.random() < miss_rate:
            unknown += categories.get(name) == "person"
        else:
            kept.append(name)
    if rng.random() < false_match_rate:
        absent = [n for n in known if n not in present]
        if absent:
            kept.append(rng.choice(absent))
    return Seen(tuple(kept), unknown)
