"""The answer checker: the model writes the prose, the records decide the facts; it only corrects contradictions.

A model's answer is replaced by the records' own answer only when it contradicts them: it
is empty, parrots the record block or only echoes the question; it says yes where the photo
says no; it names someone the records do not; it states a place or a day no record backs
where the records state one; it claims of someone what only someone else did; or it guesses
where the records hold nothing for the window or place asked about and nothing it says is
in the evidence. An answer the question asked a record for that it leaves out gets that
record appended. An answer grounded in the evidence is never thrown away. Days are compared
as days, so "on 5 October" counts for Sunday 5 October 2025.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from companion.core import language
from companion.core.answer.statements import Statement, structured_answer
from companion.core.language import Language
from companion.core.memory import dates
from companion.core.protocols import Geocoder
from companion.core.types import city

_ECHO = ("[card]", "[memory", "[last seen]", "[last told]", "[reminder]", "[plan]", "[seen", "[photos",
         "<<<", "not instructions")
GROUNDED = 0.6       # share of an answer's content words found in the evidence


@dataclass(frozen=True)
class Allowed:
    """What an answer may state: the evidence's names, places and text, and every known name."""

    names: list[str]                # names the records and the shown evidence hold
    known_names: list[str]          # every concept's name (a known name not in the records is a guess)
    places: list[str]               # cities the records hold
    evidence: str = ""              # the evidence's text, for "is this answer grounded?"
    question: str = ""
    places_in_evidence: bool = True   # a place the evidence's text names may be stated (not for "where did I
                                      # last see her?": only that sighting's place)


@dataclass(frozen=True)
class Verdict:
    text: str            # the final answer
    fix: str = ""        # what was appended, or the whole answer when replaced
    replaced: bool = False


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


def _content(text: str, lang: Language) -> set[str]:
    skip = {w.lower() for w in lang.words("", "stopwords")}
    return {w.split("'")[0][:5] for w in language.words_of(text) if w.split("'")[0] not in skip}


def echoes(answer: str, question: str, lang: Language) -> bool:
    """The answer says nothing the question did not ("When did Jon lose his job?" -> "Jon lost his job.")."""
    said = _content(answer, lang)
    return bool(question) and not (said - _content(question, lang))


def grounded(answer: str, evidence: str, lang: Language) -> bool:
    """Most of the answer's content words are in the evidence."""
    said = _content(answer, lang)
    return bool(said) and len(said & _content(evidence, lang)) >= GROUNDED * len(said)


def _wrong_name(answer: str, allowed: Allowed) -> bool:
    ok = {n.lower() for n in allowed.names}
    return any(name.lower() not in ok and re.search(r"\b" + re.escape(name) + r"\b", answer, re.I)
               for name in allowed.known_names)


def _wrong_place(answer: str, allowed: Allowed, geocoder: Geocoder | None) -> bool:
    if geocoder is None:
        return False
    ok = {city(p).lower() for p in allowed.places if p}
    return any(place.city and place.city.lower() not in ok and re.search(rf"\b{re.escape(place.city)}\b", answer)
               and not (allowed.places_in_evidence and re.search(rf"\b{re.escape(place.city)}\b", allowed.evidence))
               for place in geocoder.find_places(answer))


def _wrong_day(stated: list[tuple[datetime, bool]], items: list[Statement]) -> bool:
    """A day the answer states that no record backs, where the records state one."""
    dated = [s.day for s in items if s.day is not None]
    return bool(dated and stated) and not any(dates.same_day(d, day) for d in stated for day in dated)


def _not_an_answer(answer: str, items: list[Statement], allowed: Allowed, lang: Language) -> bool:
    """Empty, the record block parroted, the question echoed, or someone else's deed claimed."""
    if not answer.strip() or any(marker in answer for marker in _ECHO) or echoes(answer, allowed.question, lang):
        return True
    about_other = [s for s in items if s.kind == "not_about"]
    return bool(about_other) and not any(_contains(answer, w) for w in about_other[0].any_of)


def _unsupported_guess(answer: str, items: list[Statement], allowed: Allowed, lang: Language) -> bool:
    """Nothing in the records for the window or place asked about, and the answer is not from the evidence."""
    return any(s.kind == "norecords" for s in items) and not grounded(answer, allowed.evidence, lang)


def check(answer: str, items: list[Statement], allowed: Allowed, *, geocoder: Geocoder | None = None,
          lang: Language | None = None, now: datetime | None = None) -> Verdict:
    """The final answer: the model's, corrected only where it contradicts the records."""
    lang = lang or language.get(None)
    now = now or datetime.now().astimezone()
    structured = structured_answer(items)
    stated = dates.stated_days(answer, now, lang)
    if _not_an_answer(answer, items, allowed, lang) or _contradicts_presence(answer, items, lang) or \
            _unsupported_guess(answer, items, allowed, lang) or _wrong_name(answer, allowed) or \
            _wrong_place(answer, allowed, geocoder) or _wrong_day(stated, items):
        return Verdict(structured, structured, True)
    missing = [s for s in items if s.kind not in ("none", "said", "norecords") and not _said(answer, s, stated)]
    if not missing:
        return Verdict(answer)
    fix = " ".join(s.text for s in missing)
    return Verdict(answer.rstrip() + ("\n" if answer.strip() else "") + fix, fix)
