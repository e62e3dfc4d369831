"""Face tags other photo apps wrote: XMP face regions in the photo or its ``.xmp`` sidecar.

Two schemas are read (with ``defusedxml``: an XMP packet is untrusted input):

- **MWG Regions** (digiKam, Lightroom, Picasa, Apple Photos exports, ExifTool):
  ``mwg-rs:Regions`` › ``mwg-rs:RegionList`` › ``rdf:Bag`` › ``rdf:li``, each with ``mwg-rs:Name``,
  ``mwg-rs:Type`` (only ``Face``, or no type, is a person) and ``mwg-rs:Area``: ``stArea:x``/``y``
  the box's *centre* and ``stArea:w``/``h`` its size, ``stArea:unit="normalized"`` (0-1);
  ``mwg-rs:AppliedToDimensions`` (``stDim:w``/``h``) the image size the box was drawn on.
- **Microsoft People Tags** (Windows Photo Gallery): ``MP:RegionInfo`` › ``MPRI:Regions`` › ``rdf:Bag``
  › ``rdf:li`` with ``MPReg:Rectangle`` ("left, top, width, height", normalised) and
  ``MPReg:PersonDisplayName``.

Properties may be written as attributes or as child elements; both are read. Boxes are
returned normalised to the photo *as shown* (after its EXIF orientation): MWG areas refer to
the image as stored, so a photo whose orientation turns it is turned here too, unless
``AppliedToDimensions`` shows the box was drawn on the already turned image (its width and
height are the shown ones); Microsoft rectangles, which carry no dimensions, are taken as
stored too.

Where: the XMP packet inside the file (found by its ``<x:xmpmeta`` wrapper, which JPEG, TIFF,
PNG, HEIF and WebP all store as plain text), then the sidecars ``photo.jpg.xmp`` and ``photo.xmp``
(any case). A name tagged in several places counts once. Malformed XMP gives a
``problems`` entry with the reason and no tags; it never raises.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

if TYPE_CHECKING:
    from collections.abc import Iterator

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
MWG_RS = "http://www.metadataworkinggroup.com/schemas/regions/"
ST_AREA = "http://ns.adobe.com/xmp/sType/Area#"
ST_DIM = "http://ns.adobe.com/xap/1.0/sType/Dimensions#"
MP = "http://ns.microsoft.com/photo/1.2/"
MPRI = "http://ns.microsoft.com/photo/1.2/t/RegionInfo#"
MPREG = "http://ns.microsoft.com/photo/1.2/t/Region#"

HEAD_BYTES = 512 * 1024           # a JPEG's APP segments (XMP among them) come before the image data
MAX_FILE_BYTES = 64 * 1024 * 1024     # other formats may keep XMP anywhere: searched up to this size
MAX_SIDECAR_BYTES = 4 * 1024 * 1024
_OPEN, _CLOSE = b"<x:xmpmeta", b"</x:xmpmeta>"


@dataclass(frozen=True)
class FaceTag:
    """A person tagged in a photo; ``box`` (left, top, right, bottom) normalised to the photo as shown, or None."""

    name: str
    box: tuple[float, float, float, float] | None
    schema: str           # "mwg" or "microsoft"
    origin: str           # "embedded" or the sidecar's file name


@dataclass
class FaceTags:
    tags: list[FaceTag] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)     # "photo.xmp: not well-formed XML (line 3)", ...


def read(path: str | Path, orientation: int = 1, size: tuple[int, int] | None = None) -> FaceTags:
    """Every face tag of the photo at ``path`` (embedded, then sidecars), each person once.

    ``orientation``: the photo's EXIF orientation (1-8); ``size``: its stored width and height
    (before orientation), to tell boxes drawn on the stored image from those drawn on the turned one.
    """
    path = Path(path)
    found = FaceTags()
    sources: list[tuple[str, bytes | None]] = [("embedded", _embedded_packet(path))]
    sources += [(p.name, _sidecar_bytes(p)) for p in sidecars(path)]
    seen: set[str] = set()
    for origin, packet in sources:
        if not packet:
            continue
        try:
            tags = parse(packet, orientation=orientation, size=size, origin=origin)
        except ValueError as exc:
            found.problems.append(f"{origin if origin != 'embedded' else path.name}: {exc}")
            continue
        for tag in tags:
            key = tag.name.casefold()
            if key not in seen:
                seen.add(key)
                found.tags.append(tag)
    return found


def sidecars(path: Path) -> list[Path]:
    """``photo.jpg.xmp`` and ``photo.xmp`` beside the photo (lower or upper case), those that exist.

    Looked up by name (a few ``stat`` calls), not by listing the folder: a folder of 10,000
    photos would otherwise be listed 10,000 times.
    """
    found: list[Path] = []
    # photo.jpg.xmp first: it names this file exactly (photo.xmp may be shared by photo.jpg and photo.raw)
    for base in (path.name, path.stem):
        for extension in (".xmp", ".XMP"):
            candidate = path.with_name(base + extension)
            try:
                if candidate.is_file() and not any(os.path.samefile(candidate, f) for f in found):
                    found.append(candidate)
            except OSError:
                continue
    return found


def _sidecar_bytes(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_SIDECAR_BYTES + 1)
    except OSError:
        return None
    return data if len(data) <= MAX_SIDECAR_BYTES else None


def _embedded_packet(path: Path) -> bytes | None:
    """The first ``<x:xmpmeta>…</x:xmpmeta>`` in the file, or None."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(HEAD_BYTES)
            packet = _packet(head)
            if packet is not None or head[:2] == b"\xff\xd8":       # a JPEG's XMP is in its head or nowhere
                return packet
            rest = handle.read(MAX_FILE_BYTES - HEAD_BYTES)
    except OSError:
        return None
    return _packet(head + rest)


def _packet(data: bytes) -> bytes | None:
    start = data.find(_OPEN)
    if start < 0:
        return None
    end = data.find(_CLOSE, start)
    return data[start:end + len(_CLOSE)] if end >= 0 else data[start:]     # cut short: the parser says so


def parse(packet: bytes, *, orientation: int = 1, size: tuple[int, int] | None = None,
          origin: str = "embedded") -> list[FaceTag]:
    """The face tags in one XMP packet; ``ValueError`` with a reason when it is not well-formed XMP."""
    try:
        root = fromstring(packet)
    except ParseError as exc:
        raise ValueError(f"not well-formed XMP ({exc})") from None
    except DefusedXmlException as exc:
        raise ValueError(f"refused XMP ({type(exc).__name__}: entities or a DTD)") from None
    tags = list(_mwg(root, orientation, size, origin))
    if not tags:       # apps that write both (digiKam) write the same people: MWG is the richer one
        tags = list(_microsoft(root, orientation, origin))
    return tags


def _value(node: Element, namespace: str, name: str) -> str | None:
    """A property written as an attribute or as a child element (its text, or its rdf:Alt's first item)."""
    attribute = node.get(f"{{{namespace}}}{name}")
    if attribute is not None:
        return attribute.strip()
    child = node.find(f"{{{namespace}}}{name}")
    if child is None:
        return None
    item = child.find(f".//{{{RDF}}}li")
    text = (item.text if item is not None else child.text) or ""
    return text.strip() or None


def _struct(node: Element, namespace: str, name: str) -> Element | None:
    """A structure property: the child element, or its rdf:Description (either way XMP writes it)."""
    child = node.find(f"{{{namespace}}}{name}")
    if child is None:
        return None
    inner = child.find(f"{{{RDF}}}Description")
    return inner if inner is not None else child


def _items(node: Element, namespace: str, name: str) -> Iterator[Element]:
    container = node.find(f"{{{namespace}}}{name}")
    if container is None:
        return
    for item in container.iter(f"{{{RDF}}}li"):
        inner = item.find(f"{{{RDF}}}Description")
        yield inner if inner is not None else item


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and value == value and abs(value) != float("inf") else None


def _mwg(root: Element, orientation: int, size: tuple[int, int] | None, origin: str) -> Iterator[FaceTag]:
    for description in root.iter(f"{{{RDF}}}Description"):
        regions = _struct(description, MWG_RS, "Regions")
        if regions is None:
            continue
        dims = _struct(regions, MWG_RS, "AppliedToDimensions")
        applied = None
        if dims is not None:
            w, h = _number(_value(dims, ST_DIM, "w")), _number(_value(dims, ST_DIM, "h"))
            applied = (w, h) if w and h else None
        turn = orientation if not _drawn_turned(applied, size, orientation) else 1
        for region in _items(regions, MWG_RS, "RegionList"):
            kind = (_value(region, MWG_RS, "Type") or "Face").casefold()
            name = " ".join((_value(region, MWG_RS, "Name") or "").split())
            if kind != "face" or not name:
                continue
            area = _struct(region, MWG_RS, "Area")
            box = None
            if area is not None and (_value(area, ST_AREA, "unit") or "normalized").casefold() == "normalized":
                x, y, w, h = (_number(_value(area, ST_AREA, k)) for k in ("x", "y", "w", "h"))
                if None not in (x, y, w, h):
                    assert x is not None and y is not None and w is not None and h is not None
                    box = turn_box(_clip((x - w / 2, y - h / 2, x + w / 2, y + h / 2)), turn)
            yield FaceTag(name, box, "mwg", origin)


def _microsoft(root: Element, orientation: int, origin: str) -> Iterator[FaceTag]:
    for description in root.iter(f"{{{RDF}}}Description"):
        info = _struct(description, MP, "RegionInfo")
        if info is None:
            continue
        for region in _items(info, MPRI, "Regions"):
            name = " ".join((_value(region, MPREG, "PersonDisplayName") or "").split())
            if not name:
                continue
            box = None
            parts = [_number(p) for p in (_value(region, MPREG, "Rectangle") or "").split(",")]
            if len(parts) == 4 and None not in parts:
                left, top, w, h = (p or 0.0 for p in parts)
                box = turn_box(_clip((left, top, left + w, top + h)), orientation)
            yield FaceTag(name, box, "microsoft", origin)


def _drawn_turned(applied: tuple[float, float] | None, size: tuple[int, int] | None, orientation: int) -> bool:
    """Whether the region was drawn on the image already turned upright (its dimensions are the shown ones)."""
    if applied is None or size is None or orientation not in (5, 6, 7, 8) or size[0] == size[1]:
        return False
    return (round(applied[0]), round(applied[1])) == (size[1], size[0])


def _clip(box: tuple[float, float, float, float]) -> tuple[float, float, float, float] | None:
    left, top, right, bottom = (min(1.0, max(0.0, v)) for v in box)
    return (left, top, right, bottom) if right > left and bottom > top else None


def turn_box(box: tuple[float, float, float, float] | None,
            orientation: int) -> tuple[float, float, float, float] | None:
    """A normalised box on the stored image -> the same box on the image turned by its EXIF orientation."""
    if box is None:
        return None
    corners = [_point(x, y, orientation) for x, y in ((box[0], box[1]), (box[2], box[3]))]
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    return (min(xs), min(ys), max(xs), max(ys))


def _point(x: float, y: float, orientation: int) -> tuple[float, float]:
    """Where a normalised point of the stored image lands once the orientation is applied (EXIF 1-8)."""
    return {
        2: (1 - x, y),          # mirrored
        3: (1 - x, 1 - y),      # turned 180
        4: (x, 1 - y),          # flipped
        5: (y, x),              # transposed
        6: (1 - y, x),          # turned 90 clockwise to be upright
        7: (1 - y, 1 - x),      # transversed
        8: (y, 1 - x),          # turned 90 counter-clockwise
    }.get(orientation, (x, y))
