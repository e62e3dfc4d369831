"""When (and, failing EXIF, where) a photo was taken: the first clock that knows, and which one it was.

The photo reader (``backends/imaging.py``) reads the clocks inside the file
(:class:`Embedded`); :func:`resolve` adds what lies around it and picks, in
this order (as Immich and PhotoPrism do, through exiftool):

1. ``exif``: EXIF DateTimeOriginal, then CreateDate (DateTimeDigitized);
2. ``quicktime``: the QuickTime/ISO-BMFF ``mvhd`` creation time of a HEIF;
3. ``xmp``: ``photoshop:DateCreated``, ``xmp:CreateDate`` (``exif:DateTimeOriginal``);
4. ``sidecar``: a Google Takeout JSON beside the file (``photoTakenTime``; every
   name Takeout writes, see :func:`find_sidecar`);
5. ``exif_modified``: EXIF IFD0 DateTime (when the camera or an editor last wrote it);
6. ``gps``: the GPS date and UTC time stamp;
7. ``filename``: a date in the file's name (``IMG_20190312_141503.jpg``,
   ``IMG-20190312-WA0004.jpg``, ``PXL_20190312_141503123.jpg``,
   ``Screenshot_2019-03-12-14-15-03-…``, ``2019-03-12 14.15.03.jpg``, ...);
8. ``file``: the file's modification time.

The offset of a wall-clock time: its own (EXIF OffsetTime*, an XMP zone), else
the difference to the GPS UTC stamp when that is a plausible time zone for the
photo's longitude, else this computer's zone at that date. Every time returned
is aware, so photos order correctly across sources.

The sidecar's ``geoData`` fills the position when the file has none (Google
Photos strips EXIF from some exports and keeps the place in the JSON).
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

TimeSource = Literal["exif", "quicktime", "xmp", "sidecar", "exif_modified", "gps", "filename", "file"]
TIME_SOURCES: tuple[str, ...] = ("exif", "quicktime", "xmp", "sidecar", "exif_modified", "gps", "filename", "file")
EARLIEST_YEAR = 1980              # digital photos; older dates in names are numbers, not dates
OFFSET_STEP = timedelta(minutes=15)
GPS_CLOCK_SLACK = timedelta(minutes=3)   # a GPS stamp this far off a whole quarter hour is another moment
MAX_SOLAR_GAP_HOURS = 3.5        # a zone's offset stays this close to longitude / 15 (China: 2.2, Spain: 2.2)
TAKEOUT_NAME_LIMIT = 46          # Takeout cuts a sidecar's name (without ".json") to 46 characters
_TRUNCATED_MIN = 40              # a shorter cut prefix is another file's sidecar, not a truncated one
_LISTINGS = 64                   # folders whose .json names are kept between photos

# Google Photos' "edited" copy suffixes (the edited file shares the original's sidecar).
_EDITED = ("-edited", "-bearbeitet", "-modifié", "-editado", "-modificato", "-bewerkt", "-redigerad",
           "-muokattu", "-rediger", "-edytowane", "-upravené", "-編集済み", "-已修改", "-編輯")
_DUPLICATE = re.compile(r"^(?P<stem>.*?)\((?P<n>\d+)\)$")
# A date in a file name: 2019-03-12 / 20190312 / 2019_03_12, optionally a time (14.15.03, 141503, 14-15-03,
# "at 2.15.03 PM"), with no digit right before or after (not part of a longer number such as a counter).
_NAME_DATE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d\d)(?P<s>[-_.]?)(?P<mo>[01]\d)(?P=s)(?P<d>[0-3]\d)"
    r"(?:(?:[-_. T]|\s+at\s+)?(?P<h>[0-2]?\d)[-_.:h]?(?P<mi>[0-5]\d)[-_.:m]?(?P<sec>[0-5]\d)"
    r"(?:[-_.]?\d{1,3}(?!\d))?(?:\s*(?P<ampm>[AaPp][Mm]))?)?(?!\d)")


@dataclass(frozen=True)
class Embedded:
    """The clocks and position inside a file, as the photo reader found them (None: absent or unreadable).

    Wall-clock times are naive unless the file gave their offset; ``quicktime`` and ``gps_utc`` are UTC.
    """

    original: datetime | None = None     # EXIF DateTimeOriginal (+ OffsetTimeOriginal)
    digitized: datetime | None = None    # EXIF CreateDate / DateTimeDigitized (+ OffsetTimeDigitized)
    quicktime: datetime | None = None    # QuickTime / ISO-BMFF mvhd creation time
    xmp: datetime | None = None          # photoshop:DateCreated / xmp:CreateDate
    modified: datetime | None = None     # EXIF IFD0 DateTime (+ OffsetTime)
    gps_utc: datetime | None = None      # GPSDateStamp + GPSTimeStamp
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class Sidecar:
    """What a Google Takeout JSON says about its photo."""

    path: str
    taken_at: datetime | None            # aware (UTC)
    latitude: float | None
    longitude: float | None
    people: tuple[str, ...] = ()         # the names Google Photos gave the people in it ("people": [{"name"}])


@dataclass(frozen=True)
class CaptureTime:
    """When the photo was taken (aware), which clock said so, and its position (the file's or the sidecar's)."""

    taken_at: datetime
    source: TimeSource
    latitude: float | None
    longitude: float | None


def resolve(path: str | Path, embedded: Embedded, mtime: float) -> CaptureTime:
    """The capture time of the photo at ``path`` by the order in the module docstring."""
    path = Path(path)
    latitude, longitude = embedded.latitude, embedded.longitude
    ordered: list[tuple[TimeSource, datetime | None]] = [
        ("exif", embedded.original), ("exif", embedded.digitized), ("quicktime", embedded.quicktime),
        ("xmp", embedded.xmp)]
    found = next(((source, moment) for source, moment in ordered if moment is not None), None)
    sidecar = find_sidecar(path) if found is None or latitude is None else None
    if sidecar is not None and latitude is None and sidecar.latitude is not None:
        latitude, longitude = sidecar.latitude, sidecar.longitude
    if found is None:
        rest: list[tuple[TimeSource, datetime | None]] = [
            ("sidecar", sidecar.taken_at if sidecar else None), ("exif_modified", embedded.modified),
            ("gps", embedded.gps_utc), ("filename", from_name(path.name))]
        found = next(((source, moment) for source, moment in rest if moment is not None), None)
    if found is None:
        return CaptureTime(datetime.fromtimestamp(mtime).astimezone(), "file", latitude, longitude)
    source, moment = found
    return CaptureTime(with_offset(moment, embedded.gps_utc, longitude), source, latitude, longitude)


def with_offset(moment: datetime, gps_utc: datetime | None, longitude: float | None) -> datetime:
    """``moment`` made aware: kept if it is; else at the offset the GPS clock gives; else this computer's zone."""
    if moment.tzinfo is not None:
        return moment
    if gps_utc is not None:
        offset = gps_offset(moment, gps_utc, longitude)
        if offset is not None:
            return moment.replace(tzinfo=timezone(offset))
    return moment.astimezone()   # a naive time is local time (this computer's zone on that date)


def gps_offset(local: datetime, gps_utc: datetime, longitude: float | None) -> timedelta | None:
    """The zone offset between a wall-clock time and the GPS UTC stamp of the same photo, or None.

    Zones are whole quarter hours from -12 h to +14 h; a GPS stamp that is minutes off a quarter
    hour, or hours away from what the longitude allows, was taken at another moment (an old
    fix, a camera whose clock was never set) and says nothing about the zone.
    """
    utc = gps_utc.astimezone(timezone.utc).replace(tzinfo=None) if gps_utc.tzinfo else gps_utc
    difference = local - utc
    steps = round(difference / OFFSET_STEP)
    offset = steps * OFFSET_STEP
    if abs(difference - offset) > GPS_CLOCK_SLACK or not timedelta(hours=-12) <= offset <= timedelta(hours=14):
        return None
    if longitude is not None:
        gap = (offset.total_seconds() / 3600 - longitude / 15) % 24
        if min(gap, 24 - gap) > MAX_SOLAR_GAP_HOURS:
            return None
    return offset


# ---- the file name ------------------------------------------------------------------------


def from_name(name: str, *, today: datetime | None = None) -> datetime | None:
    """The date (and time, where the name has one) that phones, messengers and apps write into file names.

    Naive (the name holds a wall-clock time). A date alone reads as midnight. Dates before
    1980 or after tomorrow are numbers that look like dates, and are ignored.
    """
    latest = (today or datetime.now()) + timedelta(days=1)
    for match in _NAME_DATE.finditer(name):
        try:
            hour = int(match["h"]) if match["h"] else 0
            if match["ampm"]:
                hour = hour % 12 + (12 if match["ampm"].lower() == "pm" else 0)
            moment = datetime(int(match["y"]), int(match["mo"]), int(match["d"]), hour,
                              int(match["mi"] or 0), int(match["sec"] or 0))
        except ValueError:        # 2019-02-30, 25:00: not a date
            continue
        if EARLIEST_YEAR <= moment.year and moment <= latest:
            return moment
    return None


# ---- Google Takeout sidecars -----------------------------------------------------------------


_listing_lock = threading.Lock()
_listings: OrderedDict[str, tuple[int, dict[tuple[str, str], list[str]]]] = OrderedDict()


def find_sidecar(path: str | Path) -> Sidecar | None:
    """The Google Takeout JSON that describes the photo at ``path``, read; None when there is none.

    Takeout names it after the photo, in the forms it has used over the years:
    ``IMG_1234.jpg.json``, ``IMG_1234.jpg.supplemental-metadata.json``, ``IMG_1234.json``;
    cut to 46 characters before ``.json`` (``…jpg.supplemen.json``, ``…jpg.suppl.json``);
    a second photo of the same name ``IMG_1234(1).jpg`` gets ``IMG_1234.jpg(1).json`` or
    ``IMG_1234.jpg.supplemental-metadata(1).json``; an edited copy ``IMG_1234-edited.jpg``
    has none of its own and shares the original's. Where a JSON names its photo (``title``),
    a sidecar that names this one wins.
    """
    path = Path(path)
    stem, extension = os.path.splitext(path.name.lower())
    photos = [(stem, "")]                                # (the photo's name, its copy number)
    duplicate = _DUPLICATE.match(stem)
    if duplicate:
        photos.append((duplicate["stem"], duplicate["n"]))
    photos += [(base[: -len(suffix)], number) for base, number in list(photos) for suffix in _EDITED
               if base.endswith(suffix)]
    index = _sidecars(path.parent)
    if not index:
        return None
    matches: list[str] = []
    for base, number in photos:
        for key in _sidecar_keys(base, base + extension):
            matches += index.get((key, number), [])
    for json_name in sorted(dict.fromkeys(matches), key=lambda n: -len(n)):   # the longest, least cut name first
        sidecar = read_sidecar(path.parent / json_name)
        if sidecar is not None:
            return sidecar
    return None


def _sidecar_keys(stem: str, original: str) -> list[str]:
    """Every name (lowercase, without ``.json`` and its ``(n)``) a sidecar of the photo ``original`` may have:
    the photo's name, without its extension, with ``.supplemental-metadata``, and that cut short: a cut
    that reaches past the photo's name, or one near Takeout's limit of 46 characters."""
    full = f"{original}.supplemental-metadata"
    shortest = min(len(original) + 1, _TRUNCATED_MIN)
    return [original, stem, *(full[:n] for n in range(shortest, len(full) + 1))]


def _sidecars(folder: Path) -> dict[tuple[str, str], list[str]]:
    """The ``.json`` files in ``folder`` by (name without ``.json`` and ``(n)``, lowercase; n).

    Listed once while the folder is unchanged: a Takeout folder holds a sidecar per photo,
    and each photo then looks up its few possible names instead of reading them all.
    """
    key = str(folder)
    try:
        stamp = folder.stat().st_mtime_ns
    except OSError:
        return {}
    with _listing_lock:
        cached = _listings.get(key)
        if cached is not None and cached[0] == stamp:
            _listings.move_to_end(key)
            return cached[1]
    index: dict[tuple[str, str], list[str]] = {}
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                name = entry.name
                if not name.lower().endswith(".json") or name[:1] == ".":
                    continue
                stem, number = name[:-5].lower(), ""
                numbered = _DUPLICATE.match(stem)
                if numbered:
                    stem, number = numbered["stem"], numbered["n"]
                index.setdefault((stem, number), []).append(name)
    except OSError:
        index = {}
    with _listing_lock:
        _listings[key] = (stamp, index)
        while len(_listings) > _LISTINGS:
            _listings.popitem(last=False)
    return index


def read_sidecar(path: str | Path) -> Sidecar | None:
    """A Takeout JSON's ``photoTakenTime`` and ``geoData`` (``geoDataExif`` as a fallback); None if it is not one."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(1_000_001)
        if len(raw) > 1_000_000:          # a Takeout sidecar is a few kB; this is some other file
            return None
        data = json.loads(raw)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not any(k in data for k in ("photoTakenTime", "geoData", "creationTime")):
        return None
    taken = _epoch(data.get("photoTakenTime"))
    latitude, longitude = _position(data.get("geoData"))
    if latitude is None:
        latitude, longitude = _position(data.get("geoDataExif"))
    people = _people(data.get("people"))
    if taken is None and latitude is None and not people:
        return None
    return Sidecar(str(path), taken, latitude, longitude, people)


def _people(value: Any) -> tuple[str, ...]:
    """The names in a sidecar's ``people`` list, each once, blank ones dropped."""
    if not isinstance(value, list):
        return ()
    names = [" ".join(str(p.get("name", "")).split())[:200] for p in value if isinstance(p, dict)]
    return tuple(dict.fromkeys(n for n in names if n))


def _epoch(value: Any) -> datetime | None:
    if not isinstance(value, dict):
        return None
    try:
        seconds = int(str(value.get("timestamp", "")).strip())
    except ValueError:
        return None
    if seconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _position(value: Any) -> tuple[float | None, float | None]:
    """Decimal degrees from a Takeout ``geoData``; 0, 0 is Google's "no position"."""
    if not isinstance(value, dict):
        return None, None
    try:
        latitude, longitude = float(value.get("latitude", 0.0)), float(value.get("longitude", 0.0))
    except (TypeError, ValueError):
        return None, None
    if (latitude == 0 and longitude == 0) or not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None, None
    return round(latitude, 7), round(longitude, 7)
