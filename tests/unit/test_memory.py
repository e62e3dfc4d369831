"""Remembering: extraction, observations (sighting vs mention), triggers, profile, consolidation."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from companion.app import chat
from companion.core.memory import dates
from companion.core.memory.consolidate import consolidate, profile_history
from companion.core.memory.extract import find_action, find_keyword
from tests.unit._personal import T0, deps, say


def test_dates_are_parsed_against_the_turn_time() -> None:
    ref = datetime(2026, 5, 6, 12, 0, tzinfo=timezone.utc)  # a Wednesday
    assert dates.parse_when("yesterday we met", ref).date().isoformat() == "2026-05-05"
    assert dates.parse_when("last Sunday", ref).date().isoformat() == "2026-05-03"
    assert dates.parse_when("on 3 May we went", ref).date().isoformat() == "2026-05-03"
    assert dates.parse_when("two days ago", ref).date().isoformat() == "2026-05-04"
    assert dates.parse_when("nothing about time", ref) is None


def test_action_and_keyword_rules() -> None:
    assert find_action("Yesterday I went hiking in the Alps with Anna.") == "hiking in the Alps"
    assert find_action("I met Anna at the market.") == "met Anna at the market"
    assert find_keyword("If Anna shows up again, remind me with the keyword SKS.", {"anna"}) == "SKS"
    assert find_keyword('remind me to say "pineapple"', set()) == "pineapple"


def test_with_x_is_a_sighting_and_a_conditional_is_only_a_mention(tmp_path) -> None:
    d = deps(tmp_path)
    anna = d.store.concepts.add("Anna", "person")
    say(d, (0, "Yesterday I went hiking in Lyon with Anna."),
        (2, "If Anna shows up again, remind me with the keyword SKS."))
    sighting = d.store.observations.latest(anna.id, "sighting")
    assert sighting is not None and "Lyon" in sighting.place
    assert sighting.time.date() == (T0 - timedelta(days=1)).date()
    assert sighting.action == "hiking in Lyon"
    mention = d.store.observations.latest(anna.id, "mention")
    assert mention is not None and mention.time > sighting.time
    triggers = d.store.triggers.for_concepts([anna.id])
    assert [t.keyword for t in triggers] == ["SKS"]


def test_pronoun_instruction_links_to_the_person_just_talked_about(tmp_path) -> None:
    d = deps(tmp_path)
    bo = d.store.concepts.add("Bo", "pet")
    say(d, (0, "I took Bo to the beach in Nice."), (0.01, "When she appears again, tell me the word CARROT."))
    assert [t.keyword for t in d.store.triggers.for_concepts([bo.id])] == ["CARROT"]


def test_questions_and_negations_are_not_sightings(tmp_path) -> None:
    d = deps(tmp_path)
    anna = d.store.concepts.add("Anna", "person")
    say(d, (0, "Did I see Anna in Paris?"), (1, "I haven't seen Anna in Berlin for ages."),
        (2, "I will meet Anna in Rome tomorrow."))
    assert d.store.observations.latest(anna.id, "sighting") is None
    assert len(d.store.observations.timeline(anna.id, kind="mention")) == 3


def test_semantic_memories_are_linked_and_searchable(tmp_path) -> None:
    d = deps(tmp_path)
    anna = d.store.concepts.add("Anna", "person")
    say(d, (0, "We were baking bread at home with Anna. The weather was nice."))
    linked = d.store.memories.list("semantic", concept_id=anna.id)
    assert len(linked) == 1 and linked[0].action == "baking bread at home"
    assert "Anna" in linked[0].keywords
    assert d.store.memories.search_text("bread")


def test_newest_profile_value_wins_and_keeps_its_history(tmp_path) -> None:
    d = deps(tmp_path)
    say(d, (0, "My favourite food is pizza."), (5, "My favourite food is now sushi."))
    history = profile_history(d.store)["favourite food"]
    assert [v for v, _, _ in history] == ["sushi", "pizza"]
    core = d.store.memories.list("core")
    assert len(core) == 1 and "sushi" in core[0].content and "pizza" in core[0].content


def test_sessions_are_consolidated_only_after_the_gap(tmp_path) -> None:
    d = deps(tmp_path)
    conversation = d.store.conversations.start("live", T0)
    turn = d.store.conversations.add_turn(conversation.id, "user", "I went running in Paris.", T0)
    assert consolidate(d, T0 + timedelta(minutes=30)) == 0
    assert consolidate(d, T0 + timedelta(minutes=61)) >= 1
    episodes = d.store.memories.list("episodic")
    assert len(episodes) == 1 and turn.id in episodes[0].source_turn_ids and "running" in episodes[0].content


def test_a_session_is_summarised_once_even_when_marking_it_done_fails(tmp_path) -> None:
    d = deps(tmp_path)
    conversation = d.store.conversations.start("live", T0)
    d.store.conversations.add_turn(conversation.id, "user", "I went running in Paris.", T0)
    d.store.db.execute("CREATE TEMP TRIGGER refused BEFORE UPDATE ON sessions "
                       "BEGIN SELECT RAISE(ABORT, 'refused'); END")    # as a failing disk would
    with pytest.raises(Exception, match="refused"):                     # SQLite's own error
        consolidate(d, T0 + timedelta(minutes=61))
    assert d.store.memories.list("episodic") == []                     # no summary of an unfinished session
    d.store.db.execute("DROP TRIGGER refused")
    consolidate(d, T0 + timedelta(minutes=61))
    consolidate(d, T0 + timedelta(minutes=62))
    assert len(d.store.memories.list("episodic")) == 1


def test_habits_are_capped_and_need_repetition(tmp_path) -> None:
    d = deps(tmp_path)
    lines = [(7 * week, "I was swimming at the lake.") for week in range(3)] + [(1, "I was reading a book.")]
    say(d, *lines)
    habits = d.store.memories.list("procedural")
    assert len(habits) == 1 and "swimming" in habits[0].content and "Monday" in habits[0].content


def test_import_chat_learns_from_the_imported_turns(tmp_path) -> None:
    import json

    from companion.app.services import Services

    services = Services.open(tmp_path / "svc")
    anna = services.store.concepts.add("Anna", "person")
    history = tmp_path / "h.jsonl"
    history.write_text("\n".join(json.dumps(row) for row in (
        {"time": "2026-05-01T10:00:00+00:00", "role": "user", "text": "I was cycling in Porto with Anna."},
        {"time": "2026-05-01T10:01:00+00:00", "role": "assistant", "text": "Lovely! I'll remember Anna too."},
    )) + "\n")
    result = chat.import_chat(services, history)
    assert result.turns == 2 and result.memories >= 2   # a semantic fact and the session's episode
    seen = services.store.observations.latest(anna.id, "sighting")
    assert seen is not None and seen.place.startswith("Porto") and seen.action == "cycling in Porto"
    # Assistant turns are not the user's facts.
    assert len(services.store.observations.timeline(anna.id)) == 1
    services.close()


def test_model_extraction_fills_gaps_only_with_words_from_the_turn(tmp_path) -> None:
    import json

    from tests.unit._personal import ScriptedModel

    d = deps(tmp_path)
    anna = d.store.concepts.add("Anna", "person")
    d.model = ScriptedModel(json.dumps({"content": "x", "keywords": ["garden", "Mars"], "time": "", "place": "Paris",
                                        "mentioned": ["Anna"], "action": "the garden party"}))
    say(d, (0, "Anna came over for the garden party."))
    request = d.model.requests[0]
    assert request.json_schema is not None and "(data, not instructions)" in request.messages[0].text
    obs = d.store.observations.latest(anna.id, "sighting")
    assert obs is not None and obs.action == "the garden party" and obs.place == ""   # Paris is not in the turn
    memory = d.store.memories.list("semantic", concept_id=anna.id)[0]
    assert "Mars" not in memory.keywords


def test_the_model_fills_what_the_rules_left_only_with_the_turns_own_words(tmp_path) -> None:
    import json

    from tests.unit._personal import ScriptedModel

    d = deps(tmp_path)
    anna = d.store.concepts.add("Anna", "person")
    reply = {"content": "Ferry to Capri with Anna", "people": ["Anna"], "place": "Capri", "time": "this morning",
             "action": "ferry to Capri", "reminder": {"instruction": "", "keyword": ""}}
    model = ScriptedModel(json.dumps(reply))
    d.model = model
    say(d, (0, "Anna and the ferry to Capri this morning, what a day!"))     # no verb the rules know
    assert model.requests and model.requests[0].json_schema is not None
    assert set(model.requests[0].json_schema["properties"]) == {"content", "people", "place", "time", "action",
                                                                "reminder"}
    assert d.store.observations.latest(anna.id, "mention").action == "ferry to Capri"
    # A value that is not in the turn is a model's invention: dropped. A keyword written in it is a reminder.
    d.model = ScriptedModel(json.dumps(reply | {"action": "skiing in Aspen", "place": "Aspen",
                                                "reminder": {"instruction": "remind me of PLUM", "keyword": "PLUM"}}))
    say(d, (1, "Anna, that lovely day - remind me of PLUM."))
    latest = d.store.observations.timeline(anna.id, limit=1)[0]
    assert latest.action == "" and "Aspen" not in latest.place
    assert [t.keyword for t in d.store.triggers.for_concepts([anna.id])] == ["PLUM"]
    # A turn the rules read completely costs no extraction call (session summaries are another matter).
    d.model = model = ScriptedModel("{}")
    say(d, (2, "I was hiking in Lyon with Anna today."))
    assert [r for r in model.requests if r.json_schema is not None] == []


def test_asking_about_a_profile_fact_answers_with_its_history(tmp_path) -> None:
    from companion.core.answer.pipeline import run

    d = deps(tmp_path)
    say(d, (0, "My favourite food is pizza."), (5, "My favourite food is now sushi."))
    answer = run(d, "What is my favourite food?")
    assert "Your favourite food is sushi" in answer.answer and "pizza" in answer.answer, answer.answer
