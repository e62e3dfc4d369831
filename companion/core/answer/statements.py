"""Record-backed statements: what the records say that the question asked, in the question's language.

Each ``Statement`` carries what proves an answer said it (words, or a day
checked by date); the checker (``check``) appends what the model left out and
replaces what it contradicted. Only what the plan asks gets a statement: a
question about what Anna does never gets a "you last saw Anna" sentence, and a
question about something that happened gets what was said about it
(``extractive``), never a record query's sentence. Sentences come from the
language tables' ``[answer]`` section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from companion.core.answer import extractive
from companion.core.answer.evidence import Evidence
from companion.core.answer.perceive import Perception
from companion.core.answer.records import PEOPLE as MAX_PEOPLE  # "who did I see?": everyone, within reason
from companion.core.answer.records import Records
from companion.core.answer.retrieve import ConceptContext
from companion.core.answer.understand import Plan
from companion.core.language import Language
from companion.core.memory import dates
from companion.core.store.observations import Sighting
from companion.core.types import city, tidy_place

MAX_ITEMS = 5        # dated items (places, things done) in one sentence


StatementKind = Literal["fact", "presence", "absence", "reminder", "unknown", "profile", "facts", "norecords",
                        "none", "said", "not_about"]


@dataclass
class Statement:
    text: str
    must_contain: list[str] = field(default_factory=list)   # every one must appear in a good answer
    kind: StatementKind = "fact"    # "said": from what was said; "not_about": only someone else did that
    day: datetime | None = None                             # a day the answer must state (any wording)
    any_of: list[str] = field(default_factory=list)         # at least one must appear


def _first_lower(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def statements(plan: Plan, evidence: Evidence, perception: Perception, *, has_photo: bool) -> list[Statement]:
    """What the records say that this question needs, each with what proves it was said."""
    lang = plan.language
    profile = _profile(plan, evidence, lang)
    out = _presence(plan, perception, has_photo) + _asked(plan, evidence, has_photo, answered=bool(profile))
    out += profile
    for reminder in evidence.reminders:
        out.append(Statement(reminder.text() + ".", [reminder.keyword or reminder.instruction], "reminder"))
    faces_named = any(r.source == "face" for r in perception.recognized)
    if perception.unknown_faces and not faces_named:
        out.append(Statement(lang.text("unknown_person"), [], "unknown", any_of=_unknown_words(lang)))
    elif perception.unknown_faces:
        n = perception.unknown_faces
        out.append(Statement(lang.text("unknown_also", unknown=lang.plural("unknown_also", n)), [], "unknown",
                             any_of=_unknown_words(lang)))
    if not out:
        out.append(Statement(lang.text("nothing"), [], "none"))
    return out


def _asked(plan: Plan, evidence: Evidence, has_photo: bool, *, answered: bool) -> list[Statement]:
    """What was said (a question about something that happened), or the record queries' sentences."""
    if plan.event:
        return [] if answered else _from_what_was_said(evidence, plan.language)
    if plan.window is not None or plan.place is not None:
        return _window_or_place(plan, evidence.records, plan.language)
    if "presence" in plan.asks:
        return []
    by_id = {item.concept.id: item for item in evidence.context.concepts}
    return [s for person in plan.people if person.concept_id in by_id
            for s in _about(plan, by_id[person.concept_id], evidence.records, plan.language, has_photo)]


def _profile(plan: Plan, evidence: Evidence, lang: Language) -> list[Statement]:
    """The user's profile facts the question names ("my favourite food"), with how they changed."""
    out = []
    for key, values in evidence.context.profile.items():
        if re.search(r"\b" + re.escape(key) + r"\b", plan.question, re.I):
            value, when, _ = values[0]
            text = lang.text("profile", key=key, value=value)
            if len(values) > 1 and values[1][0].lower() != value.lower():
                text += lang.text("profile_changed", date=dates.describe(when, lang), old=values[1][0])
            out.append(Statement(text + ".", [value], "profile"))
    return out


def _from_what_was_said(evidence: Evidence, lang: Language) -> list[Statement]:
    """A question about something that happened: its date, the sentence that answers, or not knowing it of them."""
    plan = evidence.plan
    other = extractive.about_someone_else(evidence, evidence.people)
    if other is not None:
        name = next(p.name for p in plan.people if p.category in ("person", "pet"))
        text = lang.text("dont_know_about", name=name) + lang.text("known_instead", text=extractive.quote(other, lang))
        return [Statement(text, [], "not_about", any_of=_dont_know_words(lang))]
    people = [p.name for p in plan.people if p.category in ("person", "pet")]
    found = (extractive.best(evidence, people[0], evidence.people) if len(people) == 1 else None) or \
        extractive.best(evidence, None)
    if found is None:
        return []
    if "when" in plan.asks:
        when = extractive.when(found, lang)
        return [Statement(when[:1].upper() + when[1:] + ".", [], "said")]
    return [Statement(extractive.quote(found, lang), [], "said")]


def _dont_know_words(lang: Language) -> list[str]:
    """Words that show an answer says it does not know (the English ones always count)."""
    return list(dict.fromkeys([*lang.words("answer", "dont_know_cues"), "don't know", "do not know", "no record"]))


def _unknown_words(lang: Language) -> list[str]:
    """Words that show an answer admits not knowing someone (the English ones always count)."""
    return list(dict.fromkeys([*lang.words("answer", "unknown_cues"), "don't know who", "recogni"]))


# ---- about one person -------------------------------------------------------------------


def _about(plan: Plan, item: ConceptContext, records: Records, lang: Language, has_photo: bool) -> list[Statement]:
    asks, name = set(plan.asks), item.concept.name
    in_photo = item.recognized.source in ("face", "clip")
    out: list[Statement] = []
    # "Who is this?" names the person in the photo even when the question also asks about someone else.
    identify = has_photo and in_photo and ("who" in asks or asks <= {"facts", "yesno"})
    if identify:
        info = f" ({item.concept.info.rstrip('.')})" if item.concept.info else ""
        out.append(Statement(lang.text("this_is", name=name, info=info), [name]))
    if "doing" in asks:
        out.append(_last_action(item, lang))
    out += _where_and_when(plan, item, records, lang, identify)
    if ("facts" in asks and not identify) or (not asks and not in_photo):
        out.append(_facts(item, records, lang))
    if "count" in asks:
        out.append(Statement(lang.text("count_photos", photos=lang.plural("photos", records.photo_count),
                                       of=lang.text("count_of", name=name), where="", window=""),
                             [str(records.photo_count)]))
    return out


def _where_and_when(plan: Plan, item: ConceptContext, records: Records, lang: Language,
                    identify: bool) -> list[Statement]:
    """The last sighting ("where / when did I last see her?", "who is this?"), or the places seen together."""
    asks = set(plan.asks)
    # Without a sighting, "This is Bob." already says all there is ("This is Bob, but I have no record..."
    # would name him twice).
    said_all = identify and item.last_seen is None
    if not said_all and (identify or asks & {"when", "yesno"} or ("where" in asks and plan.last)):
        return [_last_seen(item, lang)]
    if "where" in asks:
        return [_places(item.concept.name, records, lang)]
    return []


def _last_seen(item: ConceptContext, lang: Language) -> Statement:
    name, seen = item.concept.name, item.last_seen
    if seen is None:
        key = "no_sighting" if item.recognized.source in ("face", "clip") else "never_seen"
        return Statement(lang.text(key, name=name), [name])
    place = tidy_place(seen.place)
    where = lang.text("where", place=place) if place else ""
    # The photo itself is shown with the answer; an internal id or "a photo" adds nothing there.
    origin = lang.text("origin_turn") if seen.source_type == "turn" else ""
    must = [name] + ([city(place)] if place else [])
    return Statement(lang.text("last_seen", name=name, date=dates.describe(seen.time, lang), where=where,
                               origin=origin), must, day=seen.time)


def _last_action(item: ConceptContext, lang: Language) -> Statement:
    name, act = item.concept.name, item.last_action
    if act is None:
        return Statement(lang.text("no_action", name=name), [name])
    action = _first_lower(act.action)
    first = action.split()[0].lower() if action else ""
    doing = lang.text("doing_ing" if first.endswith("ing") else "doing_other", action=action)
    return Statement(lang.text("last_told", name=name, date=dates.describe(act.time, lang), doing=doing,
                               action=action), [action])


def _places(name: str, records: Records, lang: Language) -> Statement:
    places = records.places.get(name) or []
    if not places:
        return Statement(lang.text("person_no_places", name=name), [name])
    items = [lang.text("item", what=city(p.place), when=dates.short(p.last, lang) + f" {p.last.year}")
             if p.last else city(p.place) for p in places[:MAX_ITEMS]]
    return Statement(lang.text("person_places", name=name, places=lang.join(items)),
                     [city(places[0].place)])


def _facts(item: ConceptContext, records: Records, lang: Language) -> Statement:
    name = item.concept.name
    facts = records.facts.get(name) or []
    items = [item.concept.info.rstrip(".")] if item.concept.info else []
    items += [lang.text("item", what=m.content.rstrip("."), when=dates.describe(m.time, lang)) for m in facts]
    if not items:
        return Statement(lang.text("no_facts", name=name), [name], "facts")
    top = facts[0].content if facts else item.concept.info
    words = [w for w in re.findall(r"[^\W\d_]{4,}", top) if w.lower() != name.lower()]
    return Statement(lang.text("facts", name=name, items="; ".join(items)), [], "facts", any_of=words)


# ---- a time window and/or a place -------------------------------------------------------


def _when(moment: datetime | None, lang: Language) -> str:
    return dates.short(moment, lang) if moment else ""


def _person_item(name: str, time: datetime | None, place: str, lang: Language) -> str:
    when = ", ".join(x for x in (_when(time, lang), city(place)) if x)
    return lang.text("item", what=name, when=when) if when else name


def _window_or_place(plan: Plan, records: Records, lang: Language) -> list[Statement]:
    window = plan.window.label(lang) if plan.window else ""
    place = plan.place_text or (plan.place.label() if plan.place else "")
    if records.empty():
        if place:
            key, label = "place_nothing", place + (f" ({window})" if window else "")
        else:
            key, label = "window_nothing", window
        return [Statement(lang.text(key, window=label, place=label), [], "norecords")]
    return _who_in_scope(plan, records, lang, window, place) + _more_in_scope(plan, records, lang, window, place)


def _who_in_scope(plan: Plan, records: Records, lang: Language, window: str, place: str) -> list[Statement]:
    """Whom the user was with in the window or at the place (or, for "when", the last time there)."""
    asks = set(plan.asks)
    named = [p.name for p in plan.people] if plan.people and not plan.anyone else []
    if named and window and not place:
        return [_with_in_window(name, window, records, lang) for name in named]
    if place:
        return _at_place(plan, records, lang, place)
    if "who" in asks or plan.anyone or not asks & {"doing", "where", "count"}:
        return [_people_in_window(window, records.people(), records, lang)]
    return []


def _at_place(plan: Plan, records: Records, lang: Language, place: str) -> list[Statement]:
    asks = set(plan.asks)
    if "when" in asks or (plan.last and not asks & {"who", "doing", "count"}):
        return [_last_at_place(place, records, lang)]
    if asks & {"who", "yesno"} or plan.anyone or not asks:
        return [_people_at_place(plan, place, records.people(), records, lang)]
    return []


def _more_in_scope(plan: Plan, records: Records, lang: Language, window: str, place: str) -> list[Statement]:
    """What the user did, where they were and how many photos, in the window or at the place."""
    out: list[Statement] = []
    if "doing" in plan.asks:
        out.append(_doings(window or place, records, lang, in_window=bool(window)))
    if "where" in plan.asks and not place:
        out.append(_places_in_window(window, records, lang))
    if "count" in plan.asks:
        where = lang.text("count_where", place=place) if place else ""
        when = lang.text("count_window", window=window) if window else ""
        photos = lang.plural("photos", records.photo_count)
        out.append(Statement(lang.text("count_photos", photos=photos, of="", where=where, window=when),
                             [str(records.photo_count)]))
    return out


def _people_in_window(window: str, people: dict[str, Sighting], records: Records, lang: Language) -> Statement:
    if not people:
        where = ""
        return Statement(lang.text("window_photos_only", window=window, photos=lang.plural("photos",
                                                                                         records.photo_count),
                                   where=where),
                         [str(records.photo_count)])
    items = [_person_item(name, seen.time, seen.place, lang) for name, seen in list(people.items())[:MAX_PEOPLE]]
    return Statement(lang.text("window_people", window=window, people=lang.join(items)),
                     list(people)[:MAX_PEOPLE])


def _with_in_window(name: str, window: str, records: Records, lang: Language) -> Statement:
    seen = [s for s in records.sightings if s.name == name and s.kind == "sighting"]
    items = [", ".join(x for x in (_when(s.time, lang), city(s.place), _first_lower(s.action)) if x)
             for s in seen[:MAX_ITEMS]]
    if not items:
        items = [lang.text("item", what=m.content.rstrip("."), when=_when(m.time, lang))
                 for m in records.memories[:MAX_ITEMS]]
    if not items:
        return Statement(lang.text("window_not_with", name=name, window=window), [name])
    return Statement(lang.text("window_with", window=window, name=name, items="; ".join(items)), [name])


def _last_at_place(place: str, records: Records, lang: Language) -> Statement:
    latest = records.latest()
    assert latest is not None
    time, _, others, _, _ = latest
    with_whom = lang.text("place_with", people=lang.join(others)) if others else ""
    return Statement(lang.text("place_last", place=place, date=dates.describe(time, lang), with_whom=with_whom),
                     [*others], day=time)


def _people_at_place(plan: Plan, place: str, people: dict[str, Sighting], records: Records,
                     lang: Language) -> Statement:
    yes = "yesno" in plan.asks
    if not people:
        latest = records.latest()
        time = latest[0] if latest else None
        text = lang.text("place_alone", place=place, date=dates.describe(time, lang))
        return Statement((lang.text("yes") + " " if yes else "") + text, [], day=time)
    items = [lang.text("item", what=name, when=dates.describe(seen.time, lang))
             for name, seen in list(people.items())[:MAX_PEOPLE]]
    text = lang.text("place_people", place=place, people=lang.join(items))
    return Statement((lang.text("yes") + " " if yes else "") + text, list(people)[:MAX_PEOPLE])


def _doings(label: str, records: Records, lang: Language, *, in_window: bool = True) -> Statement:
    if not records.memories and not records.sightings and records.photos:
        return _from_photos(label, records, lang, in_window)     # photos, no notes: say what the photos show
    items = []
    for memory in records.memories[:MAX_ITEMS]:
        what = _first_lower(memory.action) if memory.action else memory.content.rstrip(".")
        if memory.action and memory.place and city(memory.place).lower() not in what.lower():
            what += lang.text("where", place=city(memory.place))
        items.append(lang.text("item", what=what, when=_when(memory.time, lang)))
    if not items:
        items = [_person_item(s.name, s.time, s.place, lang) for s in records.sightings[:MAX_ITEMS]]
    must = [_first_lower(records.memories[0].action)] if records.memories and records.memories[0].action else []
    return Statement(lang.text("window_did", window=label, items="; ".join(items)), must)


def _photo_days(times: list[datetime], lang: Language, in_window: bool) -> list[str]:
    """The distinct days photos were taken, the year added when the window spans years (or there is none)."""
    one_year = in_window and len({t.year for t in times}) == 1
    days = list(dict.fromkeys(dates.short(t, lang) + ("" if one_year else f" {t.year}") for t in times))
    return days[:MAX_ITEMS] if len(days) <= MAX_ITEMS else [*days[:MAX_ITEMS - 1], days[-1]]


def _from_photos(label: str, records: Records, lang: Language, in_window: bool) -> Statement:
    """"In October 2008 you were in Arezzo: 9 photos, 22 October": where and on which days the photos were taken."""
    taken = sorted(((p.taken_at, p) for p in records.photos if p.taken_at is not None), key=lambda pair: pair[0])
    times = [t for t, _ in taken]
    shown = _photo_days(times, lang, in_window)
    cities = list(dict.fromkeys(city(p.place.label()) for _, p in taken if p.place and p.place.label()))
    n = records.photo_count or len(records.photos)
    photos, days, last = lang.plural("photos", n), lang.join(shown), times[-1] if times else None
    if in_window and cities:
        return Statement(lang.text("window_photos", window=label, places=lang.join(cities[:MAX_ITEMS]), photos=photos,
                                   days=days), [cities[0]], day=last)
    return Statement(lang.text("window_photos_days", window=label, photos=photos, days=days), [str(n)], day=last)


def _places_in_window(window: str, records: Records, lang: Language) -> Statement:
    seen: dict[str, datetime | None] = {}
    rows = [(s.place, s.time) for s in records.sightings if s.kind == "sighting"]
    rows += [(p.place.label() if p.place else "", p.taken_at) for p in records.photos]
    rows += [(m.place, m.time) for m in records.memories]
    for label, time in sorted(rows, key=lambda r: r[1].timestamp() if r[1] else 0.0):
        if label:
            seen[city(label)] = time
    items = [lang.text("item", what=name, when=_when(time, lang)) for name, time in list(seen.items())[-MAX_ITEMS:]]
    return Statement(lang.text("window_places", window=window, places=lang.join(items)), list(seen)[-1:])


def _presence(plan: Plan, perception: Perception, has_photo: bool) -> list[Statement]:
    """Yes or no for each known concept the question asks about, from what was recognised in the photo."""
    if not has_photo or "presence" not in plan.asks:
        return []
    lang = plan.language
    in_photo = {r.name for r in perception.recognized if r.source in ("face", "clip")}
    asked = dict.fromkeys(r.name for r in perception.recognized
                          if r.source == "text" or re.search(r"\b" + re.escape(r.name) + r"\b", plan.question, re.I))
    return [Statement(lang.text("presence_yes", name=name), [name], "presence") if name in in_photo
            else Statement(lang.text("presence_no", name=name), [name], "absence") for name in asked]


def structured_answer(items: list[Statement]) -> str:
    return " ".join(s.text for s in items)
