"""Photo decoding with Pillow (+ pillow-heif): pixels sized for the models, EXIF time/GPS, thumbnails.

Speed matters (the indexer reads every photo once): large JPEGs are decoded at
1/2, 1/4 or 1/8 size with ``Image.draft`` (libjpeg's DCT scaling), which is
several times faster than a full decode followed by a resize. The longest side
of the returned pixels is at most ``max_side`` (1024 by default: enough for the
face detector; the CLIP encoder resizes further itself). To let libjpeg pick the
cheaper scale, a JPEG may come back down to ``draft_slack * max_side`` (e.g. a
4000x3000 photo decodes at 1/4 to 1000x750 in ~35 ms instead of at 1/2 and
resized to 1024x768 in ~65 ms on the 2-core test machine).

The capture time comes from the clocks inside the file, read here with Pillow's
own readers (EXIF IFD0/Exif/GPS through ``getexif``, XMP through ``getxmp`` over
defusedxml; pillow-heif hands both over for HEIC/HEIF) and the QuickTime ``mvhd``
box of an ISO-BMFF file, then ``core/library/capture_time.resolve`` picks one
(and looks beside the file for a Google Takeout sidecar and into its name).

Every failure a user's file can cause becomes ``BadImageError`` with a short reason.
"""

from __future__ import annotations

import os
import tempfile
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

from companion.core.errors import BadImageError
from companion.core.library import capture_time
from companion.core.library.scan import IMAGE_EXTENSIONS
from companion.core.types import DecodedPhoto

PHOTO_EXTENSIONS: frozenset[str] = IMAGE_EXTENSIONS    # the folder scan and the reader take the same files

DEFAULT_MAX_SIDE = 1024
DEFAULT_PIXEL_LIMIT = 100_000_000     # 100 MP: larger files are refused as decompression bombs
THUMBNAIL_SIDE = 256

# EXIF tags (numbers from the EXIF 2.32 spec).
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_DATETIME, _DATETIME_ORIGINAL, _DATETIME_DIGITIZED = 0x0132, 0x9003, 0x9004
_OFFSET, _OFFSET_ORIGINAL, _OFFSET_DIGITIZED = 0x9010, 0x9011, 0x9012
_GPS_TIME, _GPS_DATE = 0x07, 0x1D
_ORIENTATION = 0x0112
_ISOBMFF = ("HEIF", "AVIF")        # Pillow format names of files in ISO-BMFF boxes (HEIC is "HEIF")
# XMP properties with the capture time, best first (Pillow's getxmp drops the namespace prefixes:
# exif:DateTimeOriginal, photoshop:DateCreated, xmp:CreateDate).
_XMP_TIMES = ("DateTimeOriginal", "DateCreated", "CreateDate")
_QUICKTIME_EPOCH = datetime(1904, 1, 1, tzinfo=timezone.utc)

_heif_lock = threading.Lock()
_heif_registered = False


def _register_heif() -> None:
    """Teach Pillow HEIC/HEIF once; done lazily because importing pillow-heif costs time."""
    global _heif_registered
    if _heif_registered:
        return
    with _heif_lock:
        if not _heif_registered:
            try:
                import pillow_heif
                pillow_heif.register_heif_opener()
            except ImportError:   # HEIC files then fail as "not a recognised image"
                pass
            _heif_registered = True


class PillowPhotoReader:
    """``PhotoReader`` over Pillow. ``max_side`` bounds the returned pixels; ``pixel_limit`` refuses bombs."""

    name = "pillow"

    def __init__(self, max_side: int = DEFAULT_MAX_SIDE, pixel_limit: int = DEFAULT_PIXEL_LIMIT,
                 thumbnail_side: int = THUMBNAIL_SIDE, draft: bool = True, draft_slack: float = 0.75) -> None:
        self.max_side = int(max_side)
        self.draft_slack = min(1.0, max(0.1, float(draft_slack)))
        self.pixel_limit = int(pixel_limit)
        self.thumbnail_side = int(thumbnail_side)
        self.draft = draft

    # ---- decoding -------------------------------------------------------------------

    def read(self, path: Path) -> DecodedPhoto:
        from PIL import Image, ImageOps, UnidentifiedImageError

        path = Path(path)
        stat = _stat(path)
        _register_heif()
        try:
            # Pillow itself raises DecompressionBombError at open beyond 2x MAX_IMAGE_PIXELS (~179 MP);
            # our own, lower pixel_limit is checked from the header before any pixel is decoded. (No
            # warnings.catch_warnings here: it changes process-wide state and readers run in threads.)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > self.pixel_limit:
                    raise BadImageError(
                        f"image too large: {width}x{height} is over {self.pixel_limit // 1_000_000} megapixels")
                exif = image.getexif()
                orientation = int(exif.get(_ORIENTATION, 1) or 1)
                embedded = _embedded(image, exif, path)
                if self.draft and image.format in ("JPEG", "MPO"):   # MPO: camera JPEGs with extra frames
                    factor = self.max_side * self.draft_slack / max(width, height)
                    if factor < 1:
                        # draft keeps the decoded size >= the request (the largest DCT reduction that does).
                        image.draft("RGB", (max(1, int(width * factor)), max(1, int(height * factor))))
                image.load()
                rgb = _to_rgb(ImageOps.exif_transpose(image) if orientation != 1 else image)
                if max(rgb.size) > self.max_side:
                    rgb.thumbnail((self.max_side, self.max_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
                pixels = np.array(rgb, dtype=np.uint8)   # a copy: the file closes below
        except BadImageError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise BadImageError(f"image too large (decompression bomb): {error}") from None
        except UnidentifiedImageError:
            raise BadImageError(f"not a recognised image format: {path.name}") from None
        except PermissionError:
            raise BadImageError(f"cannot read file (permission denied): {path.name}") from None
        except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as error:
            raise BadImageError(f"corrupt or truncated image: {_short(error)}") from None
        if orientation in (5, 6, 7, 8):      # rotated by 90 degrees: the user's width is the stored height
            width, height = height, width
        taken = capture_time.resolve(path, embedded, stat.st_mtime)
        return DecodedPhoto(pixels=pixels, width=width, height=height, scale=pixels.shape[1] / width,
                            taken_at=taken.taken_at, taken_at_source=taken.source, latitude=taken.latitude,
                            longitude=taken.longitude, orientation=orientation if 1 <= orientation <= 8 else 1)

    # ---- thumbnails -----------------------------------------------------------------

    def thumbnail(self, photo: DecodedPhoto, destination: Path) -> None:
        """Write a JPEG of at most ``thumbnail_side`` px per side, atomically (temp file + rename)."""
        from PIL import Image

        destination = Path(destination)
        destination.parent.mkdir(parents=True, exist_ok=True)
        image = Image.fromarray(np.ascontiguousarray(photo.pixels), "RGB")
        # From the pixels already decoded for the models (no second decode). reducing_gap=2 first
        # box-reduces by a whole factor, so bilinear for the rest is close to fair resampling at
        # half LANCZOS's cost (5 against 11 ms for 1000 -> 256 px on the 2-core test machine).
        image.thumbnail((self.thumbnail_side, self.thumbnail_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
        fd, tmp = tempfile.mkstemp(prefix=".thumb-", suffix=".jpg", dir=destination.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                image.save(handle, "JPEG", quality=85)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, destination)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


# ---- helpers ------------------------------------------------------------------------


def _stat(path: Path) -> os.stat_result:
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise BadImageError(f"file not found: {path.name}") from None
    except PermissionError:
        raise BadImageError(f"cannot read file (permission denied): {path.name}") from None
    except OSError as error:
        raise BadImageError(f"cannot read file: {_short(error)}") from None
    if path.is_dir():
        raise BadImageError(f"is a folder, not a photo: {path.name}")
    if stat.st_size == 0:
        raise BadImageError(f"empty file: {path.name}")
    return stat


def _to_rgb(image: Any) -> Any:
    """RGB for any mode; transparent areas become white, 16-bit greys keep their range."""
    from PIL import Image

    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.uint32)
        top = 65535 if image.mode.startswith("I;16") or array.max(initial=0) > 255 else 255
        grey = (array * 255 // top).astype(np.uint8)
        return Image.fromarray(np.stack([grey] * 3, axis=-1), "RGB")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _embedded(image: Any, exif: Any, path: Path) -> capture_time.Embedded:
    """The clocks and position inside the file; the costlier ones (XMP, boxes) only when EXIF has no time."""
    sub = _ifd(exif, _EXIF_IFD)
    gps = _ifd(exif, _GPS_IFD)
    latitude, longitude = _gps(gps)
    original = _parse_exif_time(sub.get(_DATETIME_ORIGINAL), sub.get(_OFFSET_ORIGINAL))
    digitized = _parse_exif_time(sub.get(_DATETIME_DIGITIZED), sub.get(_OFFSET_DIGITIZED))
    quicktime = xmp = None
    if original is None and digitized is None:
        quicktime = _quicktime_created(path) if image.format in _ISOBMFF else None
        xmp = _xmp_time(image) if quicktime is None else None
    return capture_time.Embedded(
        original=original, digitized=digitized, quicktime=quicktime, xmp=xmp,
        modified=_parse_exif_time(exif.get(_DATETIME), sub.get(_OFFSET)), gps_utc=_gps_time(gps),
        latitude=latitude, longitude=longitude)


def _ifd(exif: Any, tag: int) -> Any:
    try:
        return exif.get_ifd(tag) or {}
    except Exception:  # noqa: BLE001 - malformed EXIF must not lose the photo
        return {}


def _parse_exif_time(value: Any, offset: Any) -> datetime | None:
    text = _text(value)
    if not text or text.startswith("0000"):
        return None
    try:
        moment = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    zone = _parse_offset(_text(offset))
    return moment.replace(tzinfo=zone) if zone is not None else moment


def _parse_offset(text: str) -> timezone | None:
    """'+02:00' / '-05:30' -> timezone; anything else -> None (the time stays naive)."""
    if len(text) != 6 or text[0] not in "+-" or text[3] != ":":
        return None
    try:
        hours, minutes = int(text[1:3]), int(text[4:6])
    except ValueError:
        return None
    if hours > 14 or minutes >= 60:
        return None
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if text[0] == "-" else delta)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "ignore")
    return str(value).strip("\x00 ").strip() if value is not None else ""


def _gps(gps: Any) -> tuple[float | None, float | None]:
    """Decimal degrees from GPSInfo, or (None, None) when absent, malformed or exactly 0,0 (no fix)."""
    try:
        if not gps:
            return None, None
        latitude = _degrees(gps[2]) * (-1 if _text(gps.get(1)).upper() == "S" else 1)
        longitude = _degrees(gps[4]) * (-1 if _text(gps.get(3)).upper() == "W" else 1)
    except (KeyError, TypeError, ValueError, ZeroDivisionError, IndexError, AttributeError):
        return None, None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180) or (latitude == 0 and longitude == 0):
        return None, None
    return round(latitude, 7), round(longitude, 7)


def _gps_time(gps: Any) -> datetime | None:
    """GPSDateStamp + GPSTimeStamp as an aware UTC time, or None."""
    try:
        day = datetime.strptime(_text(gps.get(_GPS_DATE))[:10], "%Y:%m:%d")
        hours, minutes, seconds = (float(v) for v in gps[_GPS_TIME])
        if not (0 <= hours < 24 and 0 <= minutes < 60 and 0 <= seconds < 61):
            return None
        moment = day + timedelta(hours=hours, minutes=minutes, seconds=seconds)
    except (KeyError, TypeError, ValueError, ZeroDivisionError, AttributeError, OverflowError):
        return None
    return moment.replace(microsecond=0, tzinfo=timezone.utc) if day.year > 1900 else None


def _xmp_time(image: Any) -> datetime | None:
    """The capture time in the file's XMP packet (Pillow's getxmp, parsed with defusedxml), or None."""
    try:
        packet = image.getxmp()
    except Exception:  # noqa: BLE001 - a malformed XMP packet must not lose the photo
        return None
    values: dict[str, str] = {}
    _collect(packet, values)
    for key in _XMP_TIMES:
        moment = _parse_iso(values.get(key, ""))
        if moment is not None:
            return moment
    return None


def _collect(node: Any, into: dict[str, str]) -> None:
    """Every text value by property name (the first one wins), walking Pillow's nested XMP dict."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str):
                into.setdefault(key, value)
            else:
                _collect(value, into)
    elif isinstance(node, list):
        for item in node:
            _collect(item, into)


def _parse_iso(text: str) -> datetime | None:
    """XMP's ISO 8601 dates: 2019-03-12T14:15:03(.123)(+01:00|Z), or a day alone; None for anything else."""
    text = text.strip()
    if len(text) < 10 or text.startswith("0000"):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        return None
    return moment if moment.year >= capture_time.EARLIEST_YEAR else None


def _quicktime_created(path: Path) -> datetime | None:
    """The creation time in an ISO-BMFF file's ``moov/mvhd`` box (HEIF sequences, Live Photo stills), or None.

    Walks box headers only (a few reads); 0 means "not set" (seconds since 1904-01-01 UTC).
    """
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            moov = _find_box(handle, 0, size, b"moov")
            mvhd = _find_box(handle, moov[0], moov[1], b"mvhd") if moov else None
            if mvhd is None:
                return None
            handle.seek(mvhd[0])
            head = handle.read(12)
    except OSError:
        return None
    if len(head) < 8:
        return None
    seconds = int.from_bytes(head[4:12], "big") if head[0] == 1 else int.from_bytes(head[4:8], "big")
    if seconds <= 0:
        return None
    try:
        moment = _QUICKTIME_EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        return None
    return moment if moment.year >= capture_time.EARLIEST_YEAR else None


def _find_box(handle: Any, start: int, end: int, kind: bytes, limit: int = 64) -> tuple[int, int] | None:
    """(payload start, payload end) of the first ``kind`` box between ``start`` and ``end``; None if absent."""
    position = start
    for _ in range(limit):
        if position + 8 > end:
            return None
        handle.seek(position)
        header = handle.read(16)
        if len(header) < 8:
            return None
        length, name, offset = int.from_bytes(header[:4], "big"), header[4:8], 8
        if length == 1 and len(header) >= 16:
            length, offset = int.from_bytes(header[8:16], "big"), 16
        elif length == 0:
            length = end - position
        if length < offset:
            return None
        if name == kind:
            return position + offset, min(end, position + length)
        position += length
    return None


def _degrees(value: Any) -> float:
    parts = [float(v) for v in value]
    if len(parts) != 3 or any(p != p for p in parts):   # NaN from a 0/0 rational
        raise ValueError("bad GPS coordinate")
    return parts[0] + parts[1] / 60 + parts[2] / 3600


def _short(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:160]
