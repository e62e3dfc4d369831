"""Photo decoding with Pillow (+ pillow-heif): pixels sized for the models, EXIF time/GPS, thumbnails.

Speed matters (the indexer reads every photo once): large JPEGs are decoded at
1/2, 1/4 or 1/8 size with ``Image.draft`` (libjpeg's DCT scaling), which is
several times faster than a full decode followed by a resize. The longest side
of the returned pixels is at most ``max_side`` (1024 by default: enough for the
face detector; the CLIP encoder resizes further itself). To let libjpeg pick the
cheaper scale, a JPEG may come back down to ``draft_slack * max_side`` (e.g. a
4000x3000 photo decodes at 1/4 to 1000x750 in ~35 ms instead of at 1/2 and
resized to 1024x768 in ~65 ms on the 2-core test machine).

Every failure a user's file can cause becomes ``BadImageError`` with a short reason.
"""

from __future__ import annotations

import os
import tempfile
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

import numpy as np

from companion.core.errors import BadImageError
from companion.core.types import DecodedPhoto

PHOTO_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".webp", ".heic", ".heif", ".hif"})

DEFAULT_MAX_SIDE = 1024
DEFAULT_PIXEL_LIMIT = 100_000_000     # 100 MP: larger files are refused as decompression bombs
THUMBNAIL_SIDE = 256

# EXIF tags (numbers from the EXIF 2.32 spec).
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_DATETIME_ORIGINAL, _DATETIME_DIGITIZED = 0x9003, 0x9004
_OFFSET_ORIGINAL, _OFFSET_DIGITIZED = 0x9011, 0x9012
_ORIENTATION = 0x0112

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
        taken_at, source = _taken_at(exif, stat.st_mtime)
        latitude, longitude = _gps(exif)
        return DecodedPhoto(pixels=pixels, width=width, height=height, scale=pixels.shape[1] / width,
                            taken_at=taken_at, taken_at_source=source, latitude=latitude, longitude=longitude)

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


def create(paths: Any, settings: Any, **options: Any) -> PillowPhotoReader:
    """Registry factory (``companion.backends.registry``)."""
    return PillowPhotoReader(**options)


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


def _taken_at(exif: Any, mtime: float) -> tuple[datetime, Literal["exif", "file"]]:
    """EXIF capture time (aware when an offset tag exists), else the file's mtime in local time."""
    try:
        sub = exif.get_ifd(_EXIF_IFD)
    except Exception:  # noqa: BLE001 - malformed EXIF must not lose the photo
        sub = {}
    for time_tag, offset_tag in ((_DATETIME_ORIGINAL, _OFFSET_ORIGINAL), (_DATETIME_DIGITIZED, _OFFSET_DIGITIZED)):
        parsed = _parse_exif_time(sub.get(time_tag), sub.get(offset_tag))
        if parsed is not None:
            return parsed, "exif"
    return datetime.fromtimestamp(mtime).astimezone(), "file"


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


def _gps(exif: Any) -> tuple[float | None, float | None]:
    """Decimal degrees from GPSInfo, or (None, None) when absent, malformed or exactly 0,0 (no fix)."""
    try:
        gps = exif.get_ifd(_GPS_IFD)
        if not gps:
            return None, None
        latitude = _degrees(gps[2]) * (-1 if _text(gps.get(1)).upper() == "S" else 1)
        longitude = _degrees(gps[4]) * (-1 if _text(gps.get(3)).upper() == "W" else 1)
    except (KeyError, TypeError, ValueError, ZeroDivisionError, IndexError, AttributeError):
        return None, None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180) or (latitude == 0 and longitude == 0):
        return None, None
    return round(latitude, 7), round(longitude, 7)


def _degrees(value: Any) -> float:
    parts = [float(v) for v in value]
    if len(parts) != 3 or any(p != p for p in parts):   # NaN from a 0/0 rational
        raise ValueError("bad GPS coordinate")
    return parts[0] + parts[1] / 60 + parts[2] / 3600


def _short(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:160]
