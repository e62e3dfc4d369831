"""Scoring one answer against its gold, with the metric each task's source paper uses.

LSD: token-set F1 (CoViP) between the gold place and the places the answer
names; LAR: the gold action's words are in the answer; ITR: the literal
keyword is in the answer; REC: yes / no / can't tell read from the answer;
CAPQA: a text-only judge answers the MCQ from the caption alone (an option is
confirmed when all its words are in the caption; exactly one confirmed option
wins, else D, "none can be confirmed"); Persona MCQs: the letter, else the option the
answer states first, ignoring a line that echoes the option list.
"""

from __future__ import annotations

import re

from evaluation.tasks import MONTHS, NO_RECORDS, NONE_OPTION, Item

_UNSURE = re.compile(r"\b(?:can'?t tell|cannot tell|don'?t know|do not know|not sure|unknown|don'?t recogni[sz]e|"
                     r"do not recogni[sz]e|no record|unclear|can'?t say|not recogni[sz]ed)\b", re.I)
_YES = re.compile(r"\b(?:yes|is in (?:this|the) photo)\b", re.I)
_NO = re.compile(r"\b(?:no|not in (?:this|the) photo|isn'?t in)\b", re.I)
_LETTER = re.compile(r"\(([a-d])\)|^\s*([a-d])[).:]?\s*$|^\s*([a-d])[).:]\s", re.I | re.M)
# A line listing two or more lettered options: the model echoing the question, not choosing.
_ECHOED_OPTIONS = re.compile(r"^.*\([a-d]\).*\([a-d]\).*$", re.I | re.M)
_STOPWORDS = {"the", "a", "an", "of", "to", "in", "at", "on", "from", "and", "my", "is"}


def tokens(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def token_f1(predicted: str, gold: str) -> float:
    """Token-set F1, CoViP's LSD metric."""
    p, g = tokens(predicted), tokens(gold)
    common = len(p & g)
    if not common:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def contains(text: str, phrase: str, *, every_word: bool = False) -> bool:
    """All content words of ``phrase`` occur in ``text`` (with ``every_word``, its stopwords too)."""
    words = tokens(phrase) if every_word else (tokens(phrase) - _STOPWORDS or tokens(phrase))
    return bool(words) and words <= tokens(text)


def places_named(text: str, vocabulary: list[str]) -> str:
    """The places of ``vocabulary`` the answer names, in order: what LSD's F1 is computed on."""
    found = [(m.start(), p) for p in vocabulary for m in [re.search(rf"\b{re.escape(p)}\b", text, re.I)] if m]
    return " ".join(p for _, p in sorted(found))


def recognition_label(text: str) -> str:
    """yes | no | can't tell, from the first that the answer commits to."""
    hits = [(m.start(), label) for label, rx in (("can't tell", _UNSURE), ("yes", _YES), ("no", _NO))
            for m in [rx.search(text)] if m]
    return min(hits)[1] if hits else ""


def chosen_option(text: str, choices: tuple[str, ...]) -> str:
    """The option an answer picks: its letter if it gives one, else the option it states first.

    An echoed option list ("(a) tea (b) coffee ...") is dropped first: it names every option, so
    reading it would score whichever option happens to come first.
    """
    text = _ECHOED_OPTIONS.sub("", text)
    match = _LETTER.search(text)
    if match:
        index = "abcd".index(next(g for g in match.groups() if g).lower())
        if index < len(choices):
            return choices[index]
    stated = [(m.start(), c) for c in choices for m in [re.search(re.escape(c), text, re.I)] if m]
    return min(stated)[1] if stated else ""


def judge_caption(caption: str, choices: tuple[str, ...]) -> str:
    """CapEval-QAs judge on the caption alone; D (none can be confirmed) unless exactly one option is."""
    said = tokens(caption)
    confirmed = [c for c in choices if c != NONE_OPTION and (tokens(c) - _STOPWORDS) <= said]
    return confirmed[0] if len(confirmed) == 1 else NONE_OPTION


# "I have no photos or notes from ..." in the four languages the library tasks ask in.
_NOTHING = re.compile(r"\b(?:no (?:photos|records|notes|memories)|nothing|keine (?:fotos|notizen|einträge)|"
                      r"aucune (?:photo|note)|rien|no tengo (?:fotos|notas|nada))\b", re.I)


def names_f1(answer: str, gold: str, known_names: list[str]) -> float:
    """F1 between the known names an answer says and the gold names (comma-separated)."""
    said = {n for n in known_names if re.search(rf"\b{re.escape(n)}\b", answer)}
    wanted = {n.strip() for n in gold.split(",") if n.strip()}
    common = len(said & wanted)
    if not common:
        return 0.0
    precision, recall = common / len(said), common / len(wanted)
    return 2 * precision * recall / (precision + recall)


def states_day(answer: str, iso_day: str, lang: str) -> bool:
    """The answer names the gold day: its number and its month (in the question's language or English)."""
    year, month, day = (int(x) for x in iso_day.split("-"))
    months = {MONTHS[lang][month - 1], MONTHS["en"][month - 1]}
    number = re.search(rf"(?<!\d){day}(?:st|nd|rd|th|er|\.)?(?!\d)", answer)
    return bool(number) and any(re.search(rf"\b{re.escape(m)}\b", answer, re.I) for m in months)


def score(item: Item, answer: str, places: list[str], known_names: list[str]) -> float:
    """0..1 for one answer (for CAPQA items, ``answer`` is the caption)."""
    if item.task == "LSD":
        return round(token_f1(places_named(answer, places), item.gold), 3)
    if item.task == "LAR":
        return float(contains(answer, item.gold))
    if item.task == "ITR":
        return float(item.gold in answer)
    if item.task == "REC":
        if item.gold == "can't tell":
            # A stranger: saying so is right, naming anyone the user knows is wrong.
            named = any(re.search(rf"\b{re.escape(n)}\b", answer) for n in known_names)
            return float(not named and recognition_label(answer) == "can't tell")
        return float(recognition_label(answer) == item.gold)
    if item.task == "WINDOW":
        if item.gold == NO_RECORDS:
            named = any(re.search(rf"\b{re.escape(n)}\b", answer) for n in known_names)
            return float(not named and bool(_NOTHING.search(answer)))
        return round(names_f1(answer, item.gold, known_names), 3)
    if item.task == "PLACE":
        return float(states_day(answer, item.gold, item.extra.get("lang", "en")))
    if item.task == "FACTS":
        # The newest job, and not the old one stated as if it were still true (said first).
        new, old = item.gold, item.extra.get("old", "")
        at_new = re.search(rf"\b{re.escape(new.split()[-1])}\b", answer, re.I)
        at_old = re.search(rf"\b{re.escape(old.split()[-1])}\b", answer, re.I) if old else None
        return float(at_new is not None and (at_old is None or at_new.start() < at_old.start()))
    if item.task in ("CAPQA_GT", "CAPQA_NOISE"):
        return float(judge_caption(answer, item.choices) == item.gold)
    return float(chosen_option(answer, item.choices) == item.gold)
