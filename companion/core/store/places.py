"""A place a question names, as a filter over stored rows (photos, sightings, memories).

A place is asked for at the level the user named: a city (which also finds the
photos of its districts, and a district's own name finds that district), a
region ("Tuscany", "Missouri") or a country. Photos keep every level in its own
column (district, city, region, country; migrations 0006 and 0009 index them).
Sightings and memories keep a place *label* ("Vienna, Vienna, Austria", or free
text such as "the Alps"); migration 0006 indexes its first part, lowercased
(:func:`city_sql`). SQLite's ``lower()`` folds ASCII letters only, so
:func:`city_key` does the same.
"""

from __future__ import annotations

from dataclasses import dataclass


def city_sql(column: str) -> str:
    """The indexed city of a place-label column: migration 0006's expression, character for character
    (SQLite uses an expression index only for the same expression)."""
    return (f"lower(trim(CASE WHEN instr({column}, ',') > 0 THEN substr({column}, 1, instr({column}, ',') - 1) "
            f"ELSE {column} END))")


def city_key(name: str) -> str:
    """:func:`city_sql`'s form of a name: trimmed, ASCII letters lowercased (as SQLite's lower())."""
    return "".join(ch.lower() if ch.isascii() else ch for ch in name.strip())


@dataclass(frozen=True)
class PlaceFilter:
    """A city (or district), else a region, else a whole country; a country narrows a city or region."""

    city: str = ""
    country: str = ""
    country_code: str = ""
    region: str = ""

    def label(self) -> str:
        return self.city or self.region or self.country

    def __bool__(self) -> bool:
        return bool(self.city or self.region or self.country)

    def label_sql(self, column: str) -> tuple[str, list[object]]:
        """SQL condition on a row with a place label (observations, memories)."""
        if self.city:
            return f"{city_sql(column)} = ?", [city_key(self.city)]
        if self.region:     # any part after the first: "Arezzo, Tuscany, Italy"
            return f"(', ' || {column} || ',') LIKE ?", [f"%, {_like(self.region)},%"]
        return f"({column} LIKE ? OR {column} = ?)", [f"%, {self.country}", self.country]

    def photo_sql(self, alias: str = "p") -> tuple[str, list[object]]:
        """SQL condition on a photo row: the level asked for, each level in its own indexed column."""
        if self.city:
            condition = f"({alias}.city = ? COLLATE NOCASE OR {alias}.district = ? COLLATE NOCASE)"
            params: list[object] = [self.city, self.city]
        elif self.region:
            condition, params = f"{alias}.region = ? COLLATE NOCASE", [self.region]
        elif self.country_code:
            return f"{alias}.country_code = ?", [self.country_code]
        else:
            return f"{alias}.country = ? COLLATE NOCASE", [self.country]
        if self.country_code:      # Paris, France and not Paris, Texas
            condition += f" AND {alias}.country_code = ?"
            params.append(self.country_code)
        return condition, params


def _like(text: str) -> str:
    """``text`` for a LIKE pattern, its wildcards taken literally (SQLite's LIKE has no default escape)."""
    return text.replace("%", "").replace("_", "")
