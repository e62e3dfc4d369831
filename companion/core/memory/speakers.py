"""Who said a turn and whom each of its sentences is about, in chats with several people.

An imported chat may name the writer of each line (the import's ``speaker`` field, or a
leading "Caroline: " as chat exports write it, when Caroline is a known person). Then
"I", "my" and "we" in that turn are the speaker, not the user, and a name in the vocative
("Thanks, Caroline!", "Hey Mel") is whom the turn is addressed to, not what it is about:
"Glad you agree, Caroline" says nothing about Caroline.

A sentence "says something" when, after greetings, thanks and agreement words (the
language tables' ``memory.phatic``) and function words, it still has content: "Thanks,
Melanie!" and "Wow, that's great!" do not; "I went to a support group yesterday" does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from companion.core import language

_PREFIX = re.compile(r"^\s*([^\W\d_][\w'’.-]*(?:\s+[^\W\d_][\w'’.-]*){0,2})\s*:\s+(?=\S)")
MIN_CONTENT_WORDS = 2


@dataclass(frozen=True)
class Said:
    """A turn's text as said by ``speaker`` ("" is the user), without any "Name: " prefix."""

    speaker: str
    text: str


def split_speaker(text: str, speaker: str, people: Iterable[str]) -> Said:
    """The turn's speaker: the import's field, else a leading "Name: " naming a known person."""
    match = _PREFIX.match(text)
    if match is None:
        return Said(speaker, text)
    known = {p.lower(): p for p in people}
    if (match[1].lower() == speaker.lower() or (not speaker and match[1].lower() in known)):
        return Said(speaker or known[match[1].lower()], text[match.end():].strip())
    return Said(speaker, text)


@cache
def _phatic() -> frozenset[str]:
    return frozenset(w.lower() for lang in language.all_languages() for w in lang.own("memory", "phatic", []) or [])


@cache
def _stopwords() -> frozenset[str]:
    return frozenset(w.lower() for lang in language.all_languages() for w in lang.own("", "stopwords", []) or [])


def content_words(sentence: str, names: Iterable[str] = ()) -> list[str]:
    """The words of a sentence that say something: no function words, greetings, thanks or names."""
    skip = _stopwords() | _phatic() | {n.lower() for n in names}
    words = (w.split("'")[0] for w in language.words_of(sentence))   # "that's" -> "that"
    return [w for w in words if w not in skip and len(w) > 1]


def says_something(sentence: str, names: Iterable[str] = (), minimum: int = MIN_CONTENT_WORDS) -> bool:
    """At least ``minimum`` content words (a user's own short note, "Saw Anna.", needs one)."""
    return len(content_words(sentence, names)) >= minimum


def vocatives(sentence: str, names: Iterable[str]) -> set[str]:
    """Names the sentence addresses ("Hey Mel!", "Thanks, Caroline.", "..., Jon?") rather than talks about."""
    found = set()
    greet = "|".join(re.escape(w) for w in sorted(_phatic(), key=len, reverse=True)) or r"(?!x)x"
    for name in names:
        n = re.escape(name)
        if re.search(rf"^\W*(?:(?:{greet})\W+)*{n}\b\s*[,!.?]|,\s*{n}\s*[!.?]*\s*$|^\W*(?:{greet})\W+{n}\b",
                     sentence, re.I):
            found.add(name)
    return found


def first_person(sentence: str) -> bool:
    """Whether the sentence speaks of its speaker ("I", "my", "we", "ich", "je", "yo" ...)."""
    return any(lang.says("question", "self", sentence) for lang in (language.detect(sentence),))


@cache
def _second_person() -> frozenset[str]:
    return frozenset(w.lower().replace("’", "'") for lang in language.all_languages()
                     for w in lang.own("memory", "second_person", []) or [])


def about(sentence: str, speaker: str, people: Iterable[str]) -> set[str]:
    """Whom a sentence is about: the people it names (not those it greets), and its speaker when it speaks
    of them ("I ran a race") or of no one else ("The race was fun"); "That race sounds great, Mel!" is
    about Mel, not about whoever said it."""
    people = list(people)
    greeted = vocatives(sentence, people)
    out = {p for p in people if p not in greeted and re.search(rf"\b{re.escape(p)}\b", sentence)}
    addressed = bool(greeted) or bool(_second_person() & set(language.words_of(sentence)))
    if speaker and (first_person(sentence) or not addressed):
        out.add(speaker)
    return out
