"""CoViP's diagnostic tasks on a generated history: LSD (last-seen place), LAR (last action), ITR (reminder).

``generate_history`` writes a seeded user history (turns only; the caller
supplies one reference and one query photo per person). Each person is seen
at an early place, then at a later place (the gold LSD answer), then only
*mentioned* while the user did something else (the gold LAR answer; a
mention, not a sighting), and gets an ITR instruction with the keyword SKS.
The metrics are plain functions so later issues can reuse them with other
histories, sizes and baselines.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from evaluation.life import KEYWORD
from evaluation.metrics import contains, token_f1
from evaluation.tasks import ITR_QUESTION, LAR_QUESTION, LSD_QUESTION

PLACES = ("Lyon", "Grenoble", "Annecy", "Geneva", "Munich", "Vienna", "Porto", "Seville", "Bergen", "Kyoto",
          "Bologna", "Krakow")
ACTIONS = ("hiking", "baking bread", "painting the fence", "playing chess", "swimming", "cycling along the river",
           "picking apples", "fixing the bike", "planting tomatoes", "reading in the garden")
NOISE = ("The weather was grey all day.", "I finished a long book about trains.", "Work was busy this week.",
         "I cooked a big pot of soup.")


@dataclass
class Gold:
    name: str
    place: str
    action: str
    keyword: str = KEYWORD


@dataclass
class History:
    turns: list[dict[str, Any]] = field(default_factory=list)   # {"time", "role", "text"} (import JSONL rows)
    gold: dict[str, Gold] = field(default_factory=dict)


def generate_history(names: list[str], seed: int = 0, start: datetime | None = None) -> History:
    rng = random.Random(seed)
    start = start or datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
    places, actions = list(PLACES), list(ACTIONS)
    rng.shuffle(places)
    rng.shuffle(actions)
    history = History()
    day = 0
    for i, name in enumerate(names):
        early, late = places[2 * i % len(places)], places[(2 * i + 1) % len(places)]
        seen_doing, told_doing = actions[2 * i % len(actions)], actions[(2 * i + 1) % len(actions)]
        script = [
            f"Yesterday I was {seen_doing} in {early} with {name}.",
            rng.choice(NOISE),
            f"I went to {late} with {name} yesterday and we had a great time.",
            f"If {name} shows up again, remind me with the keyword {KEYWORD}.",
            f"I was {told_doing} when {name} phoned me this morning.",
        ]
        for text in script:
            day += rng.randint(2, 5)
            when = start + timedelta(days=day, hours=rng.randint(0, 8))
            history.turns.append({"time": when.isoformat(), "role": "user", "text": text})
            history.turns.append({"time": (when + timedelta(minutes=1)).isoformat(), "role": "assistant",
                                  "text": "Noted."})
        history.gold[name] = Gold(name, late, told_doing)
    return history


@dataclass
class TaskScores:
    lsd_f1: float = 0.0            # token F1 of the last-seen city against the gold place
    lsd_stated: float = 0.0        # share of answers whose text names the gold place
    lar_accuracy: float = 0.0      # share whose last action (and answer text) is the gold action
    itr_keyword_rate: float = 0.0  # share of answers that contain the keyword
    cases: int = 0
    details: list[dict[str, Any]] = field(default_factory=list)


def score(results: list[tuple[Gold, Any, Any, Any]]) -> TaskScores:
    """Scores from (gold, LSD answer, LAR answer, ITR answer) with pipeline ``Answer`` objects."""
    out = TaskScores(cases=len(results))
    if not results:
        return out
    for gold, lsd, lar, itr in results:
        seen = next((s for s in lsd.last_seen if s.name == gold.name), None)
        city = seen.place.split(",")[0] if seen else ""
        f1 = token_f1(city, gold.place)
        action = next((a.action for a in lar.last_action if a.name == gold.name), "")
        lar_ok = contains(action, gold.action, every_word=True) and contains(lar.answer, gold.action, every_word=True)
        itr_ok = gold.keyword in itr.answer
        out.lsd_f1 += f1
        out.lsd_stated += contains(lsd.answer, gold.place, every_word=True)
        out.lar_accuracy += lar_ok
        out.itr_keyword_rate += itr_ok
        out.details.append({"name": gold.name, "gold_place": gold.place, "last_seen": city, "lsd_f1": round(f1, 3),
                            "gold_action": gold.action, "last_action": action, "lar": lar_ok, "itr": itr_ok})
    n = len(results)
    out.lsd_f1, out.lsd_stated = round(out.lsd_f1 / n, 3), round(out.lsd_stated / n, 3)
    out.lar_accuracy, out.itr_keyword_rate = round(out.lar_accuracy / n, 3), round(out.itr_keyword_rate / n, 3)
    return out


def run_diagnostic(ask: Any, gold: dict[str, Gold], query_images: dict[str, str]) -> TaskScores:
    """Ask LSD, LAR and ITR about each person's query photo; ``ask(question, image)`` returns an Answer.

    Questions are asked as temporary turns so one task's question never becomes another's record.
    """
    results = []
    for name, truth in gold.items():
        image = query_images[name]
        results.append((truth, ask(LSD_QUESTION, image), ask(LAR_QUESTION, image), ask(ITR_QUESTION, image)))
    return score(results)
