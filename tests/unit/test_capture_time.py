"""The capture time of real kinds of files, each clock in its turn: EXIF, QuickTime, XMP, Takeout sidecars,
IFD0, GPS, file names, the file time; and the offset (the file's own, the GPS clock's, else local)."""

from __future__ import annotations

import json
import struct
import time
from datetime import datetime, timedelta, timezone

import pytest

from companion.backends.imaging import PillowPhotoReader
from companion.core.library import capture_time
from companion.core.library.capture_time import find_sidecar, from_name, gps_offset
from tests.unit._photos import OLD, photo


@pytest.fixture
def reader() -> PillowPhotoReader:
    return PillowPhotoReader()


@pytest.fixture
def local_zone(monkeypatch):
    """This computer's zone is New York (UTC-5 in winter, -4 in summer) for the test."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def wall(moment: datetime) -> tuple[datetime, timedelta | None]:
    return moment.replace(tzinfo=None), moment.utcoffset()


# ---- each clock, first to last ----------------------------------------------------------


def test_date_time_original_comes_first_then_create_date(reader, tmp_path):
    both = reader.read(photo(tmp_path / "IMG_20010101_000000.jpg", original="2019:03:12 14:15:03", offset="+01:00",
                             digitized="2018:01:01 00:00:00", ifd0="2020:01:01 00:00:00"))
    assert both.taken_at == datetime(2019, 3, 12, 14, 15, 3, tzinfo=timezone(timedelta(hours=1)))
    assert both.taken_at_source == "exif"
    digitized = reader.read(photo(tmp_path / "d.jpg", digitized="2018:06:01 10:00:00", ifd0="2020:01:01 00:00:00"))
    assert wall(digitized.taken_at)[0] == datetime(2018, 6, 1, 10) and digitized.taken_at_source == "exif"


def test_quicktime_creation_time_of_a_heif(reader, tmp_path):
    path = photo(tmp_path / "seq.heif", fmt="HEIF", ifd0="2020:01:01 00:00:00")
    seconds = int((datetime(2021, 5, 4, 3, 2, 1, tzinfo=timezone.utc)
                   - datetime(1904, 1, 1, tzinfo=timezone.utc)).total_seconds())
    mvhd = bytes(4) + struct.pack(">II", seconds, seconds) + bytes(88)
    box = struct.pack(">I4s", 8 + len(mvhd), b"mvhd") + mvhd
    with open(path, "ab") as handle:                     # a moov box after the image, as in a HEIF sequence
        handle.write(struct.pack(">I4s", 8 + len(box), b"moov") + box)
    read = reader.read(path)
    assert read.taken_at == datetime(2021, 5, 4, 3, 2, 1, tzinfo=timezone.utc) and read.taken_at_source == "quicktime"


@pytest.mark.parametrize("fmt, suffix", [("JPEG", "jpg"), ("TIFF", "tif")])
def test_xmp_date_created_and_create_date(reader, tmp_path, fmt, suffix):
    ns = 'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
    created = reader.read(photo(tmp_path / f"a.{suffix}", fmt=fmt, ifd0="2020:01:01 00:00:00", xmp=(
        f'<rdf:Description {ns} photoshop:DateCreated="2017-05-06T07:08:09+03:00" '
        'xmp:CreateDate="2016-01-01T00:00:00"/>')))
    assert created.taken_at == datetime(2017, 5, 6, 7, 8, 9, tzinfo=timezone(timedelta(hours=3)))
    assert created.taken_at_source == "xmp"
    element = reader.read(photo(tmp_path / f"b.{suffix}", fmt=fmt, xmp=(
        f'<rdf:Description {ns}><xmp:CreateDate>2016-02-03T04:05:06Z</xmp:CreateDate></rdf:Description>')))
    assert element.taken_at == datetime(2016, 2, 3, 4, 5, 6, tzinfo=timezone.utc) and element.taken_at_source == "xmp"


def test_takeout_sidecar_gives_time_and_place_when_the_file_has_none(reader, tmp_path):
    path = photo(tmp_path / "IMG_1234.jpg", ifd0="2020:01:01 00:00:00")
    (tmp_path / "IMG_1234.jpg.supplemental-metadata.json").write_text(json.dumps({
        "title": "IMG_1234.jpg", "photoTakenTime": {"timestamp": "1552400103", "formatted": "12 Mar 2019"},
        "geoData": {"latitude": 60.1467, "longitude": 24.9068, "altitude": 0.0}}))
    read = reader.read(path)
    assert read.taken_at == datetime(2019, 3, 12, 14, 15, 3, tzinfo=timezone.utc) and read.taken_at_source == "sidecar"
    assert (read.latitude, read.longitude) == (60.1467, 24.9068)
    # The file's own GPS wins over the sidecar's, its own time too.
    own = photo(tmp_path / "IMG_5.jpg", original="2015:01:01 12:00:00", gps=(40.447, -3.7248))
    (tmp_path / "IMG_5.jpg.json").write_text(json.dumps({
        "photoTakenTime": {"timestamp": "1552400103"}, "geoData": {"latitude": 1.0, "longitude": 2.0}}))
    kept = reader.read(own)
    assert kept.taken_at_source == "exif" and kept.latitude == pytest.approx(40.447, abs=1e-5)


@pytest.mark.parametrize("photo_name, sidecar_name", [
    ("IMG_1234.jpg", "IMG_1234.jpg.json"),                                            # the classic name
    ("IMG_1234.jpg", "IMG_1234.jpg.supplemental-metadata.json"),                      # since 2024
    ("IMG_1234.jpg", "IMG_1234.json"),                                                # extension dropped
    ("IMG_1234(1).jpg", "IMG_1234.jpg(1).json"),                                      # a second IMG_1234.jpg
    ("IMG_1234(1).jpg", "IMG_1234.jpg.supplemental-metadata(1).json"),
    ("IMG_1234-edited.jpg", "IMG_1234.jpg.json"),                                     # an edit shares it
    ("IMG_1234-bearbeitet.jpg", "IMG_1234.jpg.supplemental-metadata.json"),
    ("ab-edited.jpg", "ab.jpg.json"),                                                 # shorter than a bucket
    ("a.jpg", "a.jpg.supplemental-metadata.json"),
    ("PXL_20230512_101010123.PORTRAIT.jpg", "PXL_20230512_101010123.PORTRAIT.jpg.suppl.json"),   # cut to 46
    ("PXL_20230512_101010123.jpg", "PXL_20230512_101010123.jpg.supplemental-me.json"),
    ("Screenshot_2023-05-12-10-10-10-123_com.example.app.jpg",
     "Screenshot_2023-05-12-10-10-10-123_com.example.json"),                       # the photo's own name cut
])
def test_every_takeout_sidecar_name_is_found(tmp_path, photo_name, sidecar_name):
    assert len(sidecar_name) - len(".json") <= 46 or "(" in sidecar_name   # names as Takeout writes them
    photo(tmp_path / photo_name)
    (tmp_path / sidecar_name).write_text(json.dumps({"photoTakenTime": {"timestamp": "1552400103"}}))
    found = find_sidecar(tmp_path / photo_name)
    assert found is not None and found.path.endswith(sidecar_name)
    assert found.taken_at == datetime(2019, 3, 12, 14, 15, 3, tzinfo=timezone.utc)


@pytest.mark.parametrize("photo_name, sidecar_name", [
    ("IMG_1234.jpg", "IMG_1234.jpg(1).json"),          # the copy's, not this one's
    ("IMG_1234(1).jpg", "IMG_1234.jpg.json"),          # the original's, not the copy's
    ("IMG_12.jpg", "IMG_123.jpg.json"),                # another photo
    ("IMG_1.jpg", "IMG.json"),
    ("IMG_1234.jpg", "metadata.json"),                 # an album's description
])
def test_another_photos_sidecar_is_not_taken(tmp_path, photo_name, sidecar_name):
    photo(tmp_path / photo_name)
    (tmp_path / sidecar_name).write_text(json.dumps({"photoTakenTime": {"timestamp": "1552400103"}}))
    assert find_sidecar(tmp_path / photo_name) is None


def test_a_broken_or_foreign_json_is_no_sidecar(reader, tmp_path):
    path = photo(tmp_path / "a.jpg")
    (tmp_path / "a.jpg.json").write_text("{not json")
    assert find_sidecar(path) is None
    (tmp_path / "a.jpg.json").write_text(json.dumps({"name": "a package.json"}))
    assert find_sidecar(path) is None and reader.read(path).taken_at_source == "file"


def test_ifd0_date_time_then_gps_date_and_time(reader, tmp_path):
    ifd0 = reader.read(photo(tmp_path / "nokia.heif", fmt="HEIF", ifd0="2022:02:03 14:44:07",
                             gps=(40.788, -4.005), gps_time=("2022:02:03", "13:44:09")))
    # The Nokia 8.3's HEIF: only IFD0 DateTime, and a GPS clock one hour behind: Madrid's winter zone.
    assert ifd0.taken_at == datetime(2022, 2, 3, 14, 44, 7, tzinfo=timezone(timedelta(hours=1)))
    assert ifd0.taken_at_source == "exif_modified"
    gps = reader.read(photo(tmp_path / "g.jpg", gps=(48.85, 2.35), gps_time=("2021:07:08", "09:10:11")))
    assert gps.taken_at == datetime(2021, 7, 8, 9, 10, 11, tzinfo=timezone.utc) and gps.taken_at_source == "gps"


@pytest.mark.parametrize("name, expected", [
    ("IMG_20190312_141503.jpg", datetime(2019, 3, 12, 14, 15, 3)),
    ("IMG_20190312_141503_HDR.jpg", datetime(2019, 3, 12, 14, 15, 3)),
    ("IMG-20190312-WA0004.jpg", datetime(2019, 3, 12)),                       # WhatsApp: a day
    ("PXL_20190312_141503123.jpg", datetime(2019, 3, 12, 14, 15, 3)),         # Pixel, with milliseconds
    ("PXL_20190312_141503123.MP.jpg", datetime(2019, 3, 12, 14, 15, 3)),
    ("Screenshot_2019-03-12-14-15-03-123_com.android.chrome.jpg", datetime(2019, 3, 12, 14, 15, 3)),
    ("Screenshot_20190312-141503.png", datetime(2019, 3, 12, 14, 15, 3)),
    ("Screenshot 2019-03-12 at 14.15.03.png", datetime(2019, 3, 12, 14, 15, 3)),    # macOS
    ("Screen Shot 2019-03-12 at 2.15.03 PM.png", datetime(2019, 3, 12, 14, 15, 3)),
    ("20190312_141503.jpg", datetime(2019, 3, 12, 14, 15, 3)),                # Samsung
    ("2019-03-12 14.15.03.jpg", datetime(2019, 3, 12, 14, 15, 3)),            # Dropbox camera uploads
    ("photo_2019-03-12_14-15-03.jpg", datetime(2019, 3, 12, 14, 15, 3)),      # Telegram
    ("PHOTO-2019-03-12-14-15-03.jpg", datetime(2019, 3, 12, 14, 15, 3)),      # WhatsApp on iOS
    ("signal-2019-03-12-141503.jpg", datetime(2019, 3, 12, 14, 15, 3)),
    ("MVIMG_20190312_141503.jpg", datetime(2019, 3, 12, 14, 15, 3)),
    ("DSC_0042.jpg", None), ("IMG_1234.jpg", None), ("P1010001.JPG", None),
    ("scan 1234567890123.jpg", None),                                         # a long number, no date
    ("IMG_20191332_141503.jpg", None),                                        # month 13
    ("IMG_29990101_000000.jpg", None),                                        # the future
])
def test_dates_in_file_names(name, expected):
    assert from_name(name, today=datetime(2024, 1, 1)) == expected


def test_the_file_name_then_the_file_time(reader, tmp_path, local_zone):
    named = reader.read(photo(tmp_path / "IMG_20190312_141503.jpg"))
    assert wall(named.taken_at) == (datetime(2019, 3, 12, 14, 15, 3), timedelta(hours=-4))   # New York, March
    assert named.taken_at_source == "filename"
    plain = reader.read(photo(tmp_path / "plain.jpg"))
    assert plain.taken_at_source == "file" and plain.taken_at.timestamp() == OLD


# ---- the offset -------------------------------------------------------------------------


def test_offset_from_the_gps_clock_else_local(reader, tmp_path, local_zone):
    iphone = reader.read(photo(tmp_path / "i.jpg", original="2015:04:10 20:12:23", gps=(40.447, -3.7248),
                               gps_time=("2015:04:10", "18:12:22")))
    assert iphone.taken_at == datetime(2015, 4, 10, 20, 12, 23, tzinfo=timezone(timedelta(hours=2)))
    # A GPS fix from the day before (22 hours off) says nothing about the zone: local time then.
    stale = reader.read(photo(tmp_path / "s.jpg", original="2008:10:22 16:28:39", gps=(43.467, 11.885),
                              gps_time=("2008:10:23", "14:27:07")))
    assert wall(stale.taken_at) == (datetime(2008, 10, 22, 16, 28, 39), timedelta(hours=-4))
    naive = reader.read(photo(tmp_path / "n.jpg", original="2019:12:31 23:59:59"))
    assert wall(naive.taken_at) == (datetime(2019, 12, 31, 23, 59, 59), timedelta(hours=-5))
    # The file's own offset always wins.
    own = reader.read(photo(tmp_path / "o.jpg", original="2015:04:10 20:12:23", offset="+03:00",
                            gps_time=("2015:04:10", "18:12:22")))
    assert own.taken_at.utcoffset() == timedelta(hours=3)


def test_gps_offset_needs_a_quarter_hour_and_a_zone_that_fits_the_longitude():
    local = datetime(2020, 6, 1, 12, 0, 0)
    assert gps_offset(local, datetime(2020, 6, 1, 10, 0, 40, tzinfo=timezone.utc), 2.35) == timedelta(hours=2)
    assert gps_offset(local, datetime(2020, 6, 1, 6, 30, 0, tzinfo=timezone.utc), 77.2) == timedelta(hours=5.5)
    assert gps_offset(local, datetime(2020, 6, 1, 10, 7, 0, tzinfo=timezone.utc), 2.35) is None    # 7 min off
    assert gps_offset(local, datetime(2020, 6, 1, 20, 0, 0, tzinfo=timezone.utc), 2.35) is None    # -8 h in Paris
    assert gps_offset(local, datetime(2020, 6, 1, 22, 0, 0, tzinfo=timezone.utc), 100.5) is None   # -10 h in Asia
    assert gps_offset(local, datetime(2020, 6, 1, 22, 0, 0, tzinfo=timezone.utc), -157.8) == timedelta(hours=-10)
    # Kiribati's +14 h at 157 degrees west: right across the date line.
    assert gps_offset(datetime(2020, 6, 2, 12), datetime(2020, 6, 1, 22, 0, 0, tzinfo=timezone.utc),
                      -157.4) == timedelta(hours=14)
    assert gps_offset(local, datetime(2020, 6, 1, 20, 0, 0, tzinfo=timezone.utc), None) == timedelta(hours=-8)


def test_every_source_is_one_the_interface_names():
    assert set(capture_time.TIME_SOURCES) == {"exif", "quicktime", "xmp", "sidecar", "exif_modified", "gps",
                                              "filename", "file"}
