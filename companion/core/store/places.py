"""A place a question names, as a filter over stored rows (photos, sightings, memories).

Rows keep a place *label* ("Vienna, Vienna, Austria", or free text such as "the
Alps"); migration 0006 indexes its first part, lowercased (:func:`city_sql`).
SQLite's ``lower()`` folds ASCII letters only, so :func:`city_key` does the same.
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
    """A city, or (with no city) a whole country."""

    city: str = ""
    country: str = ""
    country_code: str = ""

    def label(self) -> str:
        return self.city or self.country

    def __bool__(self) -> bool:
        return bool(self.city or self.country)

    def label_sql(self, column: str) -> tuple[str, list[object]]:
        """SQL condition on a row with a place label (observations, memories)."""
        if self.city:
            return f"{city_sql(column)} = ?", [city_key(self.city)]
        return f"({column} LIKE ? OR {column} = ?)", [f"%, {self.country}", self.country]

    def photo_sql(self, alias: str = "p") -> tuple[str, list[object]]:
        """SQL condition on a photo row (city / country columns)."""
        if self.city:
            return f"{alias}.city = ? COLLATE NOCASE", [self.city]
        if self.country_code:
            return f"{alias}.country_code = ?", [self.country_code]
        return f"{alias}.country = ? COLLATE NOCASE", [self.country]
