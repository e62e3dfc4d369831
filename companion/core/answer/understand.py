"""Question understanding, one pass per question: who, when, where, and what is asked -> a ``Plan``.

The deterministic reading comes from the language tables (``core/language``):
the people (recognised in the photo, named, or "she"/"the one in this photo"
with a photo), a time window (``dates.find_window``: "in June", "last summer",
"vor zwei Wochen"), a place (the offline gazetteer, through the ``Geocoder``
protocol, after the language's local names: "Wien" -> Vienna) and what is
asked (where / when / who / doing / facts / yesno / count / presence).

With a chat model, a grammar-constrained JSON plan (``PLAN_SCHEMA``) is asked
for when the rules understood too little (no kind of question found): its
kinds, window and place fill only what the rules left empty, and only when
grounded (a place must be named in the question and known to the gazetteer or
the records; a person must be a known concept named in the question). The
plan goes into the prompt and into ``companion ask --json``.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from companion.core import language
from companion.core.answer.perceive import Perception, Recognized
from companion.core.deps import Deps
from companion.core.language import Language
from companion.core.memory import dates, places
from companion.core.memory.dates import Window
from companion.core.prompts import data_block, render_prompt
from companion.core.protocols import ChatMessage, GenerationRequest, complete
from companion.core.store.places import PlaceFilter

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
    source: str = "rules"          # rules | rules+model

    def to_json(self) -> dict[str, Any]:
        return {"language": self.language.code, "asks": list(self.asks),
                "people": [p.name for p in self.people], "anyone": self.anyone, "last": self.last,
                "window": ({**self.window.to_json(), "label": self.window.label(self.language)}
                           if self.window else None),
                "place": self.place.label() if self.place else None, "source": self.source}

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
    """The deterministic reading of a question, from the language tables."""
    lang = language.detect(question)
    plan = Plan(question, lang)

    def says(key: str) -> bool:
        return lang.says("question", key, question)

    asks = [kind for kind in ("where", "when", "who", "doing", "facts", "yesno", "count") if says(kind)]
    if has_photo and says("presence"):
        asks.insert(0, "presence")
    plan.last = says("sighting")
    # "Where does Anna work?" is a fact; "where did I last see her?" a sighting.
    if "facts" in asks and not plan.last and "doing" not in asks:
        asks = [a for a in asks if a not in ("where", "who", "when")]
    if "doing" in asks and "facts" in asks:
        asks.remove("facts")
    plan.asks = asks
    plan.anyone = says("anyone") or ("who" in asks and "facts" not in asks)
    plan.deictic = has_photo and says("pronouns")
    plan.people = _people(deps, question, perception, plan)
    plan.window = dates.find_window(question, now, lang)
    plan.place, plan.place_text = find_place(deps, question, lang, {n.lower() for n in deps.store.concepts.names()})
    return plan


def _known(deps: Deps) -> list[Any]:
    return deps.store.concepts.list()


def _people(deps: Deps, question: str, perception: Perception, plan: Plan) -> list[Recognized]:
    """Named concepts, plus the photo's when the question points at it (or names no one)."""
    named = [Recognized(c.id, c.name, c.category, 1.0, "text") for c in deps.store.concepts.named_in(question)]
    in_photo = [r for r in perception.recognized if r.source in ("face", "clip")]
    people = {r.concept_id: r for r in perception.recognized if r.source == "text"}
    for r in named:
        people.setdefault(r.concept_id, r)
    photo_ids = {r.concept_id for r in in_photo}
    chosen = [r for r in in_photo if r.concept_id in people]     # named and in the photo: the photo's record
    chosen += [r for cid, r in people.items() if cid not in photo_ids]
    if plan.deictic or not people:
        chosen = [r for r in in_photo if r not in chosen] + chosen
    return chosen


def find_place(deps: Deps, question: str, lang: Language,
               names: set[str]) -> tuple[PlaceFilter | None, str]:
    """The place a question names: the gazetteer (after local names), else a city the records know."""
    place, written = places.find_place(deps.geocoder, question, lang, names)
    if place is not None:
        return PlaceFilter(place.city, place.country, place.country_code), written
    # No gazetteer (or it does not know the name): a city the user's own records use.
    for written, name in places.candidates(question, lang, names):
        if deps.store.observations.sightings(place=PlaceFilter(name), limit=1, kinds=("sighting", "mention")) or \
                deps.store.photos.count_taken(place=PlaceFilter(name)):
            return PlaceFilter(name), written
    return None, ""


def model_plan(deps: Deps, question: str, now: datetime, cancel: threading.Event | None = None) -> dict[str, Any]:
    """The model's JSON plan ({} without a model or on unusable output)."""
    if deps.model is None:
        return {}
    names = ", ".join(c.name for c in _known(deps)[:50]) or "(none)"
    prompt = render_prompt("plan", today=now.date().isoformat(), weekday=dates.WEEKDAYS[now.weekday()],
                           names=names, asks=", ".join(ASKS), question=data_block("question", question))
    request = GenerationRequest([ChatMessage("user", prompt)], max_tokens=96, temperature=0.0,
                                json_schema=PLAN_SCHEMA)
    try:
        value = json.loads(complete(deps.model, request, cancel))
    except (ValueError, TypeError):
        return {}
    return value if isinstance(value, dict) else {}


def merge(deps: Deps, plan: Plan, proposed: dict[str, Any], now: datetime) -> None:
    """Fill what the rules left empty with the model's plan, keeping only what is grounded."""
    if not proposed:
        return
    used = False
    text = plan.question.lower()
    asks = [a for a in proposed.get("asks") or [] if isinstance(a, str) and a in ASKS and a != "presence"]
    if not plan.asks and asks:
        plan.asks, used = list(dict.fromkeys(asks)), True
    known = {c.name.lower(): c for c in _known(deps)}
    for name in proposed.get("people") or []:
        concept = known.get(str(name).strip().lower())
        if concept is not None and concept.name.lower() in text and \
                all(p.concept_id != concept.id for p in plan.people):
            plan.people.append(Recognized(concept.id, concept.name, concept.category, 1.0, "text"))
            used = True
    place = proposed.get("place")
    if plan.place is None and isinstance(place, str) and place.strip() and place.strip().lower() in text:
        found, written = find_place(deps, place.strip().title(), plan.language, set(known))
        if found is not None:
            plan.place, plan.place_text, used = found, place.strip(), True
    start, end = dates.parse_bound(proposed.get("start")), dates.parse_bound(proposed.get("end"))
    # A window only where the rules understood nothing else either: a small model dates everything.
    if plan.window is None and used and start is not None and end is not None:
        tz = now.tzinfo
        start, end = start.replace(tzinfo=start.tzinfo or tz), end.replace(tzinfo=end.tzinfo or tz)
        end = end + timedelta(days=1) if end == end.replace(hour=0, minute=0, second=0, microsecond=0) else end
        if start < end <= now + timedelta(days=1):
            plan.window = Window(start, end, "range", f"{proposed.get('start')} .. {proposed.get('end')}")
    if used:
        plan.source = "rules+model"
