"""The questions of the benchmark and their gold answers, computed from the generated life.

Tasks (and the research they come from): LSD, LAR, ITR (CoViP's diagnostics),
recognition with negatives (RAP, plus "can't tell" for strangers), caption QA
(CoViP's CapEval-QAs: multiple choice answered from the caption alone, D for
concepts not in the photo) and Persona-MME-like multiple choice (latest
preference, preference evolution, habits, relationships).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from evaluation.life import CITIES, HABITS, PREFERENCES, RELATIONS, SIZES, STRANGERS, Life

LSD_QUESTION = "Where did I last see the one in this photo?"
LAR_QUESTION = "What was I doing the last time I told you about the one in this photo?"
ITR_QUESTION = LSD_QUESTION
CAPTION_REQUEST = "Describe this photo for me in one or two sentences, with what you remember about who is in it."
NONE_OPTION = "None of the above can be confirmed"
DONT_KNOW = "I don't know"
TASKS = ("LSD", "LAR", "ITR", "REC", "CAPQA_GT", "CAPQA_NOISE", "PREF_LATEST", "PREF_EVOLUTION", "HABIT",
         "RELATION", "WINDOW", "PLACE", "FACTS")
METRICS = {"LSD": "token F1", "LAR": "accuracy", "ITR": "keyword rate", "REC": "accuracy",
           "CAPQA_GT": "accuracy", "CAPQA_NOISE": "accuracy", "PREF_LATEST": "accuracy",
           "PREF_EVOLUTION": "accuracy", "HABIT": "accuracy", "RELATION": "accuracy",
           "WINDOW": "name F1", "PLACE": "accuracy", "FACTS": "accuracy"}
NO_RECORDS = "no records"
# The questions of the library tasks in four languages, asked in turn (month names are the harness's own).
MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
    "de": ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
           "November", "Dezember"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
           "noviembre", "diciembre"),
}
WINDOW_QUESTIONS = {"en": "Who did I see in {month} {year}?", "de": "Wen habe ich im {month} {year} gesehen?",
                    "fr": "Qui ai-je vu en {month} {year} ?", "es": "¿A quién vi en {month} de {year}?"}
PLACE_QUESTIONS = {"en": "When was I last in {city}?", "de": "Wann war ich zuletzt in {city}?",
                   "fr": "Quand suis-je allé à {city} pour la dernière fois ?",
                   "es": "¿Cuándo estuve en {city} por última vez?"}
FACTS_QUESTIONS = {"en": "What does {name} do?", "de": "Was macht {name}?", "fr": "Que fait {name} ?",
                   "es": "¿A qué se dedica {name}?"}
LANGUAGES = tuple(MONTHS)


@dataclass(frozen=True)
class QueryPhoto:
    """A new photo the user asks about (no GPS: the place must come from memory, not from the photo)."""

    name: str
    time: datetime
    present: tuple[str, ...]          # known concepts really in it
    strangers: tuple[str, ...] = ()   # people who are in it but were never introduced


MakePhoto = Callable[..., QueryPhoto]   # the names in it -> a new query photo, an hour after the last


@dataclass(frozen=True)
class Item:
    id: str
    task: str
    question: str
    gold: str
    photo: QueryPhoto | None = None
    choices: tuple[str, ...] = ()     # multiple choice; gold is one of them
    subject: str = ""
    caption_of: str = ""              # CAPQA: the item is judged on the caption of this photo
    extra: dict[str, str] = field(default_factory=dict)


def mcq_text(question: str, choices: tuple[str, ...], letters: str = "abcd") -> str:
    options = " ".join(f"({letters[i]}) {c}" for i, c in enumerate(choices))
    return f"{question} Options: {options}. Answer with the letter of the right option."


def _choices(rng: random.Random, right: str, pool: list[str], n: int = 3) -> list[str]:
    others = [p for p in dict.fromkeys(pool) if p != right]
    picked = rng.sample(others, min(n - 1, len(others))) + [right]
    rng.shuffle(picked)
    return picked


def build(life: Life, questions: int | None = None, *, strangers: bool = True) -> list[Item]:
    """Every question about ``life``; ``questions`` subjects per task (default: the size's)."""
    rng = random.Random(f"tasks:{life.size}:{life.seed}")
    per_task = questions or SIZES[life.size].questions
    names = [c.name for c in life.concepts]
    people = [c.name for c in life.concepts if c.category == "person"]
    hours = iter(range(100_000))
    items: list[Item] = []

    def photo(*present: str, strangers_in: tuple[str, ...] = ()) -> QueryPhoto:
        hour = next(hours)   # one new photo per question, an hour apart, all after the history
        return QueryPhoto(f"query_{hour:03d}", life.now + timedelta(hours=hour), tuple(present), strangers_in)

    def subjects(pool: list[str], need: Callable[[str], object] | None = None) -> list[str]:
        ok = [n for n in pool if need is None or need(n)]
        return rng.sample(ok, min(per_task, len(ok)))

    for name in subjects(names, life.last_seen):
        seen = life.last_seen(name)
        assert seen is not None
        items.append(Item(f"LSD-{name}", "LSD", LSD_QUESTION, seen[1], photo(name), subject=name))
    for name in subjects(names, life.last_action):
        items.append(Item(f"LAR-{name}", "LAR", LAR_QUESTION, life.last_action(name), photo(name), subject=name))
    for name in subjects(list(life.triggers)):
        items.append(Item(f"ITR-{name}", "ITR", ITR_QUESTION, life.triggers[name], photo(name), subject=name))
    # Recognition: a positive, a negative (someone else known is in the photo) and a stranger.
    for name in subjects(people):
        items.append(Item(f"REC-pos-{name}", "REC", f"Is {name} in this photo? Answer yes, no or can't tell.",
                          "yes", photo(name), subject=name))
        other = [p for p in names if p != name]
        if other:
            items.append(Item(f"REC-neg-{name}", "REC", f"Is {name} in this photo? Answer yes, no or can't tell.",
                              "no", photo(rng.choice(other)), subject=name))
    if strangers:
        for stranger in STRANGERS[:per_task]:
            items.append(Item(f"REC-unknown-{stranger}", "REC", "Who is the person in this photo?", "can't tell",
                              photo(strangers_in=(stranger,)), subject=stranger))
    items += _caption_items(life, rng, per_task, photo)
    items += _persona_items(life, rng, per_task, photo)
    items += _library_items(life, random.Random(f"library:{life.size}:{life.seed}"), per_task)
    return items


def _library_items(life: Life, rng: random.Random, per_task: int) -> list[Item]:
    """Questions over the whole library, with no photo: a month, a city, a person's job; languages in turn."""
    out: list[Item] = []
    languages = iter(LANGUAGES * (3 * per_task + 3))
    by_month: dict[tuple[int, int], set[str]] = {}
    for name, seen in life.sightings.items():
        for time, _, _ in seen:
            by_month.setdefault((time.year, time.month), set()).add(name)
    for year, month in rng.sample(sorted(by_month), min(per_task, len(by_month))):
        lang = next(languages)
        question = WINDOW_QUESTIONS[lang].format(month=MONTHS[lang][month - 1], year=year)
        out.append(Item(f"WINDOW-{year}-{month:02d}-{lang}", "WINDOW", question,
                        ", ".join(sorted(by_month[(year, month)])), extra={"lang": lang}))
    before = life.start.replace(day=1) - timedelta(days=1)     # a month before the history: nothing to find
    lang = next(languages)
    out.append(Item(f"WINDOW-empty-{lang}", "WINDOW", WINDOW_QUESTIONS[lang].format(
        month=MONTHS[lang][before.month - 1], year=before.year), NO_RECORDS, extra={"lang": lang}))
    last_in: dict[str, datetime] = {}
    for seen in life.sightings.values():
        for time, city, _ in seen:
            last_in[city] = max(time, last_in.get(city, time))
    for city in rng.sample(sorted(last_in), min(per_task, len(last_in))):
        lang = next(languages)
        when = last_in[city]
        out.append(Item(f"PLACE-{city}-{lang}", "PLACE", PLACE_QUESTIONS[lang].format(city=city),
                        when.date().isoformat(), subject=city, extra={"lang": lang}))
    for name in rng.sample(sorted(life.jobs), min(per_task, len(life.jobs))):
        lang = next(languages)
        (_, old), (_, new) = sorted(life.jobs[name])
        out.append(Item(f"FACTS-{name}-{lang}", "FACTS", FACTS_QUESTIONS[lang].format(name=name), new,
                        subject=name, extra={"lang": lang, "old": old}))
    return out


def _caption_items(life: Life, rng: random.Random, per_task: int, photo: MakePhoto) -> list[Item]:
    """CapEval-QAs: per photo, MCQs about the concepts in it (gold: the fact) and about others (gold: D)."""
    out: list[Item] = []
    names = [c.name for c in life.concepts if life.last_seen(c.name)]
    for subject in rng.sample(names, min(per_task, len(names))):
        shot = photo(subject)
        distractors = rng.sample([n for n in names if n != subject], min(2, len(names) - 1))
        for name in [subject, *distractors]:
            in_photo = name == subject
            seen = life.last_seen(name)
            assert seen is not None
            cities = _choices(rng, seen[1], list(CITIES))
            out.append(Item(f"CAPQA-{shot.name}-{name}-place", "CAPQA_GT" if in_photo else "CAPQA_NOISE",
                            f"Where was {name} last seen?", seen[1] if in_photo else NONE_OPTION,
                            choices=(*cities, NONE_OPTION), subject=name, caption_of=shot.name, photo=shot))
            concept = life.concept(name)
            if concept.relation:
                relations = _choices(rng, concept.relation, list(RELATIONS))
                out.append(Item(f"CAPQA-{shot.name}-{name}-relation", "CAPQA_GT" if in_photo else "CAPQA_NOISE",
                                f"Who is {name} to the user?", concept.relation if in_photo else NONE_OPTION,
                                choices=(*relations, NONE_OPTION), subject=name, caption_of=shot.name,
                                photo=shot))
    return out


def _persona_items(life: Life, rng: random.Random, per_task: int, photo: MakePhoto) -> list[Item]:
    """Persona-MME-like multiple choice: latest preference, its evolution, habits, relationships."""
    out: list[Item] = []
    for topic in list(life.preferences)[:per_task]:
        values = [v for _, v in sorted(life.preferences[topic])]
        latest, first = values[-1], values[0]
        pool = list(PREFERENCES[topic])
        choices = _choices(rng, latest, [first, *pool], 4)
        out.append(Item(f"PREF_LATEST-{topic}", "PREF_LATEST", mcq_text(f"What is my favourite {topic} now?",
                        tuple(choices)), latest, choices=tuple(choices), subject=topic))
        right = f"from {first} to {latest}"
        wrong = [f"from {latest} to {first}", f"always {latest}",
                 f"from {first} to {next(v for v in pool if v not in (first, latest))}"]
        evolution = [right, *wrong]
        rng.shuffle(evolution)
        out.append(Item(f"PREF_EVOLUTION-{topic}", "PREF_EVOLUTION",
                        mcq_text(f"How has my favourite {topic} changed over time?", tuple(evolution)), right,
                        choices=tuple(evolution), subject=topic))
    for weekday in list(life.habits)[:per_task]:
        activity = life.habits[weekday]
        pool = [h.split()[0] for h in HABITS]
        choices = _choices(rng, activity, pool, 3) + [DONT_KNOW]
        out.append(Item(f"HABIT-{weekday}", "HABIT", mcq_text(f"What do I usually do on {weekday.capitalize()}s?",
                        tuple(choices)), activity, choices=tuple(choices), subject=weekday))
    people = [c for c in life.concepts if c.relation]
    for concept in rng.sample(people, min(per_task, len(people))):
        choices = _choices(rng, concept.relation, list(RELATIONS), 4)
        out.append(Item(f"RELATION-{concept.name}", "RELATION",
                        mcq_text("Who is the one in this photo to me?", tuple(choices)), concept.relation,
                        photo(concept.name), choices=tuple(choices), subject=concept.name))
    return out
