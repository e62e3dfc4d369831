"""Face tags from other apps become named faces and people on indexing, once.

Fixtures are real JPEG files written here with the XMP that digiKam / Lightroom (MWG Regions,
as attributes or as elements) and Windows Photo Gallery (Microsoft People Tags) write, embedded
or in ``photo.jpg.xmp`` / ``photo.xmp`` sidecars, and a Google Takeout folder whose sidecars
name the people in the photo. The face detector is a double that finds faces at fixed places
in the upright photo, so each test knows which detected face a tag should land on.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from companion.backends.imaging import PillowPhotoReader
from companion.config import Settings
from companion.core.library import face_tags, xmp_faces
from companion.core.library.indexing import IndexSummary, index_paths
from companion.core.store import Store
from companion.core.types import Box, DetectedFace

# Two faces in the upright photo (normalised left, top, right, bottom): left and right of centre.
LEFT, RIGHT = (0.10, 0.20, 0.30, 0.50), (0.60, 0.25, 0.85, 0.60)


class FixedFaces:
    """Finds a face at each of ``boxes`` (normalised, upright photo); every face a stranger of its own."""

    name, dim = "fixed-faces", 128
    identities = 0

    def __init__(self, boxes: list[tuple[float, float, float, float]]) -> None:
        self.boxes = boxes

    def detect(self, pixels: np.ndarray) -> list[DetectedFace]:
        height, width = pixels.shape[:2]
        found = []
        for box in self.boxes:
            FixedFaces.identities += 1
            vector = np.random.default_rng(FixedFaces.identities).normal(size=128).astype(np.float32)
            found.append(DetectedFace(Box(round(box[0] * width), round(box[1] * height), round(box[2] * width),
                                          round(box[3] * height)), vector / np.linalg.norm(vector), 0.99))
        return found


def _mwg_attributes(regions: list[tuple[str, tuple[float, float, float, float]]], dims: tuple[int, int]) -> str:
    """MWG Regions as digiKam writes them: structures with attributes."""
    items = "".join(
        f'<rdf:li><rdf:Description mwg-rs:Name="{name}" mwg-rs:Type="Face"><mwg-rs:Area stArea:x="{(b[0] + b[2]) / 2}" '
        f'stArea:y="{(b[1] + b[3]) / 2}" stArea:w="{b[2] - b[0]}" stArea:h="{b[3] - b[1]}" stArea:unit="normalized"/>'
        "</rdf:Description></rdf:li>" for name, b in regions)
    return ('<rdf:Description rdf:about="" xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/" '
            'xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#" xmlns:stDim="http://ns.adobe.com/xap/1.0/sType/Dimensions#">'
            f'<mwg-rs:Regions rdf:parseType="Resource"><mwg-rs:AppliedToDimensions stDim:w="{dims[0]}" '
            f'stDim:h="{dims[1]}" stDim:unit="pixel"/><mwg-rs:RegionList><rdf:Bag>{items}</rdf:Bag>'
            "</mwg-rs:RegionList></mwg-rs:Regions></rdf:Description>")


def _mwg_elements(regions: list[tuple[str, tuple[float, float, float, float]]]) -> str:
    """MWG Regions as Lightroom writes them: every property an element, the name in rdf:Description."""
    items = "".join(
        "<rdf:li><rdf:Description><mwg-rs:Area><rdf:Description>"
        f"<stArea:x>{(b[0] + b[2]) / 2}</stArea:x><stArea:y>{(b[1] + b[3]) / 2}</stArea:y>"
        f"<stArea:w>{b[2] - b[0]}</stArea:w><stArea:h>{b[3] - b[1]}</stArea:h><stArea:unit>normalized</stArea:unit>"
        f"</rdf:Description></mwg-rs:Area><mwg-rs:Name>{name}</mwg-rs:Name><mwg-rs:Type>Face</mwg-rs:Type>"
        "</rdf:Description></rdf:li>" for name, b in regions)
    return ('<rdf:Description rdf:about="" xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/" '
            'xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#">'
            f"<mwg-rs:Regions><rdf:Description><mwg-rs:RegionList><rdf:Bag>{items}</rdf:Bag></mwg-rs:RegionList>"
            "</rdf:Description></mwg-rs:Regions></rdf:Description>")


def _microsoft(regions: list[tuple[str, tuple[float, float, float, float]]]) -> str:
    """Microsoft People Tags as Windows Photo Gallery writes them."""
    items = "".join(
        f'<rdf:li><rdf:Description MPReg:Rectangle="{b[0]}, {b[1]}, {b[2] - b[0]}, {b[3] - b[1]}" '
        f'MPReg:PersonDisplayName="{name}"/></rdf:li>' for name, b in regions)
    return ('<rdf:Description rdf:about="" xmlns:MP="http://ns.microsoft.com/photo/1.2/" '
            'xmlns:MPRI="http://ns.microsoft.com/photo/1.2/t/RegionInfo#" '
            'xmlns:MPReg="http://ns.microsoft.com/photo/1.2/t/Region#">'
            f"<MP:RegionInfo rdf:parseType=\"Resource\"><MPRI:Regions><rdf:Bag>{items}</rdf:Bag></MPRI:Regions>"
            "</MP:RegionInfo></rdf:Description>")


def _packet(body: str) -> str:
    return ('<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
            f'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">{body}</rdf:RDF></x:xmpmeta>'
            '<?xpacket end="w"?>')


def jpeg(path: Path, *, xmp: str | None = None, orientation: int = 1, size: tuple[int, int] = (400, 300),
         seed: int = 1) -> Path:
    """A real JPEG (stored ``size``), with an EXIF orientation and an embedded XMP packet when asked."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    image = Image.fromarray(rng.integers(0, 255, (size[1] // 10, size[0] // 10, 3), dtype=np.uint8)).resize(size)
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif.get_ifd(0x8769)[0x9003] = "2021:07:04 12:00:00"
    options: dict[str, object] = {"exif": exif.tobytes()}
    if xmp is not None:
        options["xmp"] = _packet(xmp).encode()
    image.save(path, "JPEG", **options)
    return path


def _index(store: Store, folder: Path, faces: FixedFaces) -> IndexSummary:
    result = None
    for event in index_paths(store, Settings(), [folder], reader=PillowPhotoReader(), faces=faces):
        result = event
    assert isinstance(result, IndexSummary)
    return result


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "db" / "companion.db")
    yield s  # type: ignore[misc]
    s.close()


def _named(store: Store) -> dict[str, list[tuple[float, float]]]:
    """Person -> the centres (normalised, upright) of their faces."""
    out: dict[str, list[tuple[float, float]]] = {}
    for concept in store.concepts.list():
        for face in store.faces.of_concept(concept.id):
            photo = store.photos.get(face.photo_id)
            assert photo is not None
            centre = ((face.box.left + face.box.right) / 2 / photo.width,
                      (face.box.top + face.box.bottom) / 2 / photo.height)
            out.setdefault(concept.name, []).append((round(centre[0], 2), round(centre[1], 2)))
    return out


def _centre(box: tuple[float, float, float, float]) -> tuple[float, float]:
    return (round((box[0] + box[2]) / 2, 2), round((box[1] + box[3]) / 2, 2))


@pytest.mark.parametrize("where", ["embedded", "photo.jpg.xmp", "photo.xmp"])
@pytest.mark.parametrize("schema", ["mwg-digikam", "mwg-lightroom", "microsoft"])
def test_tagged_faces_become_named_people_once(store: Store, tmp_path: Path, where: str, schema: str) -> None:
    regions = [("Anna Virtanen", LEFT), ("Ben", RIGHT)]
    body = {"mwg-digikam": lambda: _mwg_attributes(regions, (400, 300)),
            "mwg-lightroom": lambda: _mwg_elements(regions), "microsoft": lambda: _microsoft(regions)}[schema]()
    folder = tmp_path / "photos"
    photo = jpeg(folder / "photo.jpg", xmp=body if where == "embedded" else None)
    if where != "embedded":
        (folder / where).write_text(_packet(body))
    summary = _index(store, folder, FixedFaces([LEFT, RIGHT]))
    assert summary.tagged == 2 and summary.tag_problems == []
    assert _named(store) == {"Anna Virtanen": [_centre(LEFT)], "Ben": [_centre(RIGHT)]}
    anna = store.concepts.by_name("Anna Virtanen")
    assert anna is not None and anna.category == "person"
    assert [o.photo_id for o in store.observations.timeline(anna.id)] == [store.photos.by_path(str(photo)).id]
    assert len(store.concepts.refs(anna.id)) == 1

    os.utime(photo, (1_600_000_000, 1_600_000_000))      # touched: indexed again, imported once
    _index(store, folder, FixedFaces([LEFT, RIGHT]))
    assert store.concepts.count() == 2 and len(store.concepts.refs(anna.id)) == 1
    assert _named(store) == {"Anna Virtanen": [_centre(LEFT)], "Ben": [_centre(RIGHT)]}


@pytest.mark.parametrize("orientation", [6, 8, 3])
def test_a_turned_photo_puts_each_name_on_the_right_face(store: Store, tmp_path: Path, orientation: int) -> None:
    """Regions refer to the stored image; the faces are found on the upright one."""
    stored_left = {6: (0.2, 0.1, 0.5, 0.3), 8: (0.5, 0.7, 0.8, 0.9), 3: (0.7, 0.5, 0.9, 0.8)}[orientation]
    upright = xmp_faces.turn_box(stored_left, orientation)
    assert upright is not None
    other = (0.6, 0.6, 0.8, 0.8) if upright[0] < 0.5 else (0.1, 0.1, 0.3, 0.3)
    folder = tmp_path / "photos"
    jpeg(folder / "turned.jpg", orientation=orientation,
         xmp=_mwg_attributes([("Anna", stored_left)], (400, 300)))
    _index(store, folder, FixedFaces([other, upright]))
    assert _named(store) == {"Anna": [_centre(upright)]}


def test_regions_drawn_on_the_upright_photo_are_not_turned_twice() -> None:
    """AppliedToDimensions with the upright width and height: the app already turned the boxes."""
    packet = _packet(_mwg_attributes([("Anna", LEFT)], (300, 400))).encode()
    tags = xmp_faces.parse(packet, orientation=6, size=(400, 300))
    assert tags[0].box == pytest.approx(LEFT)
    turned = xmp_faces.parse(_packet(_mwg_attributes([("Anna", LEFT)], (400, 300))).encode(), orientation=6,
                             size=(400, 300))
    assert turned[0].box != pytest.approx(LEFT)


def test_a_tag_with_no_detected_face_still_puts_the_person_in_the_photo(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    photo = jpeg(folder / "p.jpg", xmp=_mwg_attributes([("Anna", LEFT), ("Carl", (0.4, 0.7, 0.5, 0.9))], (400, 300)))
    _index(store, folder, FixedFaces([LEFT]))
    carl = store.concepts.by_name("Carl")
    assert carl is not None and store.faces.of_concept(carl.id) == []
    seen = store.observations.timeline(carl.id)
    assert [(o.photo_id, o.source) for o in seen] == [(store.photos.by_path(str(photo)).id, "user")]


@pytest.mark.parametrize("bad", [
    "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF><unclosed></x:xmpmeta>",
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">&b;</x:xmpmeta>',
    "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>",
])
def test_malformed_xmp_is_skipped_with_a_reason_and_the_photo_is_indexed(store: Store, tmp_path: Path,
                                                                        bad: str) -> None:
    folder = tmp_path / "photos"
    jpeg(folder / "p.jpg")
    (folder / "p.jpg.xmp").write_text(bad)
    jpeg(folder / "q.jpg", xmp=_mwg_attributes([("Anna", LEFT)], (400, 300)), seed=2)
    summary = _index(store, folder, FixedFaces([LEFT]))
    assert summary.new == 2 and summary.skipped == []
    assert [Path(p).name for p, _ in summary.tag_problems] == ["p.jpg"]
    assert "p.jpg.xmp" in summary.tag_problems[0][1]
    assert _named(store) == {"Anna": [_centre(LEFT)]}


def test_the_users_own_naming_wins_over_an_imported_tag(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    photo = jpeg(folder / "p.jpg")
    _index(store, folder, FixedFaces([LEFT]))
    face = store.faces.for_photo(store.photos.by_path(str(photo)).id)[0]
    ben = store.concepts.add("Ben", "person")
    store.faces.set_cluster([face.id], store.faces.new_cluster(ben.id), "user")
    tag = xmp_faces.FaceTag("Anna", LEFT, "mwg", "embedded")
    report = face_tags.apply(store, face.photo_id, (400, 300), [(face.id, face.box)], [tag])
    assert report.named_faces == []
    assert store.faces.get(face.id).concept_id == ben.id


def _takeout(folder: Path, name: str, people: list[str], *, seed: int, json_name: str | None = None) -> Path:
    photo = jpeg(folder / name, seed=seed)
    sidecar = {"title": name, "photoTakenTime": {"timestamp": "1625400000"},
               "people": [{"name": p} for p in people]}
    (folder / (json_name or f"{name}.supplemental-metadata.json")).write_text(json.dumps(sidecar))
    return photo


def test_takeout_people_name_a_lone_face_and_suggest_otherwise(store: Store, tmp_path: Path) -> None:
    takeout = tmp_path / "Takeout" / "Google Photos"
    year = takeout / "Photos from 2021"
    long_name = "PXL_20210704_120000123.PORTRAIT.ORIGINAL.jpg"     # its sidecar's name is cut to 46 characters
    _takeout(year, long_name, ["Anna"], seed=1, json_name=f"{long_name}.supplemental-metad.json"[:46] + ".json")
    _takeout(year, "group.jpg", ["Anna", "Ben"], seed=2)
    album = takeout / "Summer"
    album.mkdir(parents=True)
    shutil.copy2(year / "group.jpg", album / "group.jpg")         # an album copy: the same photo
    shutil.copy2(year / "group.jpg.supplemental-metadata.json", album / "group.jpg.supplemental-metadata.json")

    lone = _index(store, year / long_name, FixedFaces([LEFT]))
    assert lone.tagged == 1 and _named(store) == {"Anna": [_centre(LEFT)]}
    summary = _index(store, takeout, FixedFaces([LEFT, RIGHT]))
    assert summary.new == 1 and summary.copies == 1                 # the album copy counted once
    group = store.photos.by_path(str(year / "group.jpg"))
    assert group is not None
    open_suggestions = {(s.face_id, s.concept_id) for s in store.faces.suggestions()}
    group_faces = [f.id for f in store.faces.for_photo(group.id)]
    names = {c.id: c.name for c in store.concepts.list()}
    assert {(f, names[c]) for f, c in open_suggestions} == {(f, n) for f in group_faces for n in ("Anna", "Ben")}
    assert _named(store) == {"Anna": [_centre(LEFT)]}                # a hint names no face of a group photo

    _index(store, takeout, FixedFaces([LEFT, RIGHT]))                  # again: nothing twice
    assert store.concepts.count() == 2 and len(store.faces.suggestions()) == 4


def _zip(target: Path, files: dict[str, bytes]) -> Path:
    import zipfile

    with zipfile.ZipFile(target, "w") as handle:
        for name, data in files.items():
            handle.writestr(name, data)
    return target


def test_a_takeout_zip_is_unpacked_safely_and_indexed_once(tmp_path: Path) -> None:
    """Google splits an export in parts; a photo's JSON may be in the other part."""
    from companion.app import library
    from companion.app.services import Services

    source = tmp_path / "src"
    photo = jpeg(source / "IMG_0001.jpg", seed=4).read_bytes()
    sidecar = json.dumps({"title": "IMG_0001.jpg", "photoTakenTime": {"timestamp": "1625400000"},
                          "people": [{"name": "Anna"}]}).encode()
    base = "Takeout/Google Photos/Photos from 2021/"
    part1 = _zip(tmp_path / "takeout-20240101-001.zip", {base + "IMG_0001.jpg": photo})
    part2 = _zip(tmp_path / "takeout-20240101-002.zip", {base + "IMG_0001.jpg.supplemental-metadata.json": sidecar,
                                                         "Takeout/Google Photos/Summer/IMG_0001.jpg": photo})
    services = Services.open(tmp_path / "home")
    services.__dict__["face_backend"] = FixedFaces([LEFT])
    try:
        first = [e for e in library.index(services, [part2]) if isinstance(e, IndexSummary)]
        assert first[0].new == 1 and first[0].tagged == 0          # the album copy first: no sidecar beside it
        summaries = [e for e in library.index(services, [part1]) if isinstance(e, IndexSummary)]
        assert summaries[0].copies == 1 and summaries[0].tagged == 1   # the original is the same photo, with a name
        unpacked = services.paths.imports_dir / "takeout" / "Takeout" / "Google Photos"
        assert (unpacked / "Photos from 2021" / "IMG_0001.jpg").read_bytes() == photo
        assert services.store.photos.count() == 1
        assert _named(services.store) == {"Anna": [_centre(LEFT)]}          # the sidecar's name on the lone face
        again = [e for e in library.index(services, [part1, part2]) if isinstance(e, IndexSummary)]
        assert again[0].new == 0 and services.store.concepts.count() == 1     # twice imports it once
    finally:
        services.__dict__.pop("face_backend")
        services.close()


@pytest.mark.parametrize("case, message", [("truncated", "cut short"), ("zip-slip", "outside its folder"),
                                           ("absolute", "outside its folder"), ("damaged", "damaged")])
def test_a_bad_zip_imports_nothing_and_says_why(tmp_path: Path, case: str, message: str) -> None:
    from companion.core.errors import InvalidInputError
    from companion.core.library import archives

    good = jpeg(tmp_path / "src" / "a.jpg").read_bytes()
    files = {"Takeout/Google Photos/a.jpg": good, "Takeout/Google Photos/b.jpg": good + b"x"}
    if case == "zip-slip":
        files["Takeout/../../evil.jpg"] = good
    if case == "absolute":
        files["/tmp/evil.jpg"] = good
    archive = _zip(tmp_path / "takeout.zip", files)
    data = archive.read_bytes()
    if case == "truncated":
        archive.write_bytes(data[: len(data) // 2])
    if case == "damaged":         # a flipped byte inside the last member's data: its CRC no longer matches
        at = data.rfind(good[-200:]) + 100
        archive.write_bytes(data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:])
    imports = tmp_path / "imports"
    with pytest.raises(InvalidInputError, match=message):
        archives.unpack(archive, imports)
    left = [p for p in imports.rglob("*") if p.is_file()] if imports.exists() else []
    assert left == [] and not (tmp_path / "evil.jpg").exists()


@pytest.mark.parametrize("orientation", [1, 6])
def test_names_written_back_as_sidecars_round_trip_and_never_touch_the_photo(tmp_path: Path,
                                                                             orientation: int) -> None:
    from companion.app import xmp_sidecars
    from companion.app.services import Services

    folder = tmp_path / "photos"
    photo = jpeg(folder / "p.jpg", orientation=orientation, xmp=_mwg_attributes([("Anna", LEFT)], (400, 300))
                 if orientation == 1 else None)
    other = jpeg(folder / "q.jpg", seed=3)
    (folder / "q.jpg.xmp").write_text(_packet('<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
                                              'xmp:Rating="5"/>'))
    original, other_sidecar = photo.read_bytes(), (folder / "q.jpg.xmp").read_bytes()
    services = Services.open(tmp_path / "home")
    services.__dict__["face_backend"] = FixedFaces([LEFT, RIGHT])
    try:
        from companion.app import library
        for _ in library.index(services, [folder]):
            pass
        store = services.store
        for path, name in ((photo, "Ben"), (other, "Carl")):
            faces = store.faces.for_photo(store.photos.by_path(str(path)).id)
            right = max(faces, key=lambda f: f.box.left)
            concept = store.concepts.by_name(name) or store.concepts.add(name, "person")
            store.faces.set_cluster([right.id], store.faces.new_cluster(concept.id), "user")
        named_before = _named(store)
        report = xmp_sidecars.write_xmp(services)
        assert (report.written, report.kept) == (1, (str(other),))
        assert photo.read_bytes() == original and (folder / "q.jpg.xmp").read_bytes() == other_sidecar
        assert xmp_sidecars.write_xmp(services).unchanged == 1                 # twice writes once
    finally:
        services.__dict__.pop("face_backend")
        services.close()
    # Another profile reads the sidecar back: the same names on the same faces.
    fresh = Store.open(tmp_path / "fresh.db")
    try:
        (folder / "q.jpg.xmp").unlink()
        _index(fresh, folder, FixedFaces([LEFT, RIGHT]))
        expected = {n: c for n, c in named_before.items() if n != "Carl"}
        assert _named(fresh) == expected
    finally:
        fresh.close()
