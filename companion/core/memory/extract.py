"""Deterministic fact extraction from one user turn: who, where, when, doing what, and instructions.

These rules carry the record-backed facts (sightings, places, dates, actions,
reminders) so they come out right with any model, or none. A model's JSON
extraction may only *add* to them, and only with words found in the turn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from companion.core.deps import Deps
from companion.core.memory import dates
from companion.core.types import Concept

_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")
_QUOTED = re.compile(r"[\"“‘']([^\"”’']{1,40})[\"”’']")
_CAPS = re.compile(r"\b[A-Z][A-Z0-9]{1,15}\b")
_KEYWORD = re.compile(r"\b(?:keyword|code ?word|word)\s*[:=]?\s*[\"“‘']?([A-Za-z0-9_-]{2,30})", re.I)
_CONDITION = re.compile(r"\b(?:if|whenever|next time|in case)\b", re.I)
_REAPPEAR = re.compile(r"\b(?:shows? up|appears?|turns? up|comes? (?:up|back|along)|is in (?:a|the|another) "
                       r"(?:photo|picture)|again|see (?:him|her|them|it))\b", re.I)
_INSTRUCT = re.compile(r"\b(?:remind me|tell me|let me know|say|mention)\b", re.I)
_FUTURE = re.compile(r"\b(?:will|going to|gonna|tomorrow|next|plan to|want to|hope to)\b", re.I)
_NEGATED = re.compile(r"\b(?:not|never|didn't|haven't|hasn't|don't|no longer)\b", re.I)
_PRONOUN = re.compile(r"\b(?:she|he|they|her|him|them|this person|this one|it)\b", re.I)
_NOT_VERBS = {"morning", "evening", "something", "nothing", "anything", "everything", "thing", "things", "during",
              "king", "ring", "spring", "string", "wedding", "building", "ceiling", "pudding", "interesting",
              "amazing", "boring", "exciting", "annoying", "charming", "stunning", "darling", "lightning", "wing",
              "ceiling", "sibling", "ping", "bring", "sing"}
_STOP = re.compile(r"\s+(?:with|and then|when|because|while|but|so|together|yesterday|today|last|this|on "
                   r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|\d+ days? ago)\b.*$", re.I)
_PAST_VERB = re.compile(r"\b(?:I|we)\s+(?:just\s+|finally\s+|also\s+)?((?:went|took|had|made|met|ate|ran|swam|rode|"
                        r"drove|flew|visited|played|cooked|baked|watched|walked|bought|read|celebrated|spent|"
                        r"[a-z]{3,}ed)\b[^.,;!?]*)", re.I)
_PLACE_RE = re.compile(r"\b(?:in|at|near|to|from)\s+((?:the\s+)?[A-Z][\w'-]+(?:\s+(?:[A-Z][\w'-]+|de|del|la|le|of))*)")
_NOT_PLACES = {m.capitalize() for m in dates.MONTHS + dates.WEEKDAYS} | {"I", "Christmas", "Easter"}
_PROFILE = (
    (re.compile(r"\bmy favou?rite ([a-z]+(?: [a-z]+)?) (?:is|are) (?:now |still )?([^.,!?;]+)", re.I), None),
    (re.compile(r"\bI (?:now )?live in ([A-Z][^.,!?;]*)"), "home"),
    (re.compile(r"\bI (?:now )?work as (?:an? )?([^.,!?;]+)", re.I), "job"),
    (re.compile(r"\bmy name is ([A-Z][\w-]+)"), "name"),
    (re.compile(r"\bI(?:'m| am) allergic to ([^.,!?;]+)", re.I), "allergy"),
)


def sighting_pattern(name: str) -> re.Pattern[str]:
    """The user says they were with / saw / met the concept."""
    n = re.escape(name)
    return re.compile(
        rf"\b(?:with|saw|seen|see|met|meet|visited|ran into|bumped into|walked|took|hugged|joined)\s+(?:my\s+\w+\s+)?{n}\b"
        rf"|\b{n}(?:'s)?\s+(?:and I|and me|came|joined|was there|were there|visited me|dropped by|stopped by)\b", re.I)


@dataclass
class Fact:
    """What one sentence of a user turn says."""

    sentence: str
    concepts: list[Concept] = field(default_factory=list)
    sightings: set[int] = field(default_factory=set)
    when: datetime | None = None
    place: str = ""
    action: str = ""
    question: bool = False


@dataclass
class TriggerFact:
    concept_ids: list[int]
    instruction: str
    keyword: str


@dataclass
class TurnFacts:
    facts: list[Fact] = field(default_factory=list)
    triggers: list[TriggerFact] = field(default_factory=list)
    profile: list[tuple[str, str]] = field(default_factory=list)   # (key, value)
    keywords: list[str] = field(default_factory=list)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCES.split(text) if s and s.strip()]


def find_action(sentence: str) -> str:
    """The verb phrase of what the user was doing, e.g. "hiking in the Alps"; "" when none."""
    for match in re.finditer(r"\b([a-z]{3,}ing)\b", sentence):
        if match[1].lower() in _NOT_VERBS:
            continue
        phrase = re.split(r"[.,;:!?]", sentence[match.start():])[0]
        phrase = _STOP.sub("", phrase).strip()
        return " ".join(phrase.split()[:8])
    match = _PAST_VERB.search(sentence)
    if match:
        return " ".join(_STOP.sub("", match[1]).split()[:8])
    return ""


def find_place(deps: Deps, sentence: str, names: set[str]) -> str:
    """A place named in the sentence: the offline gazetteer first, then "in/at <Capitalised>"."""
    if deps.geocoder is not None:
        for place in deps.geocoder.find_places(sentence):
            if place.city and re.search(r"\b" + re.escape(place.city) + r"\b", sentence):
                return place.label()
    for match in _PLACE_RE.finditer(sentence):
        words = match[1].split()
        if words[0] == "the" and len(words) > 1:
            candidate = match[1]
        else:
            candidate = " ".join(words)
        bare = candidate.removeprefix("the ")
        if bare in _NOT_PLACES or bare.lower() in names:
            continue
        return candidate
    return ""


def find_keyword(sentence: str, names: set[str]) -> str:
    """The literal keyword of a reminder: after "keyword", a quoted word, or an ALL-CAPS token."""
    for pattern in (_KEYWORD, _QUOTED):
        match = pattern.search(sentence)
        if match and match[1].lower() not in names:
            return match[1].strip()
    for token in _CAPS.findall(sentence):
        if token.lower() not in names and token not in {"OK", "AM", "PM"}:
            return token
    return ""


def extract_turn(deps: Deps, text: str, when: datetime, recent: list[Concept] | None = None,
                 extra_concepts: list[Concept] | None = None) -> TurnFacts:
    """Facts of a user turn said at ``when``. ``recent`` resolves "she"/"this person" in instructions."""
    out = TurnFacts()
    all_names = {c.name.lower() for c in deps.store.concepts.list()}
    for sentence in sentences(text):
        concepts = deps.store.concepts.named_in(sentence)
        for concept in extra_concepts or []:
            if concept.id not in {c.id for c in concepts}:
                concepts.append(concept)
        fact = Fact(sentence, concepts, question=sentence.rstrip().endswith("?"))
        fact.when = dates.parse_when(sentence, when)
        names = {c.name.lower() for c in concepts} | all_names
        fact.place = find_place(deps, sentence, names)
        instruction = bool(_REAPPEAR.search(sentence) and _INSTRUCT.search(sentence))
        # "when X phoned me" is a past event; "when X shows up again, remind me" is an instruction.
        conditional = bool(_CONDITION.search(sentence)) or (instruction and bool(re.search(r"\bwhen\b", sentence, re.I)))
        if not fact.question and not conditional:
            fact.action = find_action(sentence)
            if not _FUTURE.search(sentence) and not _NEGATED.search(sentence):
                fact.sightings = {c.id for c in concepts if sighting_pattern(c.name).search(sentence)}
        if conditional and instruction:
            targets = concepts or (list(recent or [])[:1] if _PRONOUN.search(sentence) else [])
            if targets:
                out.triggers.append(TriggerFact([c.id for c in targets], sentence, find_keyword(sentence, names)))
        if not fact.question:
            for pattern, key in _PROFILE:
                for match in pattern.finditer(sentence):
                    if key is None:
                        out.profile.append((f"favourite {match[1].lower()}", match[2].strip()))
                    else:
                        out.profile.append((key, match[1].strip()))
        out.facts.append(fact)
    keywords: list[str] = []
    for fact in out.facts:
        keywords += [c.name for c in fact.concepts]
        keywords += [fact.place] if fact.place else []
        keywords += [fact.action] if fact.action else []
    out.keywords = list(dict.fromkeys(k for k in keywords if k))
    return out
