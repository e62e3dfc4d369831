"""Record-backed statements and the answer checker.

The model writes the prose; these functions make sure it states what the
records say (last sighting, last action, fired reminders, "I don't know who
this is") and contradicts none of it. A missing fact is appended; a
contradicting answer (a wrong name or a place the records do not support) is
replaced by the structured answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from companion.core import dates
from companion.core.perception import Perception
from companion.core.retrieval import Context

WHERE_Q = re.compile(r"\bwhere\b.*\b(?:see|seen|saw|last|meet|met)\b|\blast seen\b", re.I)
DOING_Q = re.compile(r"\bwhat\b.*\b(?:doing|did I do|was I up to)\b", re.I)
# "Is Anna in this photo?", "Do you see Rex here?": answered by perception, never by the card that
# naming Anna pulls into the context.
PRESENCE_Q = re.compile(r"\b(?:is|are)\b.*\b(?:in|on)\s+(?:this|the)\s+(?:photo|picture|image|pic|shot)\b"
                        r"|\b(?:do|can) you see\b", re.I)
WHO_Q = re.compile(r"\bwho(?:'s| is| are)\b", re.I)
_LEADING_YES_NO = re.compile(r"^\W*(yes|no)\b", re.I)


@dataclass
class Statement:
    text: str
    must_contain: list[str] = field(default_factory=list)   # every one must appear in a good answer
    kind: str = "fact"            # fact | presence | absence | reminder | unknown | profile | none


@dataclass
class Reminder:
    name: str
    instruction: str
    keyword: str
    trigger_id: int

    def text(self) -> str:
        tag = f" [{self.keyword}]" if self.keyword else ""
        return f"Reminder about {self.name}{tag}: {self.instruction}"


def _city(place: str) -> str:
    return place.split(",")[0].strip()


def _doing(action: str) -> str:
    first = action.split()[0].lower() if action else ""
    return f"you were {action}" if first.endswith("ing") else f"you {action}"


def statements(question: str, context: Context, perception: Perception, reminders: list[Reminder], *,
               has_photo: bool | None = None) -> list[Statement]:
    """What the records say that this question needs, each with the words that prove it was said.

    ``has_photo`` says a photo came with the question (default: perception has a photo path).
    """
    out = _presence(question, perception, perception.photo_path is not None if has_photo is None else has_photo)
    asks_where, asks_doing = bool(WHERE_Q.search(question)), bool(DOING_Q.search(question))
    if not asks_where and not asks_doing and not out and context.concepts:
        asks_where = True   # a bare photo question: say who it is and when they were last seen
    asks_who = bool(WHO_Q.search(question))
    for item in context.concepts:
        name = item.concept.name
        if asks_who and item.recognized.source in ("face", "clip"):
            info = f" ({item.concept.info.rstrip('.')})" if item.concept.info else ""
            out.append(Statement(f"This is {name}{info}.", [name]))
        if asks_where:
            seen = item.last_seen
            if seen is not None:
                where = f" in {seen.place}" if seen.place else ""
                origin = f"photo {seen.source_id}" if seen.source_type == "photo" else "what you told me"
                must = [name] + ([_city(seen.place)] if seen.place else []) + (
                    [str(seen.time.year)] if seen.time else [])
                out.append(Statement(f"You last saw {name} on {dates.describe(seen.time)}{where} ({origin}).", must))
            else:
                out.append(Statement(f"This is {name}, but I have no record of where you last saw them.", [name]))
        if asks_doing:
            act = item.last_action
            if act is not None:
                out.append(Statement(f"The last time you told me about {name} ({dates.describe(act.time)}), "
                                     f"{_doing(act.action)}.", [act.action]))
            else:
                out.append(Statement(f"You haven't told me what you were doing with {name}.", [name]))
    for key, values in context.profile.items():
        if re.search(r"\b" + re.escape(key) + r"\b", question, re.I):
            value, when, _ = values[0]
            text = f"Your {key} is {value}"
            if len(values) > 1 and values[1][0].lower() != value.lower():
                text += f" (it changed on {dates.describe(when)}; before that it was {values[1][0]})"
            out.append(Statement(text + ".", [value], "profile"))
    for reminder in reminders:
        out.append(Statement(reminder.text() + ".", [reminder.keyword or reminder.instruction], "reminder"))
    faces_named = any(r.source == "face" for r in perception.recognized)
    if perception.unknown_faces and not faces_named:
        out.append(Statement("I don't know who this is. Tell me their name and I'll remember them.",
                             ["don't know who"], "unknown"))
    elif perception.unknown_faces:
        out.append(Statement(f"There {'is' if perception.unknown_faces == 1 else 'are'} also "
                             f"{perception.unknown_faces} person(s) I don't recognize; tell me who they are and "
                             "I'll remember them.", ["recogni"], "unknown"))
    if not out:
        out.append(Statement("I don't have any memories about that yet.", [], "none"))
    return out


def _presence(question: str, perception: Perception, has_photo: bool) -> list[Statement]:
    """Yes or no for each known concept the question asks about, from what was recognised in the photo."""
    if not has_photo or not PRESENCE_Q.search(question):
        return []
    in_photo = {r.name for r in perception.recognized if r.source in ("face", "clip")}
    # Named in the question: text matches, plus recognised concepts the question names (those are
    # not repeated as text matches).
    asked = dict.fromkeys(r.name for r in perception.recognized
                          if r.source == "text" or re.search(r"\b" + re.escape(r.name) + r"\b", question, re.I))
    return [Statement(f"Yes, {name} is in this photo.", [name], "presence") if name in in_photo
            else Statement(f"No, I don't see {name} in this photo.", [name], "absence") for name in asked]


def _contradicts_presence(answer: str, items: list[Statement]) -> bool:
    """A yes/no question must open with the right word; with several names, the records answer."""
    asked = [s for s in items if s.kind in ("presence", "absence")]
    if not asked:
        return False
    opening = _LEADING_YES_NO.match(answer)
    want = "yes" if asked[0].kind == "presence" else "no"
    return len(asked) > 1 or opening is None or opening.group(1).lower() != want


def structured_answer(items: list[Statement]) -> str:
    return " ".join(s.text for s in items)


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
        ok = {_city(p).lower() for p in allowed_places or [] if p}
        for place in geocoder.find_places(answer):
            if place.city and place.city.lower() not in ok and re.search(r"\b" + re.escape(place.city) + r"\b", answer):
                return structured, structured, True
    missing = [s for s in items if s.kind != "none" and not all(_contains(answer, w) for w in s.must_contain)]
    if not missing:
        return answer, "", False
    fix = " ".join(s.text for s in missing)
    return answer.rstrip() + ("\n" if answer.strip() else "") + fix, fix, False
