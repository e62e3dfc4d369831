"""Places named in text, through the offline gazetteer (the ``Geocoder`` protocol), in every covered language.

The gazetteer's names are English ("Vienna") and it reads "in/at/to Vienna";
the language tables map local names ("Wien", "Viena", "Vienne") to them and
list each language's own words before a place ("nach", "à", "en").
"""

from __future__ import annotations

import re
from functools import cache

from companion.core import language
from companion.core.language import Language
from companion.core.protocols import Geocoder
from companion.core.types import Place

_CAPITALISED = re.compile(r"(?<!\w)([A-ZÀ-ÖØ-Þ][\w'’-]+"
                          r"(?:\s+(?:de|del|la|le|of|am|an|sur)?\s*[A-ZÀ-ÖØ-Þ][\w'’-]+){0,2})")


@cache
def exonyms() -> dict[str, str]:
    """Local name -> the gazetteer's name, from every language table."""
    return {k: v for lang in language.all_languages() for k, v in (lang.own("place", "exonyms", {}) or {}).items()}


@cache
def not_places() -> frozenset[str]:
    """Capitalised words that are no place: function words, months, weekdays, table exceptions."""
    words = {m.lower() for lang in language.all_languages() for m in lang.own("", "markers", []) or []}
    words |= {m.lower() for lang in language.all_languages() for key in ("months", "weekdays")
              for m in lang.get("dates", key, [])}
    words |= {w.lower() for lang in language.all_languages() for w in lang.own("memory", "not_places", []) or []}
    return frozenset(words)


def readings(text: str, lang: Language, names: set[str]) -> list[tuple[str, str, str]]:
    """Capitalised phrases that may be places: (written, gazetteer name, reading), in text order.

    The reading is "preposition" after one ("in Vienna", "nach Wien", "to the Bronx"), "verb" after a
    verb locative ("visit Luna": a person as likely as a place), else "" (a possessive, "James' dog", is
    never read as a place); names of known people, pets and things are never places.
    """
    locatives = {w.lower() for w in lang.words("place", "locatives")} | {"in", "at", "to", "from", "near"}
    verbs = {w.lower() for w in lang.words("place", "verb_locatives")}
    found: list[tuple[str, str, str]] = []
    for match in _CAPITALISED.finditer(text):
        phrase = match[1]
        first = phrase.split()[0].lower()
        if phrase.lower() in names or first in names or first in not_places():
            continue
        before = language.words_of(text[:match.start()])[-2:]
        if before[-1:] and before[-1] in ("the", "der", "die", "das", "la", "le", "el", "l'") and len(before) == 2:
            before = before[:1]
        possessive = phrase.endswith(("'", "’")) or bool(re.match(r"['’](?:s\b|\s)", text[match.end():]))
        word = before[-1] if before and not possessive else ""
        reading = "verb" if word in verbs else "preposition" if word in locatives else ""
        found.append((phrase, exonyms().get(phrase, phrase), reading))
    return found


def candidates(text: str, lang: Language, names: set[str]) -> list[tuple[str, str]]:
    """Capitalised phrases that may be places, as (written, gazetteer name); those after a locative first."""
    found = readings(text, lang, names)
    return [(written, name) for written, name, _ in sorted(found, key=lambda c: not c[2])]


def find_place(geocoder: Geocoder | None, text: str, lang: Language, names: set[str]) -> tuple[Place | None, str]:
    """The first place of ``text`` the gazetteer knows, and how it was written; ``names`` are people, not places."""
    if geocoder is None:
        return None, ""
    for place in geocoder.find_places(text):          # English phrasing: "in Vienna", "Paris, France"
        if place.city and place.city.lower() not in names and re.search(rf"\b{re.escape(place.city)}\b", text):
            return place, place.city
    for written, name in candidates(text, lang, names):
        for place in geocoder.find_places(f"in {name}"):
            if place.city.lower() not in names and place.country.lower() not in names:
                return place, written
    return None, ""
