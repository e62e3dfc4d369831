"""The photo library end to end with the real backends: Pillow, dlib faces, CLIP ONNX, offline geocoder.

Real faces: skimage's astronaut (Eileen Collins) and matplotlib's Grace Hopper,
plus flipped/cropped/rescaled copies as "new photos". Generated photos carry
EXIF time and GPS written with Pillow.

Thresholds: dlib puts these two different women at cosine distance 0.11-0.13
(its published euclidean 0.6 rule is cosine 0.18 and would call them one
person), while copies of one photo are within 0.012. The tests set the
distances to 0.06, between the two, so they check the grouping and matching
logic rather than dlib's accuracy on this pair.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from conftest_perception import REPO, astronaut_pixels, grace_hopper_pixels

from companion.app import concepts, library
from companion.app.services import Services
from companion.cli import main
from companion.core.library.indexing import IndexSummary

pytestmark = pytest.mark.models
SAME_PERSON = 0.06
PARIS = (48.8566, 2.3522)
TOKYO = (35.6895, 139.6917)


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees, rest = int(value), (abs(value) - int(value)) * 60
    return float(degrees), float(int(rest)), round((rest - int(rest)) * 60, 4)


def save_photo(path: Path, pixels: np.ndarray, when: datetime | None = None,
               gps: tuple[float, float] | None = None, size: tuple[int, int] | None = None) -> Path:
    """A JPEG with optional EXIF DateTimeOriginal/OffsetTimeOriginal and GPS."""
    from PIL import Image

    image = Image.fromarray(np.ascontiguousarray(pixels))
    if size is not None:
        image = image.resize(size, Image.Resampling.BICUBIC)
    exif = Image.Exif()
    if when is not None:
        sub = exif.get_ifd(0x8769)
        sub[0x9003] = when.strftime("%Y:%m:%d %H:%M:%S")
        offset = when.utcoffset() or timedelta(0)
        minutes = int(offset.total_seconds() // 60)
        sub[0x9011] = f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02}:{abs(minutes) % 60:02}"
    if gps is not None:
        info = exif.get_ifd(0x8825)
        info[1], info[2] = ("N" if gps[0] >= 0 else "S"), _dms(gps[0])
        info[3], info[4] = ("E" if gps[1] >= 0 else "W"), _dms(gps[1])
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, quality=92, exif=exif)
    return path


def variants(pixels: np.ndarray) -> list[np.ndarray]:
    """Other 'photos' of the same face: flipped, cropped, padded."""
    h, w = pixels.shape[:2]
    padded = np.pad(pixels, ((40, 40), (60, 60), (0, 0)), mode="edge")
    return [pixels, pixels[:, ::-1], pixels[h // 20:, w // 16: w - w // 16], padded]


def open_services(models_env: Path) -> Services:
    services = Services.open()
    services.settings.face_match_distance = SAME_PERSON
    services.settings.face_cluster_distance = SAME_PERSON
    services.settings.face_min_cluster_size = 3
    return services


@pytest.fixture()
def services(models_env: Path) -> Services:
    s = open_services(models_env)
    yield s
    s.close()


def run_index(services: Services, *targets: Path) -> IndexSummary:
    items = list(library.index(services, list(targets)))
    assert isinstance(items[-1], IndexSummary)
    return items[-1]


def test_same_person_is_grouped_named_and_recognised_in_new_photos(services: Services, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    start = datetime(2024, 5, 1, 10, 0, tzinfo=timezone(timedelta(hours=2)))
    for i, pixels in enumerate(variants(astronaut_pixels())):
        save_photo(lib / f"eileen-{i}.jpg", pixels, start + timedelta(days=i), PARIS)
    for i, pixels in enumerate(variants(grace_hopper_pixels())):
        save_photo(lib / f"grace-{i}.jpg", pixels, start + timedelta(days=10 + i), TOKYO)
    summary = run_index(services, lib)
    assert (summary.new, summary.faces, summary.skipped) == (8, 8, [])
    groups = library.face_groups(services)
    assert sorted(g.size for g in groups) == [4, 4]
    members = {g.id: {Path(services.store.photos.get(f.photo_id).path).name.split("-")[0]
                      for f in services.store.faces.in_cluster(g.id)} for g in groups}
    assert sorted(map(sorted, members.values())) == [["eileen"], ["grace"]]   # never mixed
    eileen_group = next(g for g, who in members.items() if who == {"eileen"})
    eileen = library.name_face_group(services, eileen_group, "Eileen")
    timeline = services.store.observations.timeline(eileen.id)
    assert len(timeline) == 4 and timeline[0].time == start + timedelta(days=3)
    assert timeline[0].place == "Paris, Île-de-France, France"

    # New photos: a rescaled Eileen and a rescaled Grace, on later dates.
    new = tmp_path / "new"
    save_photo(new / "trip.jpg", astronaut_pixels(), start + timedelta(days=30), TOKYO, size=(800, 800))
    save_photo(new / "office.jpg", grace_hopper_pixels(), start + timedelta(days=31), PARIS, size=(400, 469))
    run_index(services, new)
    trip = services.store.photos.by_path(str(new / "trip.jpg"))
    office = services.store.photos.by_path(str(new / "office.jpg"))
    assert [(o.concept_id, o.source) for o in services.store.observations.for_photo(trip.id)] == [(eileen.id, "face")]
    assert services.store.observations.for_photo(office.id) == []
    latest = services.store.observations.latest(eileen.id, "sighting")
    assert latest.photo_id == trip.id and latest.place.endswith("Tokyo, Japan")

    # A concept added from a reference photo re-matches the stored faces without re-indexing.
    reference = save_photo(tmp_path / "ref" / "grace.jpg", grace_hopper_pixels()[20:, 10:])
    grace = concepts.add_concept(services, "Grace", "person", images=[reference])
    grace_photos = {Path(services.store.photos.get(o.photo_id).path).name
                    for o in services.store.observations.timeline(grace.id)}
    assert grace_photos == {"grace-0.jpg", "grace-1.jpg", "grace-2.jpg", "grace-3.jpg", "office.jpg"}
    (ref,) = services.store.concepts.refs(grace.id)
    assert Path(ref.image_path).parent == services.paths.concept_images_dir and Path(ref.image_path).is_file()


def test_reference_photo_with_two_faces_asks_for_a_box(services: Services, tmp_path: Path) -> None:
    pair = np.concatenate([astronaut_pixels(), grace_hopper_pixels()[:512]], axis=1)
    path = save_photo(tmp_path / "pair.jpg", pair)
    with pytest.raises(Exception, match=r"the photo has 2 faces; pick one with --box LEFT TOP RIGHT BOTTOM"):
        concepts.add_concept(services, "Someone", "person", images=[path])
    assert services.store.concepts.by_name("Someone") is None   # no half-made card
    concept = concepts.add_concept(services, "Grace", "person", images=[path], box=[600, 100, 950, 400])
    (ref,) = services.store.concepts.refs(concept.id)
    assert ref.box is not None and ref.box.left > 512   # the face on the right


def test_timeline_time_and_places_from_exif(services: Services, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    when = datetime(2023, 7, 14, 21, 30, tzinfo=timezone(timedelta(hours=2)))
    flat = np.full((300, 400, 3), 120, dtype=np.uint8)
    save_photo(lib / "paris.jpg", flat, when, PARIS)
    save_photo(lib / "tokyo.jpg", flat + 10, when + timedelta(days=2), TOKYO)
    save_photo(lib / "noexif.jpg", flat + 20)
    run_index(services, lib)
    paris = services.store.photos.by_path(str(lib / "paris.jpg"))
    assert paris.taken_at == when and paris.taken_at_source == "exif" and paris.place.city == "Paris"
    assert abs(paris.latitude - PARIS[0]) < 1e-4 and abs(paris.longitude - PARIS[1]) < 1e-4
    assert services.store.photos.by_path(str(lib / "tokyo.jpg")).place.country == "Japan"
    noexif = services.store.photos.by_path(str(lib / "noexif.jpg"))
    assert noexif.taken_at_source == "file" and noexif.place is None
    assert abs(noexif.taken_at.timestamp() - (lib / "noexif.jpg").stat().st_mtime) < 1
    assert [p.path for p in services.store.photos.list(place="Paris")] == [paris.path]
    assert paris.thumbnail and Path(paris.thumbnail).is_file()


def test_bad_files_are_skipped_with_reasons(services: Services, tmp_path: Path) -> None:
    from PIL import Image

    lib = tmp_path / "lib"
    good = save_photo(lib / "good.jpg", astronaut_pixels())
    data = good.read_bytes()
    (lib / "truncated.jpg").write_bytes(data[: len(data) // 3])
    (lib / "garbage.jpg").write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(2000))
    (lib / "empty.png").write_bytes(b"")
    (lib / "letter.jpg").write_text("Dear diary, this is not a photo.")
    Image.new("1", (12000, 9000)).save(lib / "bomb.png")   # 108 MP: over the reader's limit
    summary = run_index(services, lib)
    reasons = dict(summary.skipped)
    bad = ("truncated.jpg", "garbage.jpg", "empty.png", "letter.jpg", "bomb.png")
    assert summary.new == 1 and set(reasons) == {str(lib / n) for n in bad}
    assert reasons[str(lib / "empty.png")] == "empty file"
    assert "not a recognised image" in reasons[str(lib / "letter.jpg")]
    assert "too large" in reasons[str(lib / "bomb.png")]
    assert "corrupt" in reasons[str(lib / "garbage.jpg")] or "not a recognised" in reasons[str(lib / "garbage.jpg")]
    assert "corrupt or truncated" in reasons[str(lib / "truncated.jpg")]
    assert dict(services.store.photos.errors()) == reasons


def test_cli_index_search_faces_and_folders(models_env: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    lib = tmp_path / "lib"
    for i, pixels in enumerate(variants(astronaut_pixels())[:3]):
        save_photo(lib / f"a{i}.jpg", pixels)
    (lib / "broken.jpg").write_text("nope")
    assert main(["index", str(lib), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["new"], summary["faces"], len(summary["skipped"])) == (3, 3, 1)
    assert main(["index", str(lib)]) == 0
    out = capsys.readouterr().out
    assert "0 new, 0 changed, 3 unchanged, 0 moved, 0 removed, 1 skipped" in out and "broken.jpg" in out
    assert main(["search", "an astronaut in a white suit", "--limit", "2", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 2 and hits[0]["distance"] <= hits[1]["distance"]
    assert main(["faces", "list", "--json"]) == 0
    groups = json.loads(capsys.readouterr().out)   # default distance 0.5 and 3 faces: one group
    assert [g["size"] for g in groups] == [3]
    assert main(["faces", "name", str(groups[0]["id"]), "Eileen"]) == 0
    assert "seen in 3 photos" in capsys.readouterr().out
    assert main(["folders", "add", str(lib)]) == 0
    assert capsys.readouterr().out.strip() == str(lib)
    assert main(["folders", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [str(lib)]
    assert main(["folders", "remove", str(lib)]) == 0
    capsys.readouterr()
    assert main(["folders", "remove", str(lib)]) == 1
    assert "not a watched folder" in capsys.readouterr().err


def test_killed_indexing_resumes_without_duplicates_or_losses(models_env: Path, tmp_path: Path,
                                                             companion_home: Path) -> None:
    lib = tmp_path / "lib"
    faces_expected = {}
    for i in range(24):
        pixels = variants(astronaut_pixels())[i % 4] if i % 2 else np.full((480, 640, 3), i * 9, np.uint8)
        save_photo(lib / f"{i:02}.jpg", pixels, datetime(2024, 1, 1 + i, tzinfo=timezone.utc))
        faces_expected[str(lib / f"{i:02}.jpg")] = 1 if i % 2 else 0
    env = {**os.environ, "COMPANION_HOME": str(companion_home), "COMPANION_MODELS_DIR": str(models_env)}
    process = subprocess.Popen([sys.executable, "-m", "companion", "index", str(lib)], env=env, cwd=REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    import sqlean

    deadline, seen = time.monotonic() + 120, 0
    db = companion_home / "data" / "companion.db"
    while time.monotonic() < deadline and process.poll() is None:
        # Read-only peeks: opening a Store here would race the child's schema migration.
        try:
            conn = sqlean.connect(f"file:{db}?mode=ro", uri=True)
            try:
                seen = conn.execute("SELECT count(*) FROM photos WHERE status = 'ok'").fetchone()[0]
            finally:
                conn.close()
        except sqlean.Error:
            seen = 0
        if seen >= 4:
            break
        time.sleep(0.05)
    assert process.poll() is None, process.stderr.read().decode()
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert 4 <= seen < 24
    services = open_services(models_env)
    try:
        partial = services.store.photos.count()
        assert partial < 24
        summary = run_index(services, lib)
        assert summary.new == 24 - partial and summary.unchanged == partial and summary.skipped == []
        photos = services.store.photos.list(limit=100)
        assert sorted(p.path for p in photos) == sorted(faces_expected)   # each once, none lost
        for p in photos:
            assert len(services.store.faces.for_photo(p.id)) == faces_expected[p.path], p.path
            assert services.store.photos.embedding(p.id) is not None
    finally:
        services.close()
