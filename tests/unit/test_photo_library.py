"""A real photo library, indexed with the real reader and gazetteer: cities found by any level of their
place (a district, the city, the region), questions answered from photos alone, one photo per content,
near-duplicates counted once, and a question photo that is a copy of a library photo."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from PIL import Image

from companion.backends.imaging import PillowPhotoReader
from companion.core.answer import pipeline
from companion.core.answer.pipeline import run
from companion.core.library import near_duplicates
from companion.core.library.indexing import IndexSummary, index_paths
from companion.core.store import Database, Store, migrations
from companion.core.store.places import PlaceFilter
from tests.unit._personal import deps
from tests.unit._photos import photo

# Positions inside a district of a bigger city (the nearest GeoNames place is the district), and in a region.
DISTRICTS = {
    "Helsinki": ((60.1467, 24.9068), "Länsisatama", "2019:06:01 12:00:00"),
    "Madrid": ((40.4470, -3.7248), "Vallehermoso", "2018:04:10 20:12:23"),
    "Arezzo": ((43.4675, 11.8851), "", "2008:10:22 16:28:39"),          # in Tuscany
    "Blue Springs": ((39.0513, -94.2888), "", "2021:04:11 15:47:53"),   # in Missouri
}


class CountingReader(PillowPhotoReader):
    """The real reader, counting the files it decodes."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[str] = []

    def read(self, path: Path):  # type: ignore[no-untyped-def]
        self.reads.append(Path(path).name)
        return super().read(path)


def index(d, *targets: Path, reader: PillowPhotoReader | None = None) -> IndexSummary:  # type: ignore[no-untyped-def]
    *_, summary = index_paths(d.store, d.settings, list(targets), reader=reader or PillowPhotoReader(),
                              geocoder=d.geocoder)
    assert isinstance(summary, IndexSummary)
    return summary


@pytest.fixture
def library(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(pipeline, "_now", lambda: datetime(2026, 7, 10, 12, tzinfo=timezone.utc))
    d = deps(tmp_path)
    d.photo_reader = PillowPhotoReader()
    folder = tmp_path / "photos"
    folder.mkdir()
    for seed, (city, (position, _, when)) in enumerate(DISTRICTS.items()):
        photo(folder / f"{city}.jpg", original=when, gps=position, seed=seed)
    d.folder = folder
    return d


def test_a_district_is_stored_below_its_city_never_instead_of_it(library) -> None:
    summary = index(library, library.folder)
    assert summary.new == 4
    for city, (_, district, _) in DISTRICTS.items():
        stored = library.store.photos.by_path(str(library.folder / f"{city}.jpg"))
        assert stored.place is not None and stored.place.city == city and stored.place.district == district
    helsinki = library.store.photos.by_path(str(library.folder / "Helsinki.jpg"))
    assert helsinki.place.label() == "Helsinki, Uusimaa, Finland"


@pytest.mark.parametrize("question, day", [
    ("When was I last in Helsinki?", "1 June 2019"),
    ("When was I last in Madrid?", "10 April 2018"),
    ("When was I last in Tuscany?", "22 October 2008"),
    ("When was I last in Missouri?", "11 April 2021"),
    ("When was I last in Länsisatama?", "1 June 2019"),     # the district's own name finds it too
    ("Wann war ich zuletzt in der Toskana?", "22. Oktober 2008"),       # in the language tables' names
    ("¿Cuándo estuve por última vez en la Toscana?", "22 de octubre de 2008"),
])
def test_place_questions_answer_from_photos_at_the_level_the_user_named(library, question, day) -> None:
    index(library, library.folder)
    answer = run(library, question)
    assert day in answer.answer, answer.answer
    assert "no photos" not in answer.answer


def test_every_level_of_a_place_finds_its_photos(library) -> None:
    index(library, library.folder)
    count = library.store.photos.count_taken
    assert count(place=PlaceFilter("Helsinki", "Finland", "FI")) == 1
    assert count(place=PlaceFilter("Länsisatama")) == 1
    assert count(place=PlaceFilter(region="Uusimaa")) == 1
    assert count(place=PlaceFilter(region="Tuscany", country_code="IT")) == 1
    assert count(place=PlaceFilter(country="Spain", country_code="ES")) == 1
    assert count(place=PlaceFilter("Madrid", "United States", "US")) == 0      # Madrid, Iowa: not this one
    assert count(place=PlaceFilter(region="Missouri")) == 1


def test_a_window_with_photos_and_no_notes_says_where_and_when(library) -> None:
    for n in range(2):
        photo(library.folder / f"arezzo-{n}.jpg", original=f"2008:10:22 17:0{n}:00", gps=(43.4675, 11.8851),
              seed=10 + n)
    index(library, library.folder)
    answer = run(library, "What did I do in October 2008?")
    assert answer.answer.startswith("In October 2008 you were in Arezzo: 3 photos, 22 October"), answer.answer


# ---- one photo per content ---------------------------------------------------------------


def test_byte_identical_copies_are_one_photo_with_every_path(library, tmp_path) -> None:
    original = library.folder / "Helsinki.jpg"
    album = library.folder / "Summer album"
    album.mkdir()
    shutil.copy2(original, album / "Helsinki.jpg")             # Takeout puts each photo in every album
    shutil.copy2(original, album / "Helsinki(1).jpg")
    reader = CountingReader()
    summary = index(library, library.folder, reader=reader)
    assert (summary.new, summary.copies) == (4, 2) and len(reader.reads) == 4    # a copy is never decoded
    assert library.store.photos.count() == 4
    assert library.store.photos.count_taken(place=PlaceFilter("Helsinki")) == 1
    kept = library.store.photos.by_path(str(original))
    assert sorted(library.store.photos.paths(kept.id)) == sorted(
        [str(original), str(album / "Helsinki.jpg"), str(album / "Helsinki(1).jpg")])
    assert index(library, library.folder).unchanged == 6            # every path is known, none re-read
    shutil.copy2(original, album / "later copy.jpg")                 # a copy of a photo already in the library
    reader = CountingReader()
    assert index(library, library.folder, reader=reader).copies == 1 and reader.reads == []
    (album / "later copy.jpg").unlink()
    # Deleting a path keeps the photo while another file holds it.
    original.unlink()
    assert index(library, library.folder).removed == 0
    assert library.store.photos.count_taken(place=PlaceFilter("Helsinki")) == 1
    (album / "Helsinki.jpg").unlink()
    (album / "Helsinki(1).jpg").unlink()
    assert index(library, library.folder).removed == 1
    assert library.store.photos.count_taken(place=PlaceFilter("Helsinki")) == 0


def test_copies_found_in_one_run_are_paths_of_the_first(library) -> None:
    for n in range(12):                                         # more than a batch: some wait for their commit
        shutil.copy2(library.folder / "Madrid.jpg", library.folder / f"Madrid copy {n:02}.jpg")
    reader = CountingReader()
    summary = index(library, library.folder, reader=reader)
    assert (summary.new, summary.copies) == (4, 12) and library.store.photos.count() == 4
    assert len(reader.reads) == 4


def test_a_skipped_kind_of_file_is_counted(library) -> None:
    (library.folder / "clip.mp4").write_bytes(b"\0" * 10)
    (library.folder / "notes.pdf").write_bytes(b"%PDF")
    (library.folder / "Helsinki.jpg.json").write_text("{}")       # a sidecar is no skipped file
    summary = index(library, library.folder)
    assert summary.not_photos == {".mp4": 1, ".pdf": 1}
    assert summary.not_photos_text() == "2 skipped: not photos (.mp4 1, .pdf 1)"


# ---- near-duplicates -----------------------------------------------------------------------


def test_a_resized_copy_and_a_burst_count_once(library) -> None:
    anna = library.store.concepts.add("Anna", "person")
    source = library.folder / "Madrid.jpg"
    with Image.open(source) as image:
        exif = image.getexif()
        image.resize((160, 120)).save(library.folder / "Madrid small.jpg", quality=60, exif=exif.tobytes())
    index(library, library.folder)
    big = library.store.photos.by_path(str(source))
    small = library.store.photos.by_path(str(library.folder / "Madrid small.jpg"))
    assert small.content_hash != big.content_hash and library.store.photos.count() == 5
    assert {p.id for p in library.store.photos.group(small.id)} == {big.id, small.id}
    assert library.store.photos.count_taken(place=PlaceFilter("Madrid")) == 1
    assert len(library.store.photos.taken(place=PlaceFilter("Madrid"))) == 1
    for photo_id in (big.id, small.id):
        library.store.observations.add(anna.id, time=big.taken_at, place=big.place.label(), source="face",
                                       kind="sighting", photo_id=photo_id)
    assert len(library.store.observations.sightings(place=PlaceFilter("Madrid"))) == 1
    assert [p.count for p in library.store.observations.places(anna.id)] == [1]
    # Different pictures stay apart.
    others = [library.store.photos.by_path(str(library.folder / f"{c}.jpg")) for c in ("Helsinki", "Arezzo")]
    assert all(len(library.store.photos.group(p.id)) == 1 for p in others)


def test_a_burst_shot_joins_its_group_only_seconds_apart(library) -> None:
    import numpy as np

    from tests.unit._photos import picture

    def bits(a: Image.Image, b: Image.Image) -> int:
        return near_duplicates.distance(near_duplicates.dhash(np.asarray(a)), near_duplicates.dhash(np.asarray(b)))

    scene = picture(0)                                          # the Helsinki photo's picture, the camera moved
    right, left = (scene.crop(box).resize((320, 240)) for box in ((32, 0, 320, 240), (0, 0, 288, 240)))
    for moved in (right, left):                                 # no copies: only time can make them a burst
        assert near_duplicates.COPY_BITS < bits(scene, moved) <= near_duplicates.BURST_BITS
    assert bits(right, left) > near_duplicates.BURST_BITS
    for name, moved, when in (("burst", right, "2019:06:01 12:00:02"), ("an hour later", left, "2019:06:01 13:00:00")):
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = when
        moved.save(library.folder / f"Helsinki {name}.jpg", exif=exif.tobytes())
    index(library, library.folder)
    first = library.store.photos.by_path(str(library.folder / "Helsinki.jpg"))
    group = {Path(p.path).name for p in library.store.photos.group(first.id)}
    assert group == {"Helsinki.jpg", "Helsinki burst.jpg"}


def test_the_difference_hash_survives_resizing_but_tells_pictures_apart() -> None:
    import numpy as np

    from tests.unit._photos import picture

    one, two = np.asarray(picture(1, (640, 480))), np.asarray(picture(2, (640, 480)))
    half = np.asarray(picture(1, (640, 480)).resize((320, 240)))
    assert near_duplicates.distance(near_duplicates.dhash(one), near_duplicates.dhash(half)) <= 2
    assert near_duplicates.distance(near_duplicates.dhash(one), near_duplicates.dhash(two)) > 16
    assert near_duplicates.dhash(np.zeros((480, 640, 3), np.uint8)) is None     # a black frame has no hash


# ---- the question photo ---------------------------------------------------------------------


def test_a_question_photo_copied_from_the_library_is_that_photo(library, tmp_path) -> None:
    index(library, library.folder)
    anna = library.store.concepts.add("Anna", "person")
    for city in ("Arezzo", "Helsinki"):                       # seen in Arezzo (2008), then in Helsinki (2019)
        seen = library.store.photos.by_path(str(library.folder / f"{city}.jpg"))
        library.store.observations.add(anna.id, time=seen.taken_at, place=seen.place.label(), source="face",
                                       kind="sighting", photo_id=seen.id)
    question = tmp_path / "Downloads" / "IMG_0001.jpg"
    question.parent.mkdir()
    shutil.copy(library.folder / "Helsinki.jpg", question)
    answer = run(library, "When did I last see Anna?", image=question)
    # The photo asked about is the Helsinki photo itself: the last sighting before it is Arezzo.
    assert "22 October 2008" in answer.answer and "Arezzo" in answer.answer, answer.answer


# ---- upgrading a library indexed before 0009 ------------------------------------------------


def test_an_older_library_merges_its_copies_and_names_its_districts_again(tmp_path) -> None:
    db = Database(tmp_path / "c.db")
    migrations.migrate(db, upto="0006_time_and_place_queries")
    insert = ("INSERT INTO photos (path, content_hash, size, mtime, indexed_at, latitude, longitude, city, region, "
              "country, country_code, ts) VALUES (?, ?, 1, 1, 'now', ?, ?, ?, 'Uusimaa', 'Finland', 'FI', 1)")
    db.execute(insert, ("/a/p.jpg", "h1", 60.1467, 24.9068, "Länsisatama"))
    db.execute(insert, ("/album/p.jpg", "h1", 60.1467, 24.9068, "Länsisatama"))
    db.close()
    store = Store.open(tmp_path / "c.db")
    assert store.photos.count() == 1 and store.photos.paths(store.photos.by_path("/a/p.jpg").id) == [
        "/a/p.jpg", "/album/p.jpg"]
    d = deps(tmp_path)
    *_, summary = index_paths(store, d.settings, [], reader=PillowPhotoReader(), geocoder=d.geocoder)
    renamed = store.photos.by_path("/a/p.jpg")
    assert (renamed.place.city, renamed.place.district) == ("Helsinki", "Länsisatama")
    store.close()
