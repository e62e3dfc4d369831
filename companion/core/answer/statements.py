"""Record-backed statements: what the records say that a question needs.

Each ``Statement`` carries the words that prove an answer said it; the
checker (``check``) appends what the model left out and replaces what it
contradicted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from companion.core.answer.intent import DOING_Q, PRESENCE_Q, WHERE_Q, WHO_Q
from companion.core.answer.perceive import Perception
from companion.core.answer.retrieve import Context
from companion.core.memory import dates
from companion.core.types import Reminder, tidy_place


@dataclass
class Statement:
    text: str
    must_contain: list[str] = field(default_factory=list)   # every one must appear in a good answer
    kind: str = "fact"            # fact | presence | absence | reminder | unknown | profile | none


def city(place: str) -> str:
    """The city of a place label ("Lyon, Auvergne-Rhone-Alpes, FR" -> "Lyon")."""
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
                place = tidy_place(seen.place)
                where = f" in {place}" if place else ""
                # The photo itself is shown with the answer; an internal id means nothing to the user.
                origin = " (from what you told me)" if seen.source_type == "turn" else ""
                must = [name] + ([city(place)] if place else []) + (
                    [str(seen.time.year)] if seen.time else [])
                out.append(Statement(f"You last saw {name} on {dates.describe(seen.time)}{where}{origin}.", must))
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


def structured_answer(items: list[Statement]) -> str:
    return " ".join(s.text for s in items)
