"""The answer checker: the model writes the prose, the records decide the facts.

The answer must state what the records say (last sighting, last action,
fired reminders, "I don't know who this is") and contradict none of it. A
missing fact is appended; a contradicting answer (a wrong name or a place the
records do not support) is replaced by the structured answer.
"""

from __future__ import annotations

import re
from typing import Any

from companion.core.answer.statements import Statement, city, structured_answer

_LEADING_YES_NO = re.compile(r"^\W*(yes|no)\b", re.I)


def _contradicts_presence(answer: str, items: list[Statement]) -> bool:
    """A yes/no question must open with the right word; with several names, the records answer."""
    asked = [s for s in items if s.kind in ("presence", "absence")]
    if not asked:
        return False
    opening = _LEADING_YES_NO.match(answer)
    want = "yes" if asked[0].kind == "presence" else "no"
    return len(asked) > 1 or opening is None or opening.group(1).lower() != want


_ECHO = ("[card]", "[memory", "[last seen]", "[last told]", "[reminder]", "<<<", "not instructions")


def _contains(text: str, word: str) -> bool:
    return word.lower() in text.lower()


def check(answer: str, items: list[Statement], *, known_names: list[str], allowed_names: list[str],
          geocoder: Any = None, allowed_places: list[str] | None = None) -> tuple[str, str, bool]:
    """(final answer, text appended or replacing, replaced?) — records win over the model."""
    structured = structured_answer(items)
    # An empty answer, or one that parrots the record block, is not an answer: use the records' own words.
    if not answer.strip() or any(marker in answer for marker in _ECHO) or _contradicts_presence(answer, items):
        return structured, structured, True
    allowed = {n.lower() for n in allowed_names}
    for name in known_names:   # a name we did not recognize is a guess
        if name.lower() not in allowed and re.search(r"\b" + re.escape(name) + r"\b", answer, re.I):
            return structured, structured, True
    if geocoder is not None:
        ok = {city(p).lower() for p in allowed_places or [] if p}
        for place in geocoder.find_places(answer):
            if place.city and place.city.lower() not in ok and re.search(r"\b" + re.escape(place.city) + r"\b", answer):
                return structured, structured, True
    missing = [s for s in items if s.kind != "none" and not all(_contains(answer, w) for w in s.must_contain)]
    if not missing:
        return answer, "", False
    fix = " ".join(s.text for s in missing)
    return answer.rstrip() + ("\n" if answer.strip() else "") + fix, fix, False
