"""Answers from what was said, without a model: the event's date, the sentence that answers, or "I don't know".

For a question about something that happened (``Plan.event``), the evidence's best items
are read sentence by sentence: the sentence sharing most of the question's topic words,
among those by or about the person asked about, answers. "When ..." answers with its
date: the time phrase it holds, resolved against when it was said ("yesterday" said on
8 May 2023 is 7 May 2023; "last week" said on 9 June is the week before 9 June, "last weekend" the
weekend before it, "last Friday" that Friday with its weekday), else
the day it was said. When the topic is only found in what someone else said or did
("What did Caroline realize after her charity race?" where the race was Melanie's), the
answer is "I don't know that about Caroline", with what is known.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from companion.core import language
from companion.core.answer.evidence import Evidence, Item
from companion.core.memory import dates, speakers
from companion.core.memory.extract import sentences

READ = 12            # best items read for an answer
STEM = 5             # letters compared: "researching" ~ "research", "adoption" ~ "adopting"
OTHERS_AT_LEAST = 0.3    # someone else's sentence must hold this (weighted) share of the topic...
MARGIN = 0.1             # ...and this much more of it than the person's own best sentence
COUNTED = 0.5            # "how many": a sentence with a number first


@dataclass(frozen=True)
class Found:
    """The sentence that answers, where it comes from, and what share of the topic it holds."""

    sentence: str
    item: Item
    match: float


def match(text: str, topic: tuple[str, ...], weights: dict[str, float] | None = None) -> float:
    """Share of the topic's words (compared by their first letters) in ``text``, each word weighted by how
    telling it is (``Evidence.weights``; equal without)."""
    if not topic:
        return 0.0
    have = {w.split("'")[0][:STEM] for w in language.words_of(text)}
    weight = {w[:STEM]: (weights or {}).get(w, 1.0) for w in topic}
    return sum(v for w, v in weight.items() if w in have) / sum(weight.values())


@cache
def _number_words() -> frozenset[str]:
    return frozenset(str(w).lower() for lang in language.all_languages()
                     for w in (lang.own("time", "numbers", {}) or {}) if len(str(w)) > 2)


def has_number(sentence: str) -> bool:
    return bool(re.search(r"\d", sentence)) or bool(_number_words() & set(language.words_of(sentence)))


def best(evidence: Evidence, person: str | None, people: list[str] | None = None) -> Found | None:
    """The best sentence about ``person`` (anyone when None) among the best items; for "how many", one that
    holds a number."""
    topic, counting = evidence.plan.topic, evidence.plan.counting
    found: Found | None = None
    for rank, item in enumerate(evidence.ranked[:READ]):
        for sentence in sentences(item.text):
            if person is not None and person not in _about(sentence, item, people or [person]):
                continue
            share = match(sentence, topic, evidence.weights) - rank * 0.01     # ties: the better ranked item
            share += COUNTED if counting and has_number(sentence) else 0.0
            if found is None or share > found.match:
                found = Found(sentence, item, share)
    return found


def _about(sentence: str, item: Item, people: list[str]) -> set[str]:
    """Whom a sentence of an item is about (the user's own memory: its subject)."""
    if item.kind == "memory" and not item.speaker:
        return {item.subject} if item.subject else set()
    return speakers.about(sentence, item.speaker, people)


def about_someone_else(evidence: Evidence, people: list[str]) -> Found | None:
    """What someone else said or did that the question asks of the person it names, when only they did.

    The question is searched again without the person's name (``Evidence.neutral``): when a sentence about
    someone else holds clearly more of its topic (its telling words weighted most) than anything about
    the person ("What did Caroline realize after her charity race?" when the race was Melanie's, and
    Caroline only said "That charity race sounds great, Mel!"), the person is not known to have done it.
    """
    plan = evidence.plan
    asked = [p.name for p in plan.people if p.category in ("person", "pet")]
    if len(asked) != 1 or not plan.topic:
        return None
    own = best(evidence, asked[0], people)
    other: Found | None = None
    for item in evidence.neutral[:READ]:
        for sentence in sentences(item.text):
            whom = _about(sentence, item, people)
            share = match(sentence, plan.topic, evidence.weights)
            if whom and asked[0] not in whom and (other is None or share > other.match):
                other = Found(sentence, item, share)
    if other is None or other.match < OTHERS_AT_LEAST:
        return None
    return other if other.match - (own.match if own is not None else 0.0) >= MARGIN else None


def when(found: Found, lang: language.Language) -> str:
    """The date of what a sentence tells: its relative phrase resolved, else the day it was said."""
    said = found.item.said
    if said is None:
        return dates.describe(None, lang)
    phrases = dates.relative_phrases(found.sentence, said, lang)
    if phrases:
        return phrases[0].describe(lang)
    absolute = dates.find_windows(found.sentence, said, lang)
    if absolute:
        return absolute[0][0].label(lang)
    return f"{dates.short(said, lang)} {said.year}"


def quote(found: Found, lang: language.Language) -> str:
    """The answering sentence with who said it and when."""
    item = found.item
    who = item.speaker or lang.text("you_said")
    when_said = f"{dates.short(item.said, lang)} {item.said.year}" if item.said else ""
    text = re.sub(r"\s+", " ", found.sentence).strip()
    return lang.text("quote", text=text, who=who, date=when_said)
