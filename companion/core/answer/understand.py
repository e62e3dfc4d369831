"""Question understanding, one pass per question: who, when, where, and what is asked -> a ``Plan``.

The deterministic reading comes from the language tables (``core/language``):
the people (recognised in the photo, named, or "she"/"the one in this photo"
with a photo), a time window (``dates.find_window``: "in June", "last summer",
"vor zwei Wochen"), a place (the offline gazetteer, through the ``Geocoder``
protocol, after the language's local names: "Wien" -> Vienna) and what is
asked (where / when / who / doing / facts / yesno / count / presence).

Understanding fails safe: an unknown shape, or a question about something
that happened ("when did Jon lose his job?"), is answered from what retrieval
finds (``Plan.event``); record queries answer the questions that ask for a
record. A place needs a place reading (after a locative, not a possessive, not a
known name) and the gazetteer or the records to know it; "how many" counts photos
only when the question names photos.

With a chat model, a grammar-constrained JSON plan (``PLAN_SCHEMA``) is asked
for when the rules understood too little (no kind of question found); it is read
once into ``ModelPlan`` and fills only what the rules left empty, and only when
grounded (a place must be named in the question and read as one; a person must be
a known concept named in the question; a window must be named by the question's
words). The plan goes into the prompt and into ``companion ask --json``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from companion.core import language, model_json
from companion.core.answer.perceive import Perception, Recognized
from companion.core.deps import Deps
from companion.core.language import Language
from companion.core.memory import dates, places
from companion.core.memory.dates import Window
from companion.core.prompts import data_block, render_prompt
from companion.core.protocols import ChatMessage, GenerationRequest, complete
from companion.core.store.places import PlaceFilter
from companion.core.types import Concept

ASKS = ("where", "when", "who", "doing", "facts", "yesno", "count", "presence")
PLAN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "people": {"type": "array", "items": {"type": "string"}, "maxItems": 4},
        "start": {"type": "string"},
        "end": {"type": "string"},
        "place": {"type": "string"},
        "asks": {"type": "array", "items": {"type": "string", "enum": list(ASKS)}, "maxItems": 3},
    },
    "required": ["people", "start", "end", "place", "asks"],
}


@dataclass
class Plan:
    """What a question asks, about whom, when and where."""

    question: str
    language: Language
    asks: list[str] = field(default_factory=list)
    people: list[Recognized] = field(default_factory=list)   # the concepts the question is about
    anyone: bool = False           # "with anyone?", "who?": the people are the answer
    last: bool = False             # "last see", "zuletzt", "dernière fois": the latest record wins
    window: Window | None = None
    place: PlaceFilter | None = None
    place_text: str = ""           # the place as the user wrote it ("Wien")
    deictic: bool = False          # "she", "the one in this photo": the photo's people
    source: Literal["rules", "rules+model"] = "rules"
    topic: tuple[str, ...] = ()    # what the question is about beyond who, when and where ("support", "group")
    event: bool = False            # answered from what was said ("when did Jon lose his job?"), not a record query
    counting: bool = False         # "how many children ...": the answer holds a number

    def to_json(self) -> dict[str, Any]:
        return {"language": self.language.code, "asks": list(self.asks),
                "people": [p.name for p in self.people], "anyone": self.anyone, "last": self.last,
                "window": ({**self.window.to_json(), "label": self.window.label(self.language)}
                           if self.window else None),
                "place": self.place.label() if self.place else None, "source": self.source,
                "topic": list(self.topic), "event": self.event}

    def prompt_line(self) -> str:
        """The plan as one line of the answer prompt."""
        parts = [f"asks: {', '.join(self.asks) or 'unclear'}"]
        if self.people:
            parts.append("about: " + ", ".join(p.name for p in self.people))
        if self.window:
            parts.append(f"time: {self.window.label(self.language)} ({self.window.start.date().isoformat()} .. "
                         f"{(self.window.end - timedelta(days=1)).date().isoformat()})")
        if self.place:
            parts.append(f"place: {self.place.label()}")
        if self.topic:
            parts.append("topic: " + " ".join(self.topic))
        parts.append(f"answer in: {self.language.name}")
        return "; ".join(parts)


def understand(deps: Deps, question: str, perception: Perception, *, now: datetime | None = None,
               has_photo: bool = False, use_model: bool | None = None,
               cancel: threading.Event | None = None) -> Plan:
    """The plan of ``question``: the rules' reading, completed by the model's when they found no kind.

    ``use_model``: None asks the model only when the rules found no kind of question; True always
    (when there is a model); False never.
    """
    now = now or datetime.now().astimezone()
    plan = rules(deps, question, perception, now=now, has_photo=has_photo)
    wanted = deps.model is not None and (use_model or (use_model is None and not plan.asks))
    if wanted:
        merge(deps, plan, model_plan(deps, question, now, cancel), now)
    return plan


def rules(deps: Deps, question: str, perception: Perception, *, now: datetime, has_photo: bool) -> Plan:
    """The deterministic reading of a question, from the language tables.

    It fails safe: a question whose shape the tables do not know, or one about something that
    happened ("when did Jon lose his job?", "what did Caroline research?"), is answered from
    what was said (``event``); the record queries (last seen, a window, a place, a count of
    photos) answer the questions that ask for them.
    """
    lang = language.detect(question)
    plan = Plan(question, lang)

    def says(key: str) -> bool:
        return lang.says("question", key, question)

    plan.asks, plan.counting = _asks(says, has_photo)
    plan.last = says("sighting")
    plan.anyone = says("anyone") or ("who" in plan.asks and "facts" not in plan.asks)
    plan.deictic = has_photo and says("pronouns")
    plan.people = _people(deps, question, perception, plan)
    names = {n.lower() for n in deps.store.concepts.names()}
    plan.window = dates.find_window(question, now, lang)
    plan.place, plan.place_text = find_place(deps, question, lang, names)
    plan.topic = topic(question, plan, names)
    plan.event = _event(plan, says("self") or plan.deictic)
    return plan


def _asks(says: Callable[[str], bool], has_photo: bool) -> tuple[list[str], bool]:
    """What is asked, and whether "how many" counts something said (not photos)."""
    asks = [kind for kind in ("where", "when", "who", "doing", "facts", "yesno", "count") if says(kind)]
    if has_photo and says("presence"):
        asks.insert(0, "presence")
    counting = "count" in asks and not says("photos")
    if counting:   # "how many children ...": counted from what was said
        asks.remove("count")
    # "Where does Anna work?" is a fact; "where did I last see her?" a sighting.
    if "facts" in asks and not says("sighting") and "doing" not in asks:
        asks = [a for a in asks if a not in ("where", "who", "when")]
    if "doing" in asks and "facts" in asks:
        asks.remove("facts")
    return asks, counting


def topic(question: str, plan: Plan, names: set[str]) -> tuple[str, ...]:
    """The question's own words beyond its kind, its people, its time and its place."""
    lang = plan.language
    text = question
    for key in ("where", "when", "who", "doing", "facts", "count", "photos", "sighting", "anyone", "presence"):
        text = lang.pattern("question", key).sub(" ", text)
    skip = {w.lower() for w in lang.words("", "stopwords")} | set(lang.words("", "markers")) | names
    skip |= {w for p in plan.people for w in language.words_of(p.name)}
    skip |= set(language.words_of(plan.place_text)) | set(language.words_of(plan.window.text if plan.window else ""))
    words = [w.split("'")[0] for w in language.words_of(text)]
    return tuple(dict.fromkeys(w for w in words if w not in skip and len(w) > 1))


def _event(plan: Plan, about_self: bool) -> bool:
    """Whether the answer comes from what was said rather than from a record query.

    Record questions name no topic ("where did I last see Anna?", "what does Anna do?") or are the
    user's own questions about a record ("who did I see in June?", "when was I last in Vienna?").
    """
    if not plan.asks:
        return True                    # an unknown shape: retrieve and answer
    record = {"presence", "count"} & set(plan.asks) or plan.window is not None or plan.place is not None
    if not plan.topic:
        return False
    return not (about_self and (record or plan.last or "doing" in plan.asks))


def _known(deps: Deps) -> list[Concept]:
    return deps.store.concepts.list()


def _named(deps: Deps, question: str, perception: Perception) -> dict[int, Recognized]:
    """The concepts the question names (those perception already took from the text first)."""
    people = {r.concept_id: r for r in perception.recognized if r.source == "text"}
    for c in deps.store.concepts.named_in(question):
        people.setdefault(c.id, Recognized(c.id, c.name, c.category, 1.0, "text"))
    return people


def _people(deps: Deps, question: str, perception: Perception, plan: Plan) -> list[Recognized]:
    """Named concepts, plus the photo's when the question points at it (or names no one)."""
    in_photo = [r for r in perception.recognized if r.source in ("face", "clip")]
    people = _named(deps, question, perception)
    photo_ids = {r.concept_id for r in in_photo}
    chosen = [r for r in in_photo if r.concept_id in people]     # named and in the photo: the photo's record
    chosen += [r for cid, r in people.items() if cid not in photo_ids]
    if plan.deictic or not people:
        chosen = [r for r in in_photo if r not in chosen] + chosen
    return chosen


def find_place(deps: Deps, question: str, lang: Language,
               names: set[str]) -> tuple[PlaceFilter | None, str]:
    """The place a question names: read as a place (after "in", "to", "nach" ...; not a possessive, not a
    known person, pet or thing) and known as one (to the gazetteer, after local names, or to the records)."""
    for written, name, reading in places.readings(question, lang, names):
        if not reading:
            continue
        if deps.geocoder is not None and reading == "preposition":
            for place in deps.geocoder.find_places(f"in {name}"):
                # A city by that name, or a region (Tuscany, Missouri) when no city has it.
                level = place.city or place.region
                if level.lower() == name.lower() and name.lower() not in names:
                    return PlaceFilter(place.city, place.country, place.country_code,
                                       "" if place.city else place.region), written
        # Not in the gazetteer (or none): a place the user's own records use.
        if deps.store.observations.sightings(place=PlaceFilter(name), limit=1, kinds=("sighting", "mention")) or \
                deps.store.photos.count_taken(place=PlaceFilter(name)):
            return PlaceFilter(name), written
    return None, ""


@dataclass(frozen=True)
class ModelPlan:
    """The model's plan, read by ``PLAN_SCHEMA``."""

    people: tuple[str, ...] = ()
    start: str = ""
    end: str = ""
    place: str = ""
    asks: tuple[str, ...] = ()


def model_plan(deps: Deps, question: str, now: datetime, cancel: threading.Event | None = None) -> ModelPlan:
    """The model's plan (empty without a model or on unusable output)."""
    if deps.model is None:
        return ModelPlan()
    names = ", ".join(c.name for c in _known(deps)[:50]) or "(none)"
    prompt = render_prompt("plan", today=now.date().isoformat(), weekday=dates.WEEKDAYS[now.weekday()],
                           names=names, asks=", ".join(ASKS), question=data_block("question", question))
    request = GenerationRequest([ChatMessage("user", prompt)], max_tokens=96, temperature=0.0,
                                json_schema=PLAN_SCHEMA)
    values = model_json.read(complete(deps.model, request, cancel), PLAN_SCHEMA)
    if values is None:
        return ModelPlan()
    return ModelPlan(tuple(model_json.texts(values, "people")), model_json.text(values, "start"),
                     model_json.text(values, "end"), model_json.text(values, "place"),
                     tuple(model_json.texts(values, "asks")))


def merge(deps: Deps, plan: Plan, proposed: ModelPlan, now: datetime) -> None:
    """Fill what the rules left empty with the model's plan, keeping only what the question grounds.

    Kinds fill an empty reading; people must be known and named in the question; a place must be
    written in it and read as one; a window must be one the question's words name ("giugno" for a June
    window; a window of today on a question that names no time is the model's guess, and dropped).
    """
    known = {c.name.lower(): c for c in _known(deps)}
    used = _merge_asks(plan, proposed)
    used = _merge_people(plan, proposed, known) or used
    if plan.place is None and proposed.place and proposed.place.lower() in plan.question.lower():
        found, _ = find_place(deps, f"in {proposed.place.title()}", plan.language, set(known))
        if found is not None:
            plan.place, plan.place_text, used = found, proposed.place, True
    window = _model_window(proposed, now)
    if plan.window is None and window is not None and dates.supports_window(plan.question, window, now):
        plan.window, used = window, True
    if used:
        plan.source = "rules+model"


def _merge_asks(plan: Plan, proposed: ModelPlan) -> bool:
    asks = [a for a in proposed.asks if a in ASKS and a != "presence"]
    if plan.asks or not asks:
        return False
    plan.asks = list(dict.fromkeys(asks))
    plan.event = _event(plan, plan.language.says("question", "self", plan.question))
    return True


def _merge_people(plan: Plan, proposed: ModelPlan, known: dict[str, Concept]) -> bool:
    used = False
    for name in proposed.people:
        concept = known.get(name.lower())
        if concept is None or concept.name.lower() not in plan.question.lower() or \
                any(p.concept_id == concept.id for p in plan.people):
            continue
        plan.people.append(Recognized(concept.id, concept.name, concept.category, 1.0, "text"))
        used = True
    return used


def _model_window(proposed: ModelPlan, now: datetime) -> Window | None:
    start, end = dates.parse_bound(proposed.start), dates.parse_bound(proposed.end)
    if start is None or end is None:
        return None
    tz = now.tzinfo
    start, end = start.replace(tzinfo=start.tzinfo or tz), end.replace(tzinfo=end.tzinfo or tz)
    end = end + timedelta(days=1) if end == end.replace(hour=0, minute=0, second=0, microsecond=0) else end
    if not start < end <= now + timedelta(days=1):
        return None
    return Window(start, end, "range", f"{proposed.start} .. {proposed.end}")
