"""Perceiving the question photo with the real dlib face model on real photos."""

from __future__ import annotations

import pytest

from companion.core.answer.perceive import named_in_text, perceive
from tests.unit._personal import deps

pytestmark = pytest.mark.models


@pytest.fixture()
def photos(tmp_path):  # type: ignore[no-untyped-def]
    from evaluation.faces import sample_faces

    return sample_faces(tmp_path / "photos")


def _with_backends(tmp_path):  # type: ignore[no-untyped-def]
    from companion.app.services import Services

    services = Services.open(tmp_path / "home")
    d = deps(tmp_path)
    d.photo_reader, d.face_backend = services.photo_reader, services.face_backend
    return d


def _key(d, concept_id: int, path) -> None:  # type: ignore[no-untyped-def]
    photo = d.photo_reader.read(path)
    face = max(d.face_backend.detect(photo.pixels), key=lambda f: f.box.area)
    d.store.concepts.add_ref(concept_id, "face", face.embedding)


def test_known_face_is_recognized_and_a_stranger_is_not_named(tmp_path, photos) -> None:
    d = _with_backends(tmp_path)
    d.settings.face_match_distance = 0.06
    grace = d.store.concepts.add("Grace", "person")
    _key(d, grace.id, photos["Grace"][0])
    seen = perceive(d, photos["Grace"][1])
    assert [(r.name, r.source) for r in seen.recognized] == [("Grace", "face")]
    assert seen.recognized[0].confidence > 0.9 and seen.unknown_faces == 0
    stranger = perceive(d, photos["Eileen"][1])
    assert stranger.recognized == [] and stranger.unknown_faces >= 1
    # Where each face is, in full-size pixels, so the window can draw boxes and names on the photo.
    from PIL import Image

    for path, boxes in ((photos["Grace"][1], [seen.recognized[0].box]), (photos["Eileen"][1], stranger.unknown_boxes)):
        width, height = Image.open(path).size
        assert len(boxes) >= 1 and all(b is not None and 0 <= b.left < b.right <= width + 1
                                       and 0 <= b.top < b.bottom <= height + 1 and b.area > 900 for b in boxes)


def test_no_image_and_names_in_text(tmp_path) -> None:
    d = deps(tmp_path)
    anna = d.store.concepts.add("Anna", "person")
    assert perceive(d, None).recognized == []
    assert [r.concept_id for r in named_in_text(d, "Is that Anna's dog?", [])] == [anna.id]


def test_photo_with_several_people_recognizes_each_once(tmp_path, photos) -> None:
    from PIL import Image

    d = _with_backends(tmp_path)
    d.settings.face_match_distance = 0.06
    for name in ("Grace", "Eileen"):
        _key(d, d.store.concepts.add(name, "person").id, photos[name][0])
    left, right = (Image.open(photos[n][1]).convert("RGB") for n in ("Grace", "Eileen"))
    height = 400
    left, right = (im.resize((im.width * height // im.height, height)) for im in (left, right))
    group = Image.new("RGB", (left.width + right.width, height))
    group.paste(left, (0, 0))
    group.paste(right, (left.width, 0))
    group.save(tmp_path / "group.jpg")
    seen = perceive(d, tmp_path / "group.jpg")
    assert sorted(r.name for r in seen.recognized) == ["Eileen", "Grace"]
