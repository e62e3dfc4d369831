"""Names written back for other apps: an XMP sidecar beside the photo, never the photo itself.

``photo.jpg.xmp`` gets both schemas :mod:`xmp_faces` reads (MWG Regions, as digiKam, Lightroom
and Picasa read them, and Microsoft People Tags), with the boxes on the image as stored (MWG's
convention: the photo's EXIF orientation is undone) and ``AppliedToDimensions`` the stored size.
A sidecar another app wrote is left alone (it may hold ratings, keywords, edits): only one that
Companion wrote (``xmp:CreatorTool="Companion"``) is replaced, atomically, and only when its
content changed, so writing twice writes once.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import quoteattr

from companion.core.library.xmp_faces import turn_box

CREATOR = "Companion"
Outcome = Literal["written", "unchanged", "kept"]
# The orientation that undoes each EXIF orientation (6 and 8 turn opposite ways; the rest undo themselves).
_UNDO = {6: 8, 8: 6}


def sidecar_path(photo: Path) -> Path:
    return photo.with_name(photo.name + ".xmp")


def packet(regions: Sequence[tuple[str, tuple[float, float, float, float]]], size: tuple[int, int],
           orientation: int = 1) -> str:
    """An XMP sidecar naming ``regions`` (name, box normalised on the photo as shown).

    ``size``: the photo as shown (width, height); ``orientation``: its EXIF orientation.
    """
    turned = orientation in (5, 6, 7, 8)
    stored = (size[1], size[0]) if turned else size
    mwg, microsoft = [], []
    for name, shown in regions:
        box = turn_box(shown, _UNDO.get(orientation, orientation)) or shown
        left, top, right, bottom = box
        w, h = right - left, bottom - top
        mwg.append(f'<rdf:li><rdf:Description mwg-rs:Name={quoteattr(name)} mwg-rs:Type="Face">'
                   f'<mwg-rs:Area stArea:x="{left + w / 2:.6f}" stArea:y="{top + h / 2:.6f}" stArea:w="{w:.6f}" '
                   f'stArea:h="{h:.6f}" stArea:unit="normalized"/></rdf:Description></rdf:li>')
        microsoft.append(f'<rdf:li><rdf:Description MPReg:PersonDisplayName={quoteattr(name)} '
                         f'MPReg:Rectangle="{left:.6f}, {top:.6f}, {w:.6f}, {h:.6f}"/></rdf:li>')
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        'xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/" '
        'xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#" '
        'xmlns:stDim="http://ns.adobe.com/xap/1.0/sType/Dimensions#" '
        'xmlns:MP="http://ns.microsoft.com/photo/1.2/" '
        'xmlns:MPRI="http://ns.microsoft.com/photo/1.2/t/RegionInfo#" '
        f'xmlns:MPReg="http://ns.microsoft.com/photo/1.2/t/Region#" xmp:CreatorTool="{CREATOR}">\n'
        f'   <mwg-rs:Regions rdf:parseType="Resource"><mwg-rs:AppliedToDimensions stDim:w="{stored[0]}" '
        f'stDim:h="{stored[1]}" stDim:unit="pixel"/>\n'
        f'    <mwg-rs:RegionList><rdf:Bag>{"".join(mwg)}</rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions>\n'
        f'   <MP:RegionInfo rdf:parseType="Resource"><MPRI:Regions><rdf:Bag>{"".join(microsoft)}</rdf:Bag>'
        '</MPRI:Regions></MP:RegionInfo>\n'
        '  </rdf:Description>\n'
        ' </rdf:RDF>\n'
        '</x:xmpmeta>\n'
        '<?xpacket end="w"?>\n')


def write(photo: Path, text: str) -> Outcome:
    """Write ``text`` as the photo's sidecar, unless another app's sidecar is there; never touches the photo."""
    target = sidecar_path(photo)
    data = text.encode("utf-8")
    try:
        existing = target.read_bytes()
    except FileNotFoundError:
        existing = None
    if existing is not None:
        if existing == data:
            return "unchanged"
        if f'xmp:CreatorTool="{CREATOR}"'.encode() not in existing:
            return "kept"
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as writer:
            writer.write(data)
            writer.flush()
            os.fsync(writer.fileno())
        os.replace(name, target)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)
    return "written"
