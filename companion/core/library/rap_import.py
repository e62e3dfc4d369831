"""Reading a RAP concept database (``database.json``, RAP-MLLM's format) into Companion's concept cards.

RAP keeps one JSON file: ``{"concept_dict": {"<bo>": {"name": "bo", "image": "example_database/bo.png"
(or a list), "info": "<bo> is a Shiba Inu ...", "category": "dog"}}, "path_to_concept":
{"example_database/bo.png": "<bo>"}}``. Image paths are relative to where RAP ran, usually the
folder above the database's own; each is looked for beside ``database.json``, then above it, then
by its file name beside it. ``path_to_concept`` may name more images of a concept.

What becomes of it (:func:`read_database`, pure: nothing is stored here; ``app/concepts.import_rap``
stores the cards through the same use case as ``concepts add``):

- the card's name is RAP's ``name`` (the token without brackets when there is none);
- ``<token>``s in the info are replaced by the names they stand for ("<bo> is a ..." -> "bo is a ...");
- RAP's free-text category maps to Companion's four by :func:`map_category`: the whole category or
  its last word found in :data:`PERSON`, :data:`PET`, :data:`PLACE` or :data:`OBJECT`, in that order
  ("plush toy" -> toy -> object, "dog" -> pet, "building" -> place); a category in none of them becomes
  an object, and the import reports it ("dug: 'cartoon character' is not a category Companion knows;
  kept as an object: change it with concepts edit");
- images the database names that are not on disk are reported and skipped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from companion.core.errors import InvalidInputError
from companion.core.types import CATEGORIES

MAX_BYTES = 50_000_000          # a concept database is a few KB a concept; anything far larger is not one
TOKEN = re.compile(r"<([^<>\s][^<>]{0,99})>")

PERSON = frozenset({"person", "people", "man", "woman", "boy", "girl", "child", "kid", "baby", "toddler", "teenager",
                    "human", "adult", "lady", "gentleman", "friend", "family", "face", "mother", "father", "mom",
                    "dad", "grandmother", "grandfather", "sister", "brother", "son", "daughter", "wife", "husband"})
PET = frozenset({"pet", "animal", "dog", "puppy", "cat", "kitten", "bird", "parrot", "budgie", "rabbit", "bunny",
                 "hamster", "guinea pig", "fish", "goldfish", "horse", "pony", "turtle", "tortoise", "lizard", "snake",
                 "ferret", "mouse", "rat", "chicken", "duck", "goat", "sheep", "cow", "pig", "gecko", "chinchilla"})
PLACE = frozenset({"place", "building", "house", "home", "landmark", "pagoda", "temple", "church", "cathedral",
                   "mosque", "tower", "bridge", "castle", "palace", "monument", "city", "town", "village", "street",
                   "park", "garden", "beach", "lake", "mountain", "river", "restaurant", "cafe", "shop", "store",
                   "school", "office", "room", "kitchen", "bedroom", "museum", "stadium", "station", "square"})
OBJECT = frozenset({"object", "thing", "toy", "plush", "plushie", "doll", "figurine", "cup", "mug", "bottle", "bag",
                    "backpack", "car", "bike", "bicycle", "book", "phone", "laptop", "computer", "watch", "glasses",
                    "hat", "shoe", "shoes", "shirt", "jacket", "chair", "sofa", "table", "lamp", "clock", "vase",
                    "plant", "instrument", "guitar", "piano", "camera", "bowl", "plate", "pillow", "blanket",
                    "teddy bear", "ball", "statue", "sculpture", "painting", "jewelry", "ring", "necklace"})
TABLES = (("person", PERSON), ("pet", PET), ("place", PLACE), ("object", OBJECT))


@dataclass(frozen=True)
class RapConcept:
    """One concept of the database, as it will become a card."""

    token: str                  # RAP's key, "<bo>"
    name: str
    category: str               # one of Companion's CATEGORIES
    rap_category: str           # as the database says it
    by_default: bool            # the category was in none of the tables: kept as an object
    info: str                   # tokens resolved to names
    images: tuple[Path, ...]    # found on disk, in the database's order
    missing: tuple[str, ...]    # named by the database, not on disk


def map_category(rap_category: str) -> tuple[str, bool]:
    """Companion's category for RAP's free text, and whether it was mapped by default (to object)."""
    words = " ".join(rap_category.casefold().replace("_", " ").replace("-", " ").split())
    if words in CATEGORIES:
        return words, False
    last = words.rsplit(" ", 1)[-1] if words else ""
    singular = last[:-1] if last.endswith("s") and len(last) > 3 else last
    for category, table in TABLES:
        if words in table or last in table or singular in table:
            return category, False
    return "object", True


def read_database(path: Path) -> list[RapConcept]:
    """The database's concepts; ``InvalidInputError`` (with what is wrong) when it is not a RAP database."""
    path = Path(path)
    if path.is_dir():
        path = path / "database.json"
    if not path.is_file():
        raise InvalidInputError(f"no such file: {path}")
    if path.stat().st_size > MAX_BYTES:
        raise InvalidInputError(f"{path.name} is too large to be a concept database ({path.stat().st_size:,} bytes)")
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{path.name} is not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{path.name} is not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("concept_dict"), dict):
        raise InvalidInputError(f"{path.name} is not a RAP concept database: it has no concept_dict")
    entries: dict[str, Any] = data["concept_dict"]
    if not entries:
        raise InvalidInputError(f"{path.name} holds no concepts")
    extra: dict[str, Any] = data["path_to_concept"] if isinstance(data.get("path_to_concept"), dict) else {}
    names = {token: _name(token, entry) for token, entry in entries.items()}
    concepts, seen = [], set()
    for token, entry in entries.items():
        if not isinstance(entry, dict):
            raise InvalidInputError(f"{path.name}: concept {token} is not an object")
        name = names[token]
        if name.casefold() in seen:
            raise InvalidInputError(f"{path.name}: two concepts are named {name!r}")
        seen.add(name.casefold())
        rap_category = _string(entry.get("category"))
        category, by_default = map_category(rap_category)
        info = _string(entry.get("info"))
        listed = entry.get("image")
        named = [listed] if isinstance(listed, str) else [i for i in listed or [] if isinstance(i, str)]
        named += [p for p, t in extra.items() if t == token and isinstance(p, str) and p not in named]
        found, missing = [], []
        for image in named:
            located = _locate(path.parent, image)
            if located is None:
                missing.append(image)
            elif located not in found:
                found.append(located)
        concepts.append(RapConcept(token, name, category, rap_category, by_default, resolve_tokens(info, names),
                                   tuple(found), tuple(missing)))
    return concepts


def resolve_tokens(text: str, names: dict[str, str]) -> str:
    """``<token>``s replaced by the names they stand for; an unknown token loses its brackets."""
    return " ".join(TOKEN.sub(lambda m: names.get(m.group(0), m.group(1)), text).split())


def _string(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _name(token: str, entry: Any) -> str:
    name = entry.get("name") if isinstance(entry, dict) else None
    text = name if isinstance(name, str) and name.strip() else token.strip().strip("<>")
    text = " ".join(text.split())
    if not text:
        raise InvalidInputError(f"concept {token!r} has no name")
    return text


def _locate(folder: Path, image: str) -> Path | None:
    given = Path(image).expanduser()
    candidates = [given] if given.is_absolute() else [folder / given, folder.parent / given, folder / given.name]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    return None
