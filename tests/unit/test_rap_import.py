"""RAP concept databases: cards with resolved names and mapped categories, keys made as usual, imported once.

The database is written in RAP's own format (``concept_dict`` + ``path_to_concept``, image paths
relative to the folder above it, as RAP's example database has them) with generated images, one of
them missing. The face and image models are small doubles: what is checked is what becomes a card.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from companion.app import concepts
from companion.app.services import Services
from companion.core.errors import InvalidInputError
from companion.core.library.rap_import import map_category, read_database
from companion.core.types import Box, DecodedPhoto, DetectedFace


class Reader:
    def read(self, path: Path) -> DecodedPhoto:
        return DecodedPhoto(pixels=np.zeros((40, 40, 3), np.uint8), width=40, height=40, scale=1.0,
                            taken_at=None, taken_at_source="file")


class Faces:
    """One face in every photo."""

    name, dim = "fixed", 128

    def detect(self, pixels: np.ndarray) -> list[DetectedFace]:
        vector = np.zeros(128, np.float32)
        vector[0] = 1.0
        return [DetectedFace(Box(5, 5, 30, 30), vector)]


class Embedder:
    name, dim = "fixed", 512

    def embed_images(self, images: list[np.ndarray]) -> np.ndarray:
        vectors = np.zeros((len(images), 512), np.float32)
        vectors[:, 1] = 1.0
        return vectors


def database(root: Path, concepts_json: dict[str, Any] | None = None) -> Path:
    """RAP's layout: ``<root>/my_db/database.json`` naming ``my_db/<name>.png``; ``ghost.png`` is missing."""
    folder = root / "my_db"
    folder.mkdir(parents=True, exist_ok=True)
    for index, name in enumerate(("anna", "rex", "rex-2", "dug")):
        Image.new("RGB", (40, 40), (60 * index, 100, 200 - 40 * index)).save(folder / f"{name}.png")
    data = concepts_json or {
        "concept_dict": {
            "<anna>": {"name": "Anna", "image": "my_db/anna.png", "category": "woman",
                       "info": "<anna> is <rex>'s owner, with short dark hair."},
            "<rex>": {"name": "Rex", "image": ["my_db/rex.png", "my_db/ghost.png"], "category": "dog",
                      "info": "<rex> is a brown dachshund who loves <anna>."},
            "<dug>": {"name": "dug", "image": "my_db/dug.png", "category": "cartoon character",
                      "info": "<dug> is a golden retriever from the movie Up."},
        },
        "path_to_concept": {"my_db/anna.png": "<anna>", "my_db/rex.png": "<rex>", "my_db/rex-2.png": "<rex>",
                            "my_db/ghost.png": "<rex>", "my_db/dug.png": "<dug>"},
    }
    path = folder / "database.json"
    path.write_text(json.dumps(data, indent=2))
    return path


@pytest.fixture()
def services(tmp_path: Path) -> Services:
    services = Services.open(tmp_path / "home")
    services.__dict__.update(photo_reader=Reader(), face_backend=Faces(), image_embedder=Embedder())
    return services


def cards(services: Services) -> dict[str, tuple[str, str, int]]:
    return {c.name: (c.category, c.info, len(concepts.keys(services, c.id))) for c in concepts.list_concepts(services)}


def test_a_rap_database_becomes_cards_with_names_categories_and_keys_once(services: Services, tmp_path: Path) -> None:
    path = database(tmp_path)
    report = concepts.import_rap(services, path)
    assert cards(services) == {
        "Anna": ("person", "Anna is Rex's owner, with short dark hair.", 1),
        "Rex": ("pet", "Rex is a brown dachshund who loves Anna.", 2),         # its image and path_to_concept's
        "dug": ("object", "dug is a golden retriever from the movie Up.", 1),
    }
    assert [(line.name, line.action) for line in report.lines] == [("Anna", "added"), ("Rex", "added"),
                                                                  ("dug", "added")]
    text = [t for line in report.lines for t in concepts.describe_rap_line(line)]
    assert "  Rex: image not found, skipped: my_db/ghost.png" in text
    assert any(t.startswith("  dug: 'cartoon character' is not a category Companion knows; kept as an object")
               for t in text)
    assert not any("Anna:" in t or "Rex: 'dog'" in t for t in text)         # mapped by the rule: no report line
    keys = {r.kind for c in concepts.list_concepts(services) for r in concepts.keys(services, c.id)
            if c.name == "Anna"}
    assert keys == {"face"}                                                   # a person's key is the face
    copies = sorted(p.name for p in services.paths.concept_images_dir.iterdir())
    before = cards(services)
    again = concepts.import_rap(services, path)
    assert [line.action for line in again.lines] == ["unchanged"] * 3
    assert cards(services) == before
    assert sorted(p.name for p in services.paths.concept_images_dir.iterdir()) == copies


def test_a_changed_database_updates_the_cards_it_names(services: Services, tmp_path: Path) -> None:
    path = database(tmp_path)
    concepts.import_rap(services, path)
    data = json.loads(path.read_text())
    data["concept_dict"]["<rex>"]["info"] = "<rex> is getting old."
    data["concept_dict"]["<dug>"]["category"] = "dog"
    path.write_text(json.dumps(data))
    report = concepts.import_rap(services, path)
    assert [(line.name, line.action) for line in report.lines] == [("Anna", "unchanged"), ("Rex", "updated"),
                                                                  ("dug", "updated")]
    assert cards(services)["Rex"] == ("pet", "Rex is getting old.", 2)
    assert cards(services)["dug"] == ("pet", "dug is a golden retriever from the movie Up.", 1)


def test_a_concept_whose_photo_cannot_be_a_key_is_skipped_whole(services: Services, tmp_path: Path) -> None:
    class NoFaces(Faces):
        def detect(self, pixels: np.ndarray) -> list[DetectedFace]:
            return []

    services.__dict__["face_backend"] = NoFaces()
    report = concepts.import_rap(services, database(tmp_path))
    anna = report.lines[0]
    assert (anna.name, anna.action) == ("Anna", "skipped") and "no face found in anna.png" in anna.reason
    assert set(cards(services)) == {"Rex", "dug"}                             # no card without its key
    copies = {p.name for p in services.paths.concept_images_dir.iterdir()}
    assert len(copies) == 3                                                   # Rex's two and dug's: no stray copy


def test_the_category_rule() -> None:
    assert [map_category(c) for c in ("person", "woman", "dog", "Plush Toy", "cup", "building", "cats",
                                      "cartoon character", "")] == [
        ("person", False), ("person", False), ("pet", False), ("object", False), ("object", False),
        ("place", False), ("pet", False), ("object", True), ("object", True)]


@pytest.mark.parametrize("content, message", [
    ("{", r"not valid JSON"),
    (json.dumps({"concepts": []}), r"not a RAP concept database: it has no concept_dict"),
    (json.dumps({"concept_dict": {}}), r"holds no concepts"),
    (json.dumps({"concept_dict": {"<a>": {"name": "A"}, "<b>": {"name": "a"}}}), r"two concepts are named 'a'"),
])
def test_a_file_that_is_not_a_rap_database_is_refused_and_nothing_is_added(services: Services, tmp_path: Path,
                                                                           content: str, message: str) -> None:
    path = tmp_path / "database.json"
    path.write_text(content)
    with pytest.raises(InvalidInputError, match=message):
        concepts.import_rap(services, path)
    assert concepts.list_concepts(services) == []


def test_images_are_found_beside_the_database_too(tmp_path: Path) -> None:
    path = database(tmp_path)
    data = json.loads(path.read_text())
    data["concept_dict"]["<anna>"]["image"] = "elsewhere/anna.png"        # moved: found by its name beside it
    path.write_text(json.dumps(data))
    (anna, rex, _dug) = read_database(path)
    assert anna.images == ((path.parent / "anna.png").resolve(),) and anna.missing == ()
    assert rex.missing == ("my_db/ghost.png",) and len(rex.images) == 2
