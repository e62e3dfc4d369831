"""PillowPhotoReader on generated photos: formats, EXIF time/GPS/orientation, sizes, thumbnails, bad input."""

from __future__ import annotations

import builtins
import os
import struct
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from companion.backends.imaging import PHOTO_EXTENSIONS, PillowPhotoReader
from companion.core.errors import BadImageError
from companion.core.protocols import PhotoReader


def _dms(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    value = abs(value)
    degrees, rest = int(value), (abs(value) - int(value)) * 60
    minutes = int(rest)
    seconds = round((rest - minutes) * 60 * 1000)
    return IFDRational(degrees, 1), IFDRational(minutes, 1), IFDRational(seconds, 1000)


def make_photo(path: Path, size: tuple[int, int] = (640, 480), *, taken: str | None = None, offset: str | None = None,
               gps: tuple[float, float] | None = None, orientation: int | None = None, fmt: str = "JPEG",
               color: tuple[int, int, int] = (40, 120, 200)) -> Path:
    """A photo with the given EXIF; the left quarter is red so orientation can be checked."""
    image = Image.new("RGB", size, color)
    image.paste((255, 0, 0), (0, 0, size[0] // 4, size[1]))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if taken or offset:
        sub = exif.get_ifd(0x8769)
        if taken:
            sub[0x9003] = taken
        if offset:
            sub[0x9011] = offset
    if gps:
        info = exif.get_ifd(0x8825)
        info[1], info[2] = ("N" if gps[0] >= 0 else "S"), _dms(gps[0])
        info[3], info[4] = ("E" if gps[1] >= 0 else "W"), _dms(gps[1])
    image.save(path, fmt, exif=exif.tobytes(), **({"quality": 90} if fmt == "JPEG" else {}))
    return path


@pytest.fixture
def reader() -> PillowPhotoReader:
    return PillowPhotoReader()


def test_is_a_photo_reader_and_lists_extensions(reader):
    assert isinstance(reader, PhotoReader)
    assert {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif"} <= PHOTO_EXTENSIONS
    assert all(ext == ext.lower() and ext.startswith(".") for ext in PHOTO_EXTENSIONS)


def test_exif_time_with_offset_is_aware_and_gps_is_decimal(reader, tmp_path):
    path = make_photo(tmp_path / "a.jpg", taken="2023:07:14 18:30:05", offset="+02:00", gps=(48.8584, -2.2945))
    photo = reader.read(path)
    assert photo.taken_at == datetime(2023, 7, 14, 18, 30, 5, tzinfo=timezone(timedelta(hours=2)))
    assert photo.taken_at_source == "exif"
    assert photo.latitude == pytest.approx(48.8584, abs=1e-5)
    assert photo.longitude == pytest.approx(-2.2945, abs=1e-5)
    south = reader.read(make_photo(tmp_path / "s.jpg", taken="2020:01:02 03:04:05", offset="-05:30",
                                   gps=(-33.8688, 151.2093)))
    assert south.taken_at.utcoffset() == -timedelta(hours=5, minutes=30)
    assert (south.latitude, south.longitude) == (pytest.approx(-33.8688, abs=1e-5), pytest.approx(151.2093, abs=1e-5))


def test_exif_time_without_offset_is_local_time(reader, tmp_path):
    photo = reader.read(make_photo(tmp_path / "a.jpg", taken="2019:12:31 23:59:59"))
    assert photo.taken_at == datetime(2019, 12, 31, 23, 59, 59).astimezone()    # this computer's zone then
    assert photo.taken_at_source == "exif"
    assert (photo.latitude, photo.longitude) == (None, None)


def test_without_exif_time_the_file_mtime_is_used(reader, tmp_path):
    path = make_photo(tmp_path / "a.png", fmt="PNG")
    os.utime(path, (1_600_000_000, 1_600_000_000))
    photo = reader.read(path)
    assert photo.taken_at_source == "file"
    assert photo.taken_at.tzinfo is not None and photo.taken_at.timestamp() == 1_600_000_000
    blank = reader.read(make_photo(tmp_path / "b.jpg", taken="0000:00:00 00:00:00", gps=(0.0, 0.0)))
    assert blank.taken_at_source == "file" and blank.latitude is None     # 0,0 is "no GPS fix"


def test_exif_orientation_is_applied(reader, tmp_path):
    photo = reader.read(make_photo(tmp_path / "r.jpg", size=(400, 200), orientation=6))  # rotate 90 clockwise
    assert (photo.width, photo.height) == (200, 400)
    assert photo.pixels.shape == (400, 200, 3)
    # The red left quarter of the stored image is now the top quarter.
    assert photo.pixels[20, 100, 0] > 200 and photo.pixels[20, 100, 2] < 60
    assert photo.pixels[380, 100, 0] < 100


def test_large_jpeg_is_decoded_small_with_draft_and_scale_is_reported(tmp_path):
    path = make_photo(tmp_path / "big.jpg", size=(4000, 3000), taken="2022:05:06 07:08:09")
    photo = PillowPhotoReader(max_side=1024).read(path)
    assert (photo.width, photo.height) == (4000, 3000)
    # libjpeg's 1/4 scale (1000x750) is within the default 0.75 slack, so no resize is needed.
    assert photo.pixels.shape == (750, 1000, 3) and photo.pixels.dtype == np.uint8
    assert photo.scale == pytest.approx(0.25)
    exact = PillowPhotoReader(max_side=1024, draft_slack=1.0).read(path)
    assert exact.pixels.shape == (768, 1024, 3) and exact.scale == pytest.approx(1024 / 4000)
    full = PillowPhotoReader(max_side=1024, draft=False).read(path)
    assert full.pixels.shape == exact.pixels.shape
    assert np.abs(full.pixels.astype(int) - exact.pixels.astype(int)).mean() < 3
    bigger = PillowPhotoReader(max_side=1024).read(make_photo(tmp_path / "24mp.jpg", size=(6000, 4000)))
    assert bigger.pixels.shape == (683, 1024, 3)      # 1/8 would be 750 < 0.75 * 1024: 1/4, then resized
    small = PillowPhotoReader(max_side=1024).read(make_photo(tmp_path / "small.jpg", size=(300, 200)))
    assert small.scale == 1.0 and small.pixels.shape == (200, 300, 3)


def test_mpo_camera_jpeg_is_decoded_with_draft(reader, tmp_path):
    first, second = Image.new("RGB", (4000, 3000), (200, 30, 30)), Image.new("RGB", (4000, 3000), (0, 0, 0))
    first.save(tmp_path / "camera.jpg", "MPO", save_all=True, append_images=[second])
    with Image.open(tmp_path / "camera.jpg") as check:
        assert check.format == "MPO"
    photo = reader.read(tmp_path / "camera.jpg")
    assert photo.pixels.shape == (750, 1000, 3) and photo.pixels[10, 10, 0] > 150


def test_png_with_alpha_webp_and_16_bit_png(reader, tmp_path):
    rgba = Image.new("RGBA", (60, 40), (255, 0, 0, 0))
    rgba.paste((0, 0, 255, 255), (0, 0, 30, 40))
    rgba.save(tmp_path / "alpha.png")
    pixels = reader.read(tmp_path / "alpha.png").pixels
    assert tuple(pixels[5, 5]) == (0, 0, 255) and tuple(pixels[5, 50]) == (255, 255, 255)
    make_photo(tmp_path / "w.webp", fmt="WEBP", color=(10, 200, 10))
    webp = reader.read(tmp_path / "w.webp")
    assert webp.pixels.shape == (480, 640, 3) and webp.pixels[240, 500, 1] > 150
    Image.fromarray(np.full((20, 30), 65535 // 2, dtype=np.uint16)).save(tmp_path / "grey16.png")
    grey = reader.read(tmp_path / "grey16.png").pixels
    assert grey.shape == (20, 30, 3) and 120 <= int(grey[0, 0, 0]) <= 135


def test_heic_is_read_with_orientation_time_and_gps(reader, tmp_path):
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    path = tmp_path / "phone.heic"
    try:
        make_photo(path, size=(320, 240), fmt="HEIF", taken="2024:03:01 10:00:00", offset="+01:00", gps=(52.52, 13.405))
    except (OSError, KeyError, ValueError) as error:   # a pillow-heif build without an HEVC encoder
        pytest.skip(f"cannot write HEIC here: {error}")
    assert path.read_bytes()[4:12] == b"ftypheic"      # a real HEIC container, not a JPEG
    photo = reader.read(path)
    assert (photo.width, photo.height) == (320, 240) and photo.pixels.shape == (240, 320, 3)
    assert photo.taken_at == datetime(2024, 3, 1, 10, tzinfo=timezone(timedelta(hours=1)))
    assert photo.latitude == pytest.approx(52.52, abs=1e-4)


def test_thumbnail_is_a_small_jpeg_written_atomically(reader, tmp_path):
    photo = reader.read(make_photo(tmp_path / "a.jpg", size=(1600, 900)))
    destination = tmp_path / "thumbs" / "ab" / "a.jpg"
    reader.thumbnail(photo, destination)
    with Image.open(destination) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) == 256 and thumb.size == (256, 144)
    assert [p.name for p in destination.parent.iterdir()] == ["a.jpg"]      # no temp file left
    reader.thumbnail(photo, destination)                                  # overwrite is fine
    assert destination.stat().st_size > 0


def _png_header_only(path: Path, width: int, height: int) -> Path:
    """A tiny PNG file that *claims* to be width x height (a decompression bomb's header)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 10))
                     + chunk(b"IEND", b""))
    return path


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")   # Pillow warns at open; we refuse
@pytest.mark.parametrize("case, reason", [
    ("corrupt", "not a recognised image"),
    ("truncated", "corrupt or truncated"),
    ("empty", "empty file"),
    ("text", "not a recognised image"),
    ("bomb_over_limit", "too large"),
    ("bomb_pillow", "too large"),
    ("folder", "is a folder"),
    ("missing", "file not found"),
])
def test_bad_input_raises_bad_image_error_with_a_reason(reader, tmp_path, case, reason):
    path = tmp_path / f"{case}.jpg"
    if case == "corrupt":
        path.write_bytes(os.urandom(5000))
    elif case == "truncated":
        data = make_photo(tmp_path / "ok.jpg", size=(800, 600)).read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif case == "empty":
        path.write_bytes(b"")
    elif case == "text":
        path.write_text("this is not a photo\n" * 20)
    elif case == "bomb_over_limit":
        _png_header_only(path, 11_000, 10_000)        # 110 MP: over our 100 MP limit, under Pillow's
    elif case == "bomb_pillow":
        _png_header_only(path, 40_000, 40_000)        # 1.6 GP: Pillow itself refuses
    elif case == "folder":
        path.mkdir()
    with pytest.raises(BadImageError, match=reason):
        reader.read(path)


def test_a_small_pixel_limit_is_enforced(tmp_path):
    path = make_photo(tmp_path / "a.jpg", size=(200, 100))
    assert PillowPhotoReader(pixel_limit=20_000).read(path).width == 200
    with pytest.raises(BadImageError, match="too large"):
        PillowPhotoReader(pixel_limit=19_999).read(path)


def test_unreadable_file_raises_bad_image_error(reader, tmp_path, monkeypatch):
    path = make_photo(tmp_path / "locked.jpg")
    path.chmod(0)
    if os.access(path, os.R_OK):                      # running as root: permissions do not apply
        real_open = builtins.open

        def denying_open(file, *args, **kwargs):
            if str(file) == str(path):
                raise PermissionError(13, "Permission denied", str(file))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", denying_open)
    with pytest.raises(BadImageError, match="permission denied"):
        reader.read(path)
