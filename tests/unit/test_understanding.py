"""Questions nobody wrote for us: a chat between two friends, imported with who said each line.

The planner's old misreadings, each pinned: a name, a pet or a brand is never a place; "when did X
<event>" finds the event and its date; "how many" counts what the question names; a model's window
that the question's words do not name is dropped; the checker keeps an answer grounded in the
evidence and rejects an echo of the question; what only someone else did is "I don't know that about X".
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from companion.core.answer import pipeline
from companion.core.answer.perceive import Perception
from companion.core.answer.pipeline import run
from companion.core.answer.understand import rules
from companion.core.memory.learn import learn
from tests.unit._personal import ScriptedModel, deps

NOW = datetime(2026, 7, 10, 12, 0, tzinfo=timezone.utc)
CHAT = (  # (time, speaker, text): two friends, weeks apart
    ("2023-05-08T13:56:00+00:00", "Rosa", "Hey Tomas! Good to see you!"),
    ("2023-05-08T13:57:00+00:00", "Tomas", "Hi Rosa! I adopted a grey kitten called Pebble yesterday."),
    ("2023-05-08T13:58:00+00:00", "Rosa", "Thanks, Tomas! I started learning the cello with a teacher from Florence."),
    ("2023-06-09T19:55:00+00:00", "Rosa", "I gave a talk about old maps at the library last week."),
    ("2023-06-09T19:56:00+00:00", "Tomas", "Wow, that's great! My sister Luna runs a bakery near Universal Studios."),
    ("2023-06-09T19:57:00+00:00", "Tomas", "Pebble and her brother Flint sleep on my desk, so I have two kittens now."),
    ("2023-07-17T10:00:00+00:00", "Tomas", "Last Friday I ran a charity race for the animal shelter."),
    ("2023-07-17T10:01:00+00:00", "Rosa", "That charity race sounds great! Last weekend I joined a choir."),
)


@pytest.fixture
def chat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(pipeline, "_now", lambda: NOW)
    d = deps(tmp_path)
    for name in ("Rosa", "Tomas"):
        d.store.concepts.add(name, "person")
    d.store.concepts.add("Pebble", "pet")
    conversation = d.store.conversations.start("imported", datetime.fromisoformat(CHAT[0][0]))
    learn(d, [d.store.conversations.add_turn(conversation.id, "user", text, datetime.fromisoformat(when),
                                             speaker=speaker) for when, speaker, text in CHAT])
    return d


def plan(d, question: str):  # type: ignore[no-untyped-def]
    return rules(d, question, Perception(), now=NOW, has_photo=False)


# ---- places --------------------------------------------------------------------------------


@pytest.mark.parametrize("question", [
    "When did James' sister visit Rosa?",          # a possessive (the gazetteer has James City)
    "Did Tomas take Pebble to the vet?",           # a known pet
    "What does Luna sell near Universal Studios?", # a brand (the gazetteer has Universal City) and a name
    "Does Tomas visit Luna often?",                # a name the gazetteer knows (Luna, PH), no place reading
])
def test_a_name_a_pet_or_a_brand_is_never_a_place(chat, question) -> None:
    assert plan(chat, question).place is None


def test_a_place_read_as_one_is_still_a_place(chat) -> None:
    assert plan(chat, "Who did Rosa learn from in Florence?").place.city == "Florence"


# ---- when did X <event> --------------------------------------------------------------------


def test_when_did_someone_do_something_is_the_events_date_not_a_sighting(chat) -> None:
    answer = run(chat, "When did Tomas adopt a kitten?", temporary=True)
    assert answer.answer == "7 May 2023.", answer.answer      # "yesterday", said on 8 May 2023
    assert answer.plan.event and not answer.last_seen
    assert answer.sources[0].type == "turn" and answer.sources[0].speaker == "Tomas"


def test_a_week_said_as_last_week_is_the_week_before_it_was_said(chat) -> None:
    assert run(chat, "When did Rosa give a talk about maps?", temporary=True).answer == \
        "The week before 9 June 2023."


def test_the_records_block_resolves_relative_dates_where_they_stand(chat) -> None:
    answer = run(chat, "When did Tomas adopt a kitten?", temporary=True)
    lines = list(answer.evidence_lines)
    at = next(n for n, line in enumerate(lines) if "kitten called Pebble" in line)
    assert lines[at].startswith("Tomas: ") and "yesterday [7 May 2023]" in lines[at]
    # Under the day it was said: the nearest heading above the line.
    assert next(line for line in reversed(lines[:at]) if not line.startswith(("Tomas:", "Rosa:"))) == "8 May 2023:"


# ---- how many -------------------------------------------------------------------------------


def test_how_many_counts_what_the_question_names(chat) -> None:
    answer = run(chat, "How many kittens does Tomas have?", temporary=True)
    assert "photo" not in answer.answer and "two kittens" in answer.answer, answer.answer
    assert "count" not in answer.plan.asks
    assert plan(chat, "How many photos of Tomas do I have?").asks == ["count"]


# ---- the model's plan ----------------------------------------------------------------------


def test_a_model_window_the_question_does_not_name_is_dropped(chat) -> None:
    today = NOW.date().isoformat()
    chat.model = ScriptedModel(json.dumps({"people": ["Rosa"], "start": today, "end": today, "place": "",
                                           "asks": ["facts"]}), "Rosa plays the cello.")
    answer = run(chat, "Rosa's hobbies?", temporary=True)   # no kind the rules know: the model plans
    assert answer.plan.window is None
    assert answer.answer == "Rosa plays the cello."       # grounded in what Rosa said: kept


# ---- the checker ----------------------------------------------------------------------------


def test_the_checker_keeps_an_answer_grounded_in_the_evidence(chat) -> None:
    chat.model = ScriptedModel("Yes, she is learning the cello with a teacher from Florence.")
    answer = run(chat, "Is Rosa learning an instrument?", temporary=True)
    assert answer.answer == "Yes, she is learning the cello with a teacher from Florence."


def test_the_checker_rejects_an_echo_of_the_question(chat) -> None:
    chat.model = ScriptedModel("Tomas adopted a kitten.")
    answer = run(chat, "When did Tomas adopt a kitten?", temporary=True)
    assert answer.answer == "7 May 2023."


def test_a_day_said_by_its_weekday_keeps_it_and_last_weekend_is_the_weekend_before(chat) -> None:
    assert run(chat, "When did Tomas run a charity race?", temporary=True).answer == "Friday 14 July 2023."
    assert run(chat, "When did Rosa join a choir?", temporary=True).answer == "The weekend before 17 July 2023."


# ---- about someone else --------------------------------------------------------------------


def test_what_only_someone_else_did_is_not_known_about_the_person_asked(chat) -> None:
    answer = run(chat, "When did Rosa adopt a kitten?", temporary=True)
    assert answer.answer.startswith("I don't know that about Rosa."), answer.answer
    assert "Tomas" in answer.answer                     # with what is known
    chat.model = ScriptedModel("Rosa adopted Pebble on 7 May 2023.")   # the model's mix-up is corrected
    assert run(chat, "When did Rosa adopt a kitten?", temporary=True).answer.startswith(
        "I don't know that about Rosa.")


# ---- retrieval -----------------------------------------------------------------------------


def test_the_reply_to_a_question_that_search_finds_is_shown_with_it(tmp_path: Path) -> None:
    from companion.core.answer import evidence

    d = deps(tmp_path)
    for name in ("Rosa", "Tomas"):
        d.store.concepts.add(name, "person")
    said = [("Tomas", f"The cello concert number {n} was lovely, the cello solo and the cello duet too.")
            for n in range(12)]
    said += [("Tomas", "Rosa, when did you start playing the cello?"),
             ("Rosa", "Back in school, my grandfather taught me every Sunday.")]
    said += [("Tomas", f"The weather on day {n} was grey and wet.") for n in range(6)]
    start = datetime(2023, 5, 8, 13, 0, tzinfo=timezone.utc)
    conversation = d.store.conversations.start("imported", start)
    learn(d, [d.store.conversations.add_turn(conversation.id, "user", text, start.replace(minute=n), speaker=who)
              for n, (who, text) in enumerate(said)])
    question = "When did Rosa start playing the cello?"
    found = evidence.build(d, plan(d, question), Perception(), budget=400)
    assert any("my grandfather taught me" in line for line in found.lines()), found.lines()
