"""A seeded user's life: people, pets and things, months to years of conversations, photos, preferences.

Every fact the tasks ask about is planted here and recorded as ground truth
(``Life.sightings``, ``Life.actions``, ``Life.preferences`` ...), so gold
answers are computed from the generator, never from the system under test.
Sentences use the phrasings people type ("I was hiking in Porto with Grace
today"), which the app's extractor must understand like any real user's.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from companion.core.memory.dates import WEEKDAYS

# Real coordinates, so photos reverse-geocode to these names with the offline gazetteer.
CITIES: dict[str, tuple[float, float]] = {
    "Lyon": (45.7640, 4.8357), "Grenoble": (45.1885, 5.7245), "Annecy": (45.8992, 6.1294),
    "Munich": (48.1351, 11.5820), "Vienna": (48.2082, 16.3738), "Porto": (41.1579, -8.6291),
    "Seville": (37.3891, -5.9845), "Bergen": (60.3913, 5.3221), "Kyoto": (35.0116, 135.7681),
    "Bologna": (44.4949, 11.3426), "Krakow": (50.0647, 19.9450), "Edinburgh": (55.9533, -3.1883),
}
PEOPLE = ("Eileen", "Grace", "Marco", "Anna", "Tomas", "Priya", "Kenji", "Sofia", "Lukas", "Amara", "Jonas", "Ines")
RELATIONS = ("sister", "colleague", "neighbour", "cousin", "climbing partner", "brother", "aunt", "old school friend")
# (name, card info, what a model without memory sees)
PETS = (("Biscuit", "a small brown dachshund with a red collar", "a dog"),
        ("Miso", "a grey tabby cat with white paws", "a cat"), ("Pepper", "a black labrador puppy", "a dog"))
OBJECTS = (("Rusty", "an old red road bike", "a bike"), ("Bluebell", "a blue ceramic teapot from Kyoto",
           "a teapot"), ("Hector", "a battered green camping van", "a van"))
# Activities of sightings and phone calls; the first -ing word is what the extractor keeps.
ACTIONS = ("hiking", "baking bread", "painting the fence", "playing chess", "cycling along the river",
           "picking apples", "fixing the roof", "planting tomatoes", "reading in the garden", "visiting a museum",
           "climbing at the gym", "shopping for shoes", "cooking dinner", "sailing on the lake", "watching a film",
           "repairing the van")
HABITS = ("swimming at the pool", "running in the park", "knitting a scarf", "practising the piano")
PREFERENCES: dict[str, tuple[str, ...]] = {
    "tea": ("green tea", "black tea", "rooibos", "chai"),
    "music": ("jazz", "techno", "folk", "opera"),
    "book genre": ("crime novels", "science fiction", "poetry", "biographies"),
    "food": ("ramen", "paella", "lasagne", "dumplings"),
}
NOISE = ("The weather was grey all day.", "I finished a long book about trains.", "Work was busy this week.",
         "I cooked a big pot of soup.", "The printer broke again.", "I slept badly last night.")
# Jobs people tell the user about; each person changes job once, so the newest fact must win.
JOBS = ("a nurse", "a carpenter", "a teacher", "a pilot", "an architect", "a baker", "a librarian", "a vet")
KEYWORD = "SKS"
STRANGERS = ("Dmitri", "Olga")   # people the user never told us about: the answer must be "can't tell"


@dataclass(frozen=True)
class Size:
    people: int
    pets: int
    objects: int
    days: int
    sessions: int
    photos: int
    preferences: int
    habits: int
    questions: int      # subjects asked about per task


SIZES: dict[str, Size] = {
    "tiny": Size(2, 1, 1, 60, 10, 8, 1, 1, 1),
    "small": Size(2, 1, 1, 90, 14, 12, 2, 1, 2),
    "medium": Size(6, 2, 2, 365, 220, 500, 3, 2, 2),
    "large": Size(12, 3, 3, 5 * 365, 3000, 30000, 4, 3, 3),
}


@dataclass(frozen=True)
class Concept:
    name: str
    category: str           # person | pet | object
    info: str               # the RAP card's one-line description
    relation: str = ""      # people only: who they are to the user
    looks: str = "a person"  # what a model with no memory of it can tell from the photo


@dataclass(frozen=True)
class Turn:
    time: datetime
    text: str
    session: int


@dataclass(frozen=True)
class Photo:
    """A library photo: EXIF time and GPS, and who/what is really in it."""

    name: str
    time: datetime
    city: str
    present: tuple[str, ...]


@dataclass
class Life:
    size: str
    seed: int
    start: datetime
    now: datetime                      # questions are asked after everything below
    concepts: list[Concept] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    photos: list[Photo] = field(default_factory=list)
    sightings: dict[str, list[tuple[datetime, str, str]]] = field(default_factory=dict)  # name -> (time, city, src)
    actions: dict[str, list[tuple[datetime, str]]] = field(default_factory=dict)         # name -> (time, action)
    preferences: dict[str, list[tuple[datetime, str]]] = field(default_factory=dict)     # topic -> (time, value)
    habits: dict[str, str] = field(default_factory=dict)                                 # weekday -> activity
    triggers: dict[str, str] = field(default_factory=dict)                               # name -> keyword
    jobs: dict[str, list[tuple[datetime, str]]] = field(default_factory=dict)            # person -> (time, job)

    def concept(self, name: str) -> Concept:
        return next(c for c in self.concepts if c.name == name)

    def last_seen(self, name: str) -> tuple[datetime, str, str] | None:
        return max(self.sightings.get(name, []), default=None)

    def last_action(self, name: str) -> str:
        return max(self.actions.get(name, []), default=(None, ""))[1]


def _cast(rng: random.Random, size: Size) -> list[Concept]:
    relations = list(RELATIONS)
    rng.shuffle(relations)
    people = [Concept(n, "person", f"{n} is the user's {relations[i % len(relations)]}.", relations[i % len(relations)])
              for i, n in enumerate(PEOPLE[:size.people])]
    pets = [Concept(n, "pet", f"{n} is {d}.", looks=k) for n, d, k in PETS[:size.pets]]
    objects = [Concept(n, "object", f"{n} is {d}.", looks=k) for n, d, k in OBJECTS[:size.objects]]
    return people + pets + objects


def generate(size: str = "small", seed: int = 0, start: datetime | None = None) -> Life:
    """A reproducible life of the given size (see ``SIZES``)."""
    spec = SIZES[size]
    rng = random.Random(f"{size}:{seed}")
    start = start or datetime(2024, 1, 8, 9, 0, tzinfo=timezone.utc)
    life = Life(size, seed, start, start + timedelta(days=spec.days + 1))
    life.concepts = _cast(rng, spec)
    names = [c.name for c in life.concepts]
    cities, actions = list(CITIES), list(ACTIONS)
    session = 0

    def say(day: float, text: str) -> datetime:
        when = start + timedelta(days=day)
        life.turns.append(Turn(when, text, session))
        return when

    # Introductions and reminders come first, as a user would set them up.
    for i, concept in enumerate(life.concepts):
        session += 1
        intro = (f"{concept.name} is my {concept.relation}." if concept.category == "person"
                 else f"Let me tell you about {concept.name}: {concept.info.split(' is ', 1)[1]}")
        say(i * 0.01, intro)
        if i % 2 == 0:
            life.triggers[concept.name] = KEYWORD
            say(i * 0.01 + 0.001, f"If {concept.name} shows up again, remind me with the keyword {KEYWORD}.")
    # Habits: the same activity on the same weekday, several times.
    weekdays = rng.sample(range(7), spec.habits)
    for weekday, activity in zip(weekdays, rng.sample(HABITS, spec.habits), strict=True):
        life.habits[WEEKDAYS[weekday]] = activity.split()[0]
        first = (weekday - start.weekday()) % 7 + 7
        for week in range(max(3, spec.days // 60)):
            day: float = first + 7 * week * max(1, spec.days // 7 // max(3, spec.days // 60))
            if day < spec.days:
                session += 1
                say(day + 0.3, f"I was {activity} this morning.")
    # Preferences that change over time.
    for topic in list(PREFERENCES)[:spec.preferences]:
        values = list(PREFERENCES[topic])
        rng.shuffle(values)
        changes = sorted(rng.sample(range(1, spec.days), 3 if spec.days > 30 else 2))
        for day, value in zip(changes, values, strict=False):   # the first 2-3 values, one per change
            session += 1
            when = say(day + 0.5, f"My favourite {topic} is now {value}.")
            life.preferences.setdefault(topic, []).append((when, value))
    # Everyday sessions: sightings, calls, noise.
    for _ in range(spec.sessions):
        session += 1
        day = rng.uniform(1, spec.days)
        name = rng.choice(names)
        action = rng.choice(actions)
        kind = rng.random()
        if kind < 0.45:
            city = rng.choice(cities)
            when = say(day, f"I was {action} in {city} with {name} today.")
            life.sightings.setdefault(name, []).append((when, city, "conversation"))
            life.actions.setdefault(name, []).append((when, action))
        elif kind < 0.8:
            # People phone; pets and things are talked about: a mention, never a sighting.
            person = life.concept(name).category == "person"
            call = "when {n} phoned me" if person else "while telling a friend about {n}"
            when = say(day, f"I was {action} " + call.format(n=name) + ".")
            life.actions.setdefault(name, []).append((when, action))
        else:
            say(day, rng.choice(NOISE))
        if rng.random() < 0.3:
            say(day + 0.01, rng.choice(NOISE))
    # Library photos with EXIF time and GPS; one or two concepts in each.
    for i in range(spec.photos):
        when = start + timedelta(days=rng.uniform(1, spec.days))
        present = tuple(rng.sample(names, 2 if rng.random() < 0.25 and len(names) > 1 else 1))
        city = rng.choice(cities)
        life.photos.append(Photo(f"IMG_{i:05d}", when, city, present))
        for name in present:
            life.sightings.setdefault(name, []).append((when, city, "photo"))
    # Facts about people (a job, then a new one), drawn from their own seed so the rest of the life is
    # the same as before these facts existed.
    facts = random.Random(f"{size}:{seed}:facts")
    for concept in [c for c in life.concepts if c.category == "person"]:
        old_job, new_job = facts.sample(JOBS, 2)
        for day, job, text in ((facts.uniform(1, spec.days / 2), old_job, "{n} works as {j} in {c}."),
                               (facts.uniform(spec.days / 2, spec.days), new_job, "{n} now works as {j} in {c}.")):
            session += 1
            when = say(day, text.format(n=concept.name, j=job, c=facts.choice(cities)))
            life.jobs.setdefault(concept.name, []).append((when, job))
    life.turns.sort(key=lambda t: t.time)
    life.photos.sort(key=lambda p: p.time)
    return life


def history_lines(life: Life) -> list[tuple[datetime, str]]:
    """The whole history as dated lines, oldest first: what a long-context baseline reads."""
    lines = [(t.time, f"[{t.time:%Y-%m-%d %a}] User: {t.text}") for t in life.turns]
    lines += [(p.time, f"[{p.time:%Y-%m-%d %a}] Photo taken in {p.city} showing {' and '.join(p.present)}.")
              for p in life.photos]
    return sorted(lines)
