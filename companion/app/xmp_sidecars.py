"""``companion people write-xmp``: the names given in Companion written as XMP sidecars for other apps.

Every photo with a named face gets ``photo.jpg.xmp`` (``core/library/xmp_write.py``: MWG Regions and
Microsoft People Tags, as digiKam, Lightroom, Picasa and Windows read them). The photo itself is
never opened for writing; a sidecar another app wrote is kept and listed; one Companion wrote is
brought up to date. The photo's EXIF orientation is read (``PhotoReader``) so the boxes follow
MWG's convention of the image as stored.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from companion.app.services import Services
from companion.core.errors import CompanionError
from companion.core.library import xmp_write


@dataclass(frozen=True)
class SidecarReport:
    written: int
    unchanged: int
    kept: tuple[str, ...]          # photos whose existing sidecar another app wrote (left alone)
    missing: tuple[str, ...]       # photos no longer on disk, or that could not be read


def write_xmp(services: Services, *, progress: Callable[[int, int, str], None] | None = None,
              cancel: threading.Event | None = None) -> SidecarReport:
    """Write (or update) an XMP sidecar naming the faces of every photo with a named face."""
    store = services.store
    by_photo: dict[int, list[tuple[str, tuple[float, float, float, float]]]] = {}
    for concept in store.concepts.list():
        for face in store.faces.of_concept(concept.id):
            by_photo.setdefault(face.photo_id, []).append((concept.name, (face.box.left, face.box.top,
                                                                          face.box.right, face.box.bottom)))
    written = unchanged = 0
    kept: list[str] = []
    missing: list[str] = []
    for done, (photo_id, faces) in enumerate(sorted(by_photo.items()), start=1):
        if cancel is not None and cancel.is_set():
            break
        photo = store.photos.get(photo_id)
        if photo is None or photo.width <= 0 or photo.height <= 0:
            continue
        path = Path(photo.path)
        if progress is not None:
            progress(done, len(by_photo), path.name)
        try:
            orientation = services.photo_reader.read(path).orientation
            regions = [(name, (left / photo.width, top / photo.height, right / photo.width, bottom / photo.height))
                       for name, (left, top, right, bottom) in faces]
            outcome = xmp_write.write(path, xmp_write.packet(regions, (photo.width, photo.height), orientation))
        except (OSError, CompanionError):
            missing.append(str(path))
            continue
        if outcome == "written":
            written += 1
        elif outcome == "unchanged":
            unchanged += 1
        else:
            kept.append(str(path))
    return SidecarReport(written, unchanged, tuple(kept), tuple(missing))
