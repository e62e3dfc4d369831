"""Which face detector to run: the fastest one that works here, unless the user chose one.

Backends probe what this machine can run (a wheel that imports, a CPU feature, a
converted model file, a self-check on a blank image) and report one
:class:`DetectorStatus` per detector; :func:`choose_detector` turns those and the
``face_detector`` setting into a :class:`DetectorChoice` with a reason a user can read
in ``companion doctor``, and a note when the fast detectors are all unavailable and
the slower, less sensitive HOG is used.

Every detector's boxes feed the same landmarks and identity model, so switching
detectors never needs a re-index: faces found by any of them group together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from companion.config import FACE_DETECTORS

AUTO = "auto"
# What the face_detector setting allows ("auto", then the detectors in the order "auto" prefers them:
# fastest and most sensitive first, benchmarks/README.md, "Face detectors"): the setting's type is the list.
SETTING_VALUES: tuple[str, ...] = FACE_DETECTORS
DETECTORS: tuple[str, ...] = tuple(v for v in SETTING_VALUES if v != AUTO)
FALLBACK = "hog"


@dataclass(frozen=True)
class DetectorStatus:
    """Whether one detector can run here, and why (or why not), in words."""

    name: str
    available: bool
    detail: str


@dataclass(frozen=True)
class DetectorChoice:
    """The detector to use, why, and a note for the user when something is not as it should be."""

    name: str
    reason: str
    note: str = ""
    candidates: tuple[DetectorStatus, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {"detector": self.name, "reason": self.reason, "note": self.note,
                "candidates": {s.name: {"available": s.available, "detail": s.detail} for s in self.candidates}}


def _unavailable(statuses: Sequence[DetectorStatus], names: Sequence[str]) -> str:
    by_name = {s.name: s for s in statuses}
    return "; ".join(f"{n}: {by_name[n].detail}" for n in names if n in by_name and not by_name[n].available)


def choose_detector(setting: str, statuses: Sequence[DetectorStatus]) -> DetectorChoice:
    """The detector for ``setting`` ("auto" or a name) given what is available.

    A detector named in settings is used when it is available; otherwise the automatic
    choice is used, with a note saying why. HOG is the last resort and is used even when
    its own status says it is unavailable (the face backend then reports the real error).
    """
    statuses = tuple(statuses)
    by_name = {s.name: s for s in statuses}
    wanted = (setting or AUTO).strip().lower()
    notes: list[str] = []
    if wanted != AUTO:
        status = by_name.get(wanted)
        if wanted not in DETECTORS:
            notes.append(f"face_detector = {setting!r} in settings is not one of {', '.join(SETTING_VALUES)}; "
                         "choosing automatically")
        elif status is not None and status.available:
            return DetectorChoice(wanted, f"set in settings (face_detector = {wanted})", "", statuses)
        else:
            detail = status.detail if status is not None else "not probed"
            notes.append(f"face_detector = {wanted} in settings, but it cannot run here ({detail}); "
                         "choosing automatically")
    for name in DETECTORS:
        status = by_name.get(name)
        if name != FALLBACK and status is not None and status.available:
            return DetectorChoice(name, f"fastest available: {status.detail}", " ".join(notes), statuses)
    fast = [n for n in DETECTORS if n != FALLBACK]
    notes.append("no fast face detector works here, so dlib's HOG is used: it misses many faces smaller "
                 f"than ~5 % of the photo width and costs about twice the CPU ({_unavailable(statuses, fast)})")
    return DetectorChoice(FALLBACK, "fallback: no fast detector available", " ".join(notes), statuses)

