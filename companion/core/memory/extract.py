"""Deterministic fact extraction from one user turn: who, where, when, doing what, and instructions.

These rules carry the record-backed facts (sightings, places, dates, actions,
reminders) so they come out right with any model, or none. A model's JSON
extraction may only *add* to them, and only with words found in the turn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from companion.core import language
from companion.core.deps import Deps
from companion.core.memory import dates, places, speakers
from companion.core.types import Concept

_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")
_QUOTED = re.compile(r"[\"“‘'«„]([^\"”’'»“]{1,40})[\"”’'»“]")
_CAPS = re.compile(r"\b[A-Z][A-Z0-9]{1,15}\b")


def _cue(key: str) -> re.Pattern[str]:
    """The ``[memory]`` phrases of every language as one whole-word pattern (turns may mix languages)."""
    return language.phrase_pattern("memory", key)


@cache
def _keyword() -> re.Pattern[str]:
    words = "|".join(sorted({w for lang in language.all_languages() for w in lang.words("memory", "keyword")},
                            key=len, reverse=True))
    return re.compile(rf"\b(?:{words})\s*[:=]?\s*[\"“‘'«„]?([^\W_][\w-]{{1,29}})", re.I)


@cache
def _past_verbs() -> frozenset[str]:
    return frozenset(w.lower() for lang in language.all_languages() for w in lang.own("memory", "past_verbs", []) or [])


@cache
def _suffixes(key: str) -> tuple[str, ...]:
    """Verb endings of every language: ``progressive_suffixes`` ("-ing", "-ando") or ``past_suffixes`` ("-ed")."""
    return tuple({s for lang in language.all_languages() for s in lang.own("memory", key, []) or []})


@cache
def _not_verbs() -> frozenset[str]:
    return frozenset(w.lower() for lang in language.all_languages() for w in lang.own("memory", "not_verbs", []) or [])


@cache
def _subject_verb() -> re.Pattern[str]:
    """"I went ...", "we just met ...", "ich bin ...": a subject, optional auxiliaries, then the phrase."""
    subjects = language.phrase_pattern("memory", "subject").pattern
    auxiliaries = language.phrase_pattern("memory", "auxiliaries").pattern
    return re.compile(rf"{subjects}\s+(?:{auxiliaries}\s+)*([^\W\d_][\w'’-]*)", re.I)


@cache
def _profile() -> list[tuple[re.Pattern[str], str]]:
    return [(re.compile(pattern), key) for lang in language.all_languages()
            for pattern, key in lang.own("memory", "profile", []) or []]


def sighting_pattern(name: str) -> re.Pattern[str]:
    """The user says they were with / saw / met the concept ("with Anna", "mit Anna", "Anna and I")."""
    n = re.escape(name)
    before = _cue("sighting_before").pattern
    after = _cue("sighting_after").pattern
    return re.compile(rf"{before}\s+(?:(?:my|mein\w*|ma|mon|mi)\s+\w+\s+)?{n}\b|\b{n}(?:'s)?\s+{after}", re.I)


@dataclass
class Fact:
    """What one sentence of a turn says, and whom it is about."""

    sentence: str
    concepts: list[Concept] = field(default_factory=list)
    sightings: set[int] = field(default_factory=set)
    when: datetime | None = None
    place: str = ""
    action: str = ""
    question: bool = False
    subject: str = ""            # whom it is about ("" is the user): the speaker for "I ...", a name it opens with
    says_something: bool = True  # not only greetings, thanks or agreement


@dataclass
class TriggerFact:
    concept_ids: list[int]
    instruction: str
    keyword: str


@dataclass
class TurnFacts:
    speaker: str = ""            # who said the turn ("" is the user)
    facts: list[Fact] = field(default_factory=list)
    triggers: list[TriggerFact] = field(default_factory=list)
    profile: list[tuple[str, str]] = field(default_factory=list)   # (key, value)
    keywords: list[str] = field(default_factory=list)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCES.split(text) if s and s.strip()]


def _phrase(sentence: str, start: int) -> str:
    """The action phrase from ``start``: up to punctuation or a stop word ("with", "mit", "con" ...), 8 words."""
    phrase = re.split(r"[.,;:!?¿¡]", sentence[start:])[0]
    stop = _cue("action_stops").search(phrase, 1)
    if stop is not None:
        phrase = phrase[:stop.start()]
    return " ".join(phrase.split()[:8])


def is_verb(word: str, *, progressive: bool = True) -> bool:
    """A past form from the tables, or a long enough word with a verb ending that is not a known noun."""
    word = word.lower()
    endings = _suffixes("past_suffixes") + (_suffixes("progressive_suffixes") if progressive else ())
    return word in _past_verbs() or (word not in _not_verbs() and len(word) > 4 and word.endswith(endings))


def find_action(sentence: str) -> str:
    """What the user was doing, e.g. "hiking in the Alps" or "rode the ferry to Capri"; "" when none.

    In order: a progressive form ("... baking bread when ..."), a subject and its verb ("I met Anna
    at the market"), and a sentence that starts with its verb, as diaries and Spanish do ("Rode the
    ferry to Capri with Anna.", "Fui en ferry a Capri con Anna."), after any leading time words.
    """
    progressive = _suffixes("progressive_suffixes")
    for found in re.finditer(r"[^\W\d_]{3,}", sentence):
        word = found[0].lower()
        if word.endswith(progressive) and word not in _not_verbs() and len(word) > 4:
            return _phrase(sentence, found.start())
    match = _subject_verb().search(sentence)
    if match and is_verb(match[1]):
        return _phrase(sentence, match.start(1))
    start = _after_time_words(sentence)
    first = re.match(r"\W*([^\W\d_][\w'’-]*)", sentence[start:])
    if first and is_verb(first[1], progressive=False):
        return first_lower(_phrase(sentence, start + first.start(1)))
    return ""


def _after_time_words(sentence: str) -> int:
    """Where a sentence starts once leading time words are skipped ("This morning, rode ..." -> "rode")."""
    position = 0
    for begin, end in dates.phrase_spans(sentence):
        if sentence[position:begin].strip(" ,"):
            break
        position = end
    return position + len(sentence[position:]) - len(sentence[position:].lstrip(" ,"))


def first_lower(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def find_place(deps: Deps, sentence: str, names: set[str]) -> str:
    """A place named in the sentence: the offline gazetteer first, then "in/at/nach/en <Capitalised>"."""
    lang = language.detect(sentence)
    place, _ = places.find_place(deps.geocoder, sentence, lang, names)
    if place is not None:
        return place.label()
    locatives = _cue_words("place", "locatives")
    pattern = re.compile(rf"(?<!\w)(?:{locatives})\s+"
                         r"((?:the\s+)?[A-ZÀ-ÖØ-Þ][\w'-]+(?:\s+(?:[A-ZÀ-ÖØ-Þ][\w'-]+|de|del|la|le|of))*)")
    for match in pattern.finditer(sentence):
        words = match[1].split()
        candidate = match[1] if words[0] == "the" and len(words) > 1 else " ".join(words)
        bare = candidate.removeprefix("the ")
        if bare.lower() in places.not_places() or bare.lower() in names:
            continue
        return candidate
    return ""


@cache
def _cue_words(section: str, key: str) -> str:
    words = {w for lang in language.all_languages() for w in lang.own(section, key, []) or []}
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def find_keyword(sentence: str, names: set[str]) -> str:
    """The literal keyword of a reminder: after "keyword"/"Stichwort"/"mot-clé", a quoted word, or an ALL-CAPS token."""
    for pattern in (_keyword(), _QUOTED):
        match = pattern.search(sentence)
        if match and match[1].lower() not in names:
            return match[1].strip()
    for token in _CAPS.findall(sentence):
        if token.lower() not in names and token not in {"OK", "AM", "PM"}:
            return str(token)
    return ""


def extract_turn(deps: Deps, text: str, when: datetime, recent: list[Concept] | None = None,
                 extra_concepts: list[Concept] | None = None, speaker: str = "") -> TurnFacts:
    """Facts of a turn said at ``when`` by ``speaker`` ("" is the user; "I" is the speaker).

    ``recent`` resolves "she"/"this person" in instructions. Reminders, profile facts and sightings
    are the user's own: a turn someone else wrote in an imported chat gives mentions and memories only.
    """
    out = TurnFacts(speaker)
    known = deps.store.concepts.list()
    all_names = {c.name.lower() for c in known}
    people = [c.name for c in known]
    for sentence in sentences(text):
        fact = _fact(deps, sentence, when, all_names, people, extra_concepts or [], speaker)
        if not speaker:
            _user_facts(out, fact, recent, all_names)
        out.facts.append(fact)
    keywords: list[str] = []
    for fact in out.facts:
        keywords += [c.name for c in fact.concepts]
        keywords += [fact.place] if fact.place else []
        keywords += [fact.action] if fact.action else []
    out.keywords = list(dict.fromkeys(k for k in keywords if k))
    return out


def _fact(deps: Deps, sentence: str, when: datetime, all_names: set[str], people: list[str],
          extra: list[Concept], speaker: str) -> Fact:
    """One sentence: who it names (not whom it greets), when and where, what was done, whom it is about."""
    addressed = {n.lower() for n in speakers.vocatives(sentence, people)}
    concepts = [c for c in deps.store.concepts.named_in(sentence) if c.name.lower() not in addressed]
    concepts += [c for c in extra if c.id not in {k.id for k in concepts}]
    fact = Fact(sentence, concepts, question=sentence.rstrip().endswith("?"))
    fact.when = dates.parse_when(sentence, when)
    fact.place = find_place(deps, sentence, {c.name.lower() for c in concepts} | all_names)
    fact.says_something = speakers.says_something(sentence, people, speakers.MIN_CONTENT_WORDS if speaker else 1)
    fact.subject = _subject(sentence, concepts, speaker)
    if speaker and not fact.question:
        fact.action = find_action(sentence) if speakers.first_person(sentence) else ""
    return fact


def _subject(sentence: str, concepts: list[Concept], speaker: str) -> str:
    """Whom a sentence is about: a person it opens with ("Anna now works ..."), else its speaker."""
    for concept in concepts:
        if re.match(rf"\W*(?:my \w+ )?{re.escape(concept.name)}\b", sentence, re.I):
            return concept.name
    return speaker


def _user_facts(out: TurnFacts, fact: Fact, recent: list[Concept] | None, names: set[str]) -> None:
    """The user's own sentence: what they were doing, whom they were with, reminders and profile facts."""
    sentence = fact.sentence
    instruction, conditional = _instruction(sentence)
    if not fact.question and not conditional:
        fact.action = find_action(sentence)
        if not _cue("future").search(sentence) and not _cue("negation").search(sentence):
            fact.sightings = {c.id for c in fact.concepts if sighting_pattern(c.name).search(sentence)}
    if conditional and instruction:
        targets = fact.concepts or (list(recent or [])[:1] if _cue("pronouns").search(sentence) else [])
        if targets:
            out.triggers.append(TriggerFact([c.id for c in targets], sentence, find_keyword(sentence, names)))
    if not fact.question:
        out.profile += profile_facts(sentence)


def _instruction(sentence: str) -> tuple[bool, bool]:
    """(asks to be reminded, is conditional): "when X phoned me" is a past event; "when X shows up again,
    remind me" an instruction."""
    instruction = bool(_cue("reappear").search(sentence) and _cue("instruct").search(sentence))
    conditional = bool(_cue("condition").search(sentence)) or (instruction and bool(_cue("when").search(sentence)))
    return instruction, conditional


def profile_facts(sentence: str) -> list[tuple[str, str]]:
    """(key, value) profile facts a sentence states ("my favourite tea is rooibos", "I live in Graz")."""
    found = []
    for pattern, key in _profile():
        for match in pattern.finditer(sentence):
            if key == "favourite":
                found.append((f"favourite {match[1].lower()}", match[2].strip()))
            else:
                found.append((key, match[1].strip()))
    return found
