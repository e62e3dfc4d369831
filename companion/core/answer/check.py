"""The answer checker: the model writes the prose, the records decide the facts.

The answer must state what the records say that the question asked (a last
sighting, a last action, who was seen in a window, fired reminders, "I don't
know who this is") and contradict none of it. A missing fact is appended; a
contradicting answer (a wrong name, a place or a day the records do not
support, a guess where the records hold nothing) is replaced by the structured
answer. Days are compared as days, so "on 5 October" counts for Sunday 5
October 2025.
"""

from __future__ import annotations

import re
from datetime import datetime

from companion.core import language
from companion.core.answer.statements import Statement, city, structured_answer
from companion.core.language import Language
from companion.core.memory import dates
from companion.core.protocols import Geocoder

_ECHO = ("[card]", "[memory", "[last seen]", "[last told]", "[reminder]", "[plan]", "[seen", "[photos",
         "<<<", "not instructions")


def _yes_no(lang: Language) -> tuple[set[str], set[str]]:
    """The words an answer opens with for yes and for no (this language's and English)."""
    yes = {w.strip(".!").lower() for w in (lang.text("yes"), "yes")}
    no = {w.strip(".!").lower() for w in (lang.text("no"), "no")}
    return yes, no


def _contradicts_presence(answer: str, items: list[Statement], lang: Language) -> bool:
    """A yes/no question must open with the right word; with several names, the records answer."""
    asked = [s for s in items if s.kind in ("presence", "absence")]
    if not asked:
        return False
    opening = re.match(r"^\W*(\w+)", answer)
    yes, no = _yes_no(lang)
    want = yes if asked[0].kind == "presence" else no
    return len(asked) > 1 or opening is None or opening.group(1).lower() not in want


def _contains(text: str, word: str) -> bool:
    return word.lower() in text.lower()


def _said(answer: str, statement: Statement, stated: list[tuple[datetime, bool]]) -> bool:
    if not all(_contains(answer, w) for w in statement.must_contain):
        return False
    if statement.any_of and not any(_contains(answer, w) for w in statement.any_of):
        return False
    return statement.day is None or any(dates.same_day(s, statement.day) for s in stated)


def check(answer: str, items: list[Statement], *, known_names: list[str], allowed_names: list[str],
          geocoder: Geocoder | None = None, allowed_places: list[str] | None = None, lang: Language | None = None,
          now: datetime | None = None) -> tuple[str, str, bool]:
    """(final answer, text appended or replacing, replaced?) — records win over the model."""
    lang = lang or language.get(None)
    now = now or datetime.now().astimezone()
    structured = structured_answer(items)
    # An empty answer, or one that parrots the record block, is not an answer: use the records' own words.
    # Where the records hold nothing for the window or place asked about, anything else is a guess.
    if not answer.strip() or any(marker in answer for marker in _ECHO) or \
            _contradicts_presence(answer, items, lang) or any(s.kind == "norecords" for s in items):
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
    stated = dates.stated_days(answer, now, lang)
    dated = [s for s in items if s.day is not None]
    # A day the answer states that no record backs, where the records state one: a contradiction.
    if dated and stated and not any(dates.same_day(d, s.day) for d in stated for s in dated if s.day):
        return structured, structured, True
    missing = [s for s in items if s.kind != "none" and not _said(answer, s, stated)]
    if not missing:
        return answer, "", False
    fix = " ".join(s.text for s in missing)
    return answer.rstrip() + ("\n" if answer.strip() else "") + fix, fix, False
