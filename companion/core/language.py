"""The languages Companion reads and answers in: one table per language in ``companion/resources/languages/``.

Every word a rule matches (question kinds, time words, sighting verbs, reminder
cues ...) and every sentence an answer is built from lives in those files, so
a language is added by adding a file, and no module hides English-only
patterns. Covered: see :func:`codes` (English, German, French, Spanish). A key
missing from a language falls back to English.

Detection is by function words (``markers``): short questions are what people
type, and the tables already hold their words, so no statistical detector is
needed for the languages we answer in.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from typing import Any

from companion.paths import resources_dir

DEFAULT = "en"
_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)


@cache
def codes() -> tuple[str, ...]:
    """The languages with a table, English first."""
    found = sorted(p.stem for p in (resources_dir() / "languages").glob("*.toml"))
    return tuple(sorted(found, key=lambda c: c != DEFAULT))


@cache
def _table(code: str) -> dict[str, Any]:
    with (resources_dir() / "languages" / f"{code}.toml").open("rb") as handle:
        return tomllib.load(handle)


def _section(code: str, section: str) -> dict[str, Any]:
    """A section of a table ("" is the top level: code, name, markers, letters)."""
    table = _table(code)
    return table if not section else table.get(section, {})


class Language:
    """One language's table, with compiled patterns."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.name = str(_table(code).get("name", code))

    def __repr__(self) -> str:
        return f"Language({self.code!r})"

    def get(self, section: str, key: str, default: Any = None) -> Any:
        """A value of the table, else English's, else ``default``."""
        for code in (self.code, DEFAULT):
            value = _section(code, section).get(key)
            if value is not None:
                return value
        return default

    def own(self, section: str, key: str, default: Any = None) -> Any:
        """A value of this language's table only (no English fallback)."""
        value = _section(self.code, section).get(key)
        return default if value is None else value

    def words(self, section: str, key: str) -> list[str]:
        return list(self.get(section, key, []))

    def pattern(self, section: str, key: str) -> re.Pattern[str]:
        """The patterns of ``section.key`` as one case-insensitive regular expression."""
        return _compiled(self.code, section, key)

    def says(self, section: str, key: str, text: str) -> bool:
        return bool(self.pattern(section, key).search(text))

    def fill(self, section: str, name: str, /, **values: Any) -> str:
        """A template of ``section``, filled in (positional-only, so ``key=`` can be a template's field)."""
        return str(self.get(section, name, "")).format(**values)

    def text(self, name: str, /, **values: Any) -> str:
        """An answer sentence from ``[answer]``, filled in."""
        return self.fill("answer", name, **values)

    def plural(self, key: str, n: int) -> str:
        """``[plural] key`` for the count ``n``, filled in: "1 photo", "3 photos" ("0 photo" in French).

        The table's ``singular`` lists the counts the language says in the singular; every
        other count takes the ``other`` form.
        """
        forms = self.get("plural", key, {})
        singular = self.get("plural", "singular", [1])
        form = forms.get("one" if n in singular else "other") or forms.get("other", "")
        return str(form).format(n=n)

    def date_source(self, source: str) -> str:
        """How a photo's date was found, where it may not be the camera's ("" when it is):
        "date from the file, not the camera" for a file's time, "date from the file name" ..."""
        said = self.get("date_source", source or "file")
        return str(self.get("date_source", "other", "") if said is None else said)

    def join(self, items: list[str]) -> str:
        """"a, b and c" in this language."""
        items = [i for i in items if i]
        if len(items) <= 1:
            return "".join(items)
        return ", ".join(items[:-1]) + f" {self.get('answer', 'and', 'and')} " + items[-1]


@cache
def get(code: str | None) -> Language:
    """The language ``code`` (English when there is no table for it)."""
    return Language(code if code in codes() else DEFAULT)


def all_languages() -> list[Language]:
    return [get(c) for c in codes()]


@cache
def _compiled(code: str, section: str, key: str) -> re.Pattern[str]:
    patterns = get(code).words(section, key)
    return re.compile("|".join(f"(?:{p})" for p in patterns) or r"(?!x)x", re.I)


@cache
def phrase_pattern(section: str, key: str, codes_: tuple[str, ...] | None = None) -> re.Pattern[str]:
    """Whole-word phrases of ``section.key`` in every language (or ``codes_``), as one expression.

    For cues read from a user's turns, which may mix languages: "with|mit|avec|con".
    Longer phrases first, so "and then" wins over "and".
    """
    phrases = {p for c in (codes_ or codes()) for p in get(c).own(section, key, []) or []}
    if not codes_:
        phrases |= set(get(DEFAULT).words(section, key))
    ordered = sorted(phrases, key=len, reverse=True)
    body = "|".join(p if _is_regex(p) else re.escape(p) for p in ordered)
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)" if body else r"(?!x)x", re.I)


def _is_regex(phrase: str) -> bool:
    return any(ch in phrase for ch in "\\()[]?+*|")


def words_of(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _TOKEN.findall(text)]


def known(text: str) -> bool:
    """Whether ``text`` uses the function words of any covered language."""
    tokens = set(words_of(text))
    return any(tokens & set(_table(code).get("markers", [])) for code in codes())


def detect(text: str, default: str = DEFAULT) -> Language:
    """The language whose function words ``text`` uses most (``default`` on a tie at zero)."""
    tokens = words_of(text)
    best, best_score = default, 0.0
    for code in codes():
        markers = set(_table(code).get("markers", []))
        score = sum(1 for t in tokens if t in markers)
        # Letters that only some languages use break ties ("¿", "ß", "ç").
        score += sum(1 for ch in set(_table(code).get("letters", "")) if ch in text)
        if score > best_score or (score == best_score and score > 0 and code == default):
            best, best_score = code, score
    return get(best)
