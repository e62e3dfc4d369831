"""Pre-generation cost of a question with the planner in the path, on a large library.

Builds a profile with ``--photos`` photos (one to two people each, 12 cities, five years) and
``--memories`` semantic memories straight into the store, then times everything a question costs
before the model is called: perceive (no photo here), understand (the plan), retrieve, the plan's
record queries and the statements. The baseline is the question the app answered before the
planner existed ("Where did I last see Anna?"), timed in the same run; ratios travel between
machines, absolute numbers do not.

    .venv/bin/python benchmarks/questions.py --photos 100000 --memories 10000
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

QUESTIONS = ("Where did I last see Anna?",                 # the baseline: no window, no place
             "Who did I see in June 2024?", "Wen habe ich im Juni 2024 gesehen?",
             "What did I do last summer?", "¿Qué hice el verano pasado?",
             "When was I last in Vienna?", "Wann war ich zuletzt in Wien?",
             "Have I been to Rome with anyone?", "What does Anna do?", "Que fait Anna ?",
             "How many photos of Grace do I have from 2023?")
CITIES = {"Vienna": (48.2082, 16.3738), "Rome": (41.8919, 12.5113), "Prague": (50.088, 14.4208),
          "Lisbon": (38.7223, -9.1393), "Porto": (41.1579, -8.6291), "Lyon": (45.764, 4.8357),
          "Munich": (48.1351, 11.582), "Krakow": (50.0647, 19.945), "Bergen": (60.3913, 5.3221),
          "Seville": (37.3891, -5.9845), "Bologna": (44.4949, 11.3426), "Kyoto": (35.0116, 135.7681)}


def build(home: Path, photos: int, memories: int, seed: int = 0):  # type: ignore[no-untyped-def]
    from companion.app.services import Services
    from companion.core.store.db import timestamp, to_iso

    services = Services.open(home)
    store, geocoder = services.store, services.geocoder
    rng = random.Random(seed)
    people = [store.concepts.add(n, "person").id for n in ("Anna", "Grace", "Eileen", "Marco", "Tomas", "Priya")]
    places = {c: geocoder.reverse(*ll) for c, ll in CITIES.items()}
    start = datetime(2021, 1, 1, tzinfo=timezone.utc)
    conn = store.db.conn
    with store.db.transaction():
        photo_rows, obs_rows = [], []
        for i in range(photos):
            when = start + timedelta(seconds=rng.uniform(0, 5 * 365 * 86400))
            city = rng.choice(list(CITIES))
            place = places[city]
            photo_rows.append((i + 1, f"/lib/{i:06d}.jpg", f"h{i}", 1, 0.0, to_iso(when), timestamp(when), "exif",
                               *CITIES[city], place.city, place.region, place.country, place.country_code,
                               4000, 3000, to_iso(when)))
            for person in rng.sample(people, 1 if rng.random() < 0.7 else 2):
                obs_rows.append((person, i + 1, to_iso(when), timestamp(when), place.label(), "face", "sighting", 0.9))
        conn.executemany("INSERT INTO photos (id, path, content_hash, size, mtime, taken_at, ts, taken_at_source, "
                         "latitude, longitude, city, region, country, country_code, width, height, indexed_at) "
                         "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", photo_rows)
        conn.executemany("INSERT INTO observations (concept_id, photo_id, time, ts, place, source, kind, confidence) "
                         "VALUES (?,?,?,?,?,?,?,?)", obs_rows)
        for i in range(memories):
            when = start + timedelta(seconds=rng.uniform(0, 5 * 365 * 86400))
            person, city = rng.choice(people), rng.choice(list(CITIES))
            name = store.concepts.get(person).name
            text = rng.choice((f"I was hiking in {city} with {name} today.", f"{name} now works as a nurse in {city}.",
                               f"I was baking bread when {name} phoned me."))
            cur = conn.execute("INSERT INTO memories (kind, content, keywords, time, ts, place, action, created_at, "
                               "updated_at) VALUES ('semantic',?,?,?,?,?,?,?,?)",
                               (text, name, to_iso(when), timestamp(when), places[city].label(),
                                "hiking" if "hiking" in text else "", to_iso(when), to_iso(when)))
            conn.execute("INSERT INTO memory_concepts (memory_id, concept_id) VALUES (?, ?)", (cur.lastrowid, person))
    return services


def pre_generation(deps, question: str, now: datetime) -> float:  # type: ignore[no-untyped-def]
    from companion.core.answer.perceive import Perception, named_in_text
    from companion.core.answer.records import gather
    from companion.core.answer.retrieve import retrieve
    from companion.core.answer.statements import statements
    from companion.core.answer.understand import understand

    started = time.perf_counter()
    perception = Perception()
    perception.recognized += named_in_text(deps, question, perception.recognized)
    plan = understand(deps, question, perception, now=now)
    context = retrieve(deps.store, question, perception.recognized, deps.text_embedder)
    records = gather(deps.store, plan)
    statements(plan, context, records, perception, [], has_photo=False)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--memories", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    from companion.core.deps import Deps
    from companion.core.memory import dates

    with tempfile.TemporaryDirectory() as home:
        started = time.perf_counter()
        services = build(Path(home), args.photos, args.memories)
        print(f"built {args.photos} photos, {args.memories} memories in {time.perf_counter() - started:.0f} s")
        deps = Deps(services.store, services.settings, geocoder=services.geocoder)
        deps.geocoder.find_places("warm up")
        dates.warm_up()
        now = datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc)
        rows = []
        for question in QUESTIONS:
            pre_generation(deps, question, now)                     # first call: caches
            times = sorted(pre_generation(deps, question, now) for _ in range(args.repeat))
            rows.append((question, statistics.median(times), times[int(0.95 * (len(times) - 1))]))
        base = rows[0][1]
        print(f"| question | p50 ms | p95 ms | p50 vs baseline |\n|---|---:|---:|---:|")
        for question, p50, p95 in rows:
            print(f"| {question} | {p50:.1f} | {p95:.1f} | {p50 / base:.2f}x |")
        services.close()


if __name__ == "__main__":
    main()
