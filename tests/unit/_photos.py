"""Small real photo files with exactly the metadata a test asks for (EXIF times, offsets, GPS, XMP)."""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image
from PIL.TiffImagePlugin import IFDRational

OLD = 1_500_000_000          # the file time every photo here gets (14 July 2017): never the answer by accident


def _dms(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    value = abs(value)
    degrees, rest = int(value), (value - int(value)) * 60
    return IFDRational(degrees, 1), IFDRational(int(rest), 1), IFDRational(round((rest - int(rest)) * 60000), 1000)


def photo(path: Path, *, original: str | None = None, digitized: str | None = None, offset: str | None = None,
          ifd0: str | None = None, gps: tuple[float, float] | None = None, gps_time: tuple[str, str] | None = None,
          xmp: str | None = None, fmt: str = "JPEG", seed: int | None = None) -> Path:
    """A small photo with exactly the metadata asked for, its file time set to OLD."""
    image = picture(seed) if seed is not None else Image.new("RGB", (64, 48), (30, 90, 160))
    exif = Image.Exif()
    if ifd0:
        exif[0x0132] = ifd0
    sub = exif.get_ifd(0x8769)
    for tag, value in ((0x9003, original), (0x9004, digitized), (0x9011, offset)):
        if value:
            sub[tag] = value
    if gps or gps_time:
        info = exif.get_ifd(0x8825)
        if gps:
            info[1], info[2] = ("N" if gps[0] >= 0 else "S"), _dms(gps[0])
            info[3], info[4] = ("E" if gps[1] >= 0 else "W"), _dms(gps[1])
        if gps_time:
            info[0x1D] = gps_time[0]
            info[0x07] = tuple(IFDRational(int(x), 1) for x in gps_time[1].split(":"))
    options: dict[str, object] = {"exif": exif.tobytes()}
    if xmp:
        packet = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
                  f'{xmp}</rdf:RDF></x:xmpmeta>').encode()
        if fmt == "TIFF":
            options["tiffinfo"] = {700: packet}
        else:
            options["xmp"] = packet
    if fmt == "HEIF":
        import pillow_heif
        pillow_heif.register_heif_opener()
    image.save(path, fmt, **options)
    os.utime(path, (OLD, OLD))
    return path


def picture(seed: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    """A photo-like picture of its own for each seed: smooth shapes, so copies of it hash alike."""
    import numpy as np

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size[1], 0:size[0]].astype(np.float32)
    canvas = np.zeros((size[1], size[0], 3), dtype=np.float32)
    for _ in range(6):
        cx, cy, r = rng.uniform(0, size[0]), rng.uniform(0, size[1]), rng.uniform(20, 120)
        colour = rng.uniform(0, 255, 3)
        weight = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))[..., None]
        canvas = canvas * (1 - weight) + colour * weight
    return Image.fromarray(canvas.clip(0, 255).astype(np.uint8), "RGB")
