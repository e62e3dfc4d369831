"""The questions people ask beyond "where did I last see her?": time windows, places, facts about a
person and the last thing told, in English and other languages, with no model and with a scripted one.

One profile: photos with time and GPS (reverse-geocoded by the real offline gazetteer) and told turns;
the clock is fixed at NOW (a Friday in July 2026) so "in June" and "last summer" are fixed too.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from companion.core.answer import pipeline
from companion.core.answer.perceive import Perception
from companion.core.answer.pipeline import run
from companion.core.answer.understand import understand
from companion.core.memory.learn import learn
from companion.core.store.photos import PhotoRecord
from tests.unit._personal import ScriptedModel, deps

NOW = datetime(2026, 7, 10, 12, 0, tzinfo=timezone.utc)
PLACES = {"Prague": (50.0880, 14.4208), "Vienna": (48.2082, 16.3738), "Rome": (41.8919, 12.5113)}
PHOTOS = (("2026-06-14T15:00:00+00:00", "Prague", ("Grace", "Eileen")),
          ("2026-06-03T11:00:00+00:00", "Vienna", ("Grace",)),
          ("2025-08-02T10:00:00+00:00", "Rome", ("Anna",)))
TURNS = (("2025-07-20T18:00:00+00:00", "I was hiking in the Vienna Woods with Grace today."),
         ("2026-05-12T09:00:00+00:00", "Anna now works as a nurse in Graz."),
         ("2026-07-01T09:00:00+00:00", "I was baking bread when Anna phoned me."),
         ("2026-07-09T09:00:00+00:00", "Rode the ferry to Capri with Anna this morning."))


@pytest.fixture
def life(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(pipeline, "_now", lambda: NOW)
    d = deps(tmp_path)
    for name in ("Anna", "Grace", "Eileen"):
        d.store.concepts.add(name, "person")
    for i, (when, city, people) in enumerate(PHOTOS):
        lat, lon = PLACES[city]
        place = d.geocoder.reverse(lat, lon)
        time = datetime.fromisoformat(when)
        photo_id = d.store.photos.upsert(PhotoRecord(f"/photos/{i}.jpg", f"h{i}", 1, 0.0, time, "exif", lat, lon,
                                                     place, 4000, 3000, None))
        for name in people:
            d.store.observations.add(d.store.concepts.by_name(name).id, time=time, place=place.label(),
                                     source="face", kind="sighting", confidence=0.9, photo_id=photo_id)
    tell(d, *TURNS)
    return d


def tell(d, *turns: tuple[str, str]) -> None:  # type: ignore[no-untyped-def]
    conversation = d.store.conversations.start("history", datetime.fromisoformat(turns[0][0]))
    learn(d, [d.store.conversations.add_turn(conversation.id, "user", text, datetime.fromisoformat(when))
              for when, text in turns], typed_now=True)


# ---- time windows -----------------------------------------------------------------------


@pytest.mark.parametrize("question, opening", [
    ("Who did I see in June?", "In June 2026 you saw"),
    ("Wen habe ich im Juni gesehen?", "Im Zeitraum Juni 2026 hast du"),
    ("¿A quién vi en junio?", "En junio de 2026 viste a"),
])
def test_who_did_i_see_in_a_month_comes_from_the_photos_of_that_month(life, question, opening) -> None:
    answer = run(life, question)
    assert answer.answer.startswith(opening), answer.answer
    assert "Grace" in answer.answer and "Eileen" in answer.answer and "Prague" in answer.answer
    assert "Anna" not in answer.answer                      # seen in July and in 2025, not in June
    assert answer.plan.to_json()["window"]["start"].startswith("2026-06-01")
    assert answer.plan.to_json()["asks"] == ["who"]
    assert {s.type for s in answer.sources} >= {"photo"}


def test_who_did_i_see_names_everyone_even_when_one_person_fills_the_month(life) -> None:
    """Grace in a hundred photos at the end of June does not push out Eileen, seen once on 14 June."""
    grace = life.store.concepts.by_name("Grace").id
    for i in range(100):
        time = datetime(2026, 6, 29, 8, 0, tzinfo=timezone.utc).replace(minute=i % 60, second=i // 60)
        photo_id = life.store.photos.upsert(PhotoRecord(f"/photos/grace-{i}.jpg", f"g{i}", 1, 0.0, time, "exif",
                                                        None, None, None, 4000, 3000, None))
        life.store.observations.add(grace, time=time, place="", source="face", kind="sighting", confidence=0.9,
                                    photo_id=photo_id)
    answer = run(life, "Who did I see in June?").answer
    assert answer.startswith("In June 2026 you saw Grace") and "Eileen (14 June, Prague)" in answer, answer


@pytest.mark.parametrize("question", ["What did I do last summer?", "¿Qué hice el verano pasado?",
                                      "Qu'ai-je fait l'été dernier ?"])
def test_what_did_i_do_last_summer_lists_what_was_told_then(life, question) -> None:
    answer = run(life, question)
    assert "hiking in the Vienna Woods" in answer.answer, answer.answer
    assert "nurse" not in answer.answer and answer.plan.to_json()["window"]["grain"] == "season"


@pytest.mark.parametrize("question, expected", [
    ("Who did I see in March?", "I have no photos or notes from March 2026."),
    ("Qui ai-je vu en mars ?", "Je n'ai aucune photo ni note de mars 2026."),
    ("Wen habe ich im März gesehen?", "Ich habe keine Fotos oder Notizen aus dem Zeitraum März 2026."),
])
def test_a_window_with_no_records_says_so_instead_of_guessing(life, question, expected) -> None:
    assert run(life, question).answer == expected
    life.model = ScriptedModel("You saw Grace at the lake in March.")        # a model's guess loses
    assert run(life, question).answer == expected


# ---- places -----------------------------------------------------------------------------


@pytest.mark.parametrize("question, expected", [
    ("When was I last in Vienna?", "You were last in Vienna on Wednesday 3 June 2026 with Grace."),
    ("Wann war ich zuletzt in Wien?", "Du warst zuletzt am Mittwoch, 3. Juni 2026 in Wien mit Grace."),
])
def test_when_was_i_last_in_a_city(life, question, expected) -> None:
    assert run(life, question).answer == expected


@pytest.mark.parametrize("question, words", [
    ("Have I been to Rome with anyone?", ["Yes.", "Rome", "Anna", "2 August 2025"]),
    ("¿He estado en Roma con alguien?", ["Sí.", "Roma", "Anna", "2 de agosto de 2025"]),
])
def test_have_i_been_somewhere_with_anyone(life, question, words) -> None:
    answer = run(life, question).answer
    assert all(w in answer for w in words), answer
    assert "Grace" not in answer


def test_a_place_with_no_records_says_so(life) -> None:
    assert run(life, "When was I last in Lisbon?").answer == "I have no photos or notes from Lisbon."


# ---- facts about a person ---------------------------------------------------------------


@pytest.mark.parametrize("question", ["What does Anna do?", "Que fait Anna ?", "¿A qué se dedica Anna?",
                                      "Was macht Anna?"])
def test_what_does_a_person_do_answers_from_what_was_told(life, question) -> None:
    answer = run(life, question)
    assert "nurse in Graz" in answer.answer, answer.answer
    assert answer.plan.to_json()["asks"] == ["facts"]
    assert "saw" not in answer.answer and "Capri" not in answer.answer    # no last-seen sentence


def test_a_facts_question_never_gets_a_last_seen_sentence_from_the_checker(life) -> None:
    life.model = ScriptedModel("Anna works as a nurse in Graz.")
    answer = run(life, "What does Anna do?")
    assert answer.answer == "Anna works as a nurse in Graz."
    life.model = ScriptedModel("She is doing well.")
    answer = run(life, "What does Anna do?")
    assert answer.answer.startswith("She is doing well.") and "nurse" in answer.answer
    assert "last saw" not in answer.answer


# ---- the last thing told ----------------------------------------------------------------


def test_the_last_action_is_the_newest_turn_even_without_a_subject(life) -> None:
    answer = run(life, "What was I doing the last time I told you about Anna?")
    assert "rode the ferry to Capri" in answer.answer and "baking" not in answer.answer
    assert answer.last_action[0].action == "rode the ferry to Capri"


def test_the_last_action_of_a_spanish_subjectless_turn(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(pipeline, "_now", lambda: NOW)
    d = deps(tmp_path)
    d.store.concepts.add("Anna", "person")
    tell(d, ("2026-07-01T09:00:00+00:00", "Estaba cocinando cuando Anna me llamó."),
         ("2026-07-09T09:00:00+00:00", "Esta mañana fui en ferry a Capri con Anna."))
    answer = run(d, "¿Qué estaba haciendo la última vez que te hablé de Anna?")
    assert "fui en ferry a Capri" in answer.answer and "cocinando" not in answer.answer, answer.answer
    assert answer.answer.startswith("La última vez que me hablaste de Anna")
    seen = run(d, "¿Dónde vi a Anna por última vez?")
    assert "Capri" in seen.answer and "9 de julio de 2026" in seen.answer


def test_a_day_the_model_already_stated_in_other_words_is_not_appended(life) -> None:
    life.model = ScriptedModel("You last saw Anna in Capri on 9 July.")
    answer = run(life, "Where did I last see Anna?")
    assert answer.answer == "You last saw Anna in Capri on 9 July."
    life.model = ScriptedModel("You last saw Anna in Capri on 2 March.")    # a day no record backs
    answer = run(life, "Where did I last see Anna?")
    assert "2 March" not in answer.answer and "9 July 2026" in answer.answer


# ---- with a model: the records in the prompt, the checker, the model's plan --------------


def test_the_window_records_go_into_the_prompt_and_a_missing_name_is_appended(life) -> None:
    model = ScriptedModel("You saw Grace.")
    life.model = model
    answer = run(life, "Who did I see in June?")
    assert answer.answer.startswith("You saw Grace.") and "Eileen" in answer.answer
    system = next(r for r in model.requests if r.messages[0].role == "system").messages[0].text
    assert "Question plan: asks: who" in system and "June 2026" in system
    assert "[seen June 2026] Eileen" in system
    life.model = ScriptedModel("You saw Anna in June.")                     # not in June's records
    assert "Anna" not in run(life, "Who did I see in June?").answer


def test_the_model_plan_fills_what_the_rules_cannot_read(life) -> None:
    # Italian has no table: the rules find no kind of question and no window; the model's plan does.
    life.model = ScriptedModel('{"people": [], "start": "2026-06-01", "end": "2026-06-30", "place": "", '
                               '"asks": ["who"]}', "Hai visto Grace ed Eileen.")
    answer = run(life, "Chi ho visto a giugno?")
    assert answer.plan.to_json()["source"] == "rules+model" and answer.plan.to_json()["asks"] == ["who"]
    assert answer.plan.to_json()["window"]["start"].startswith("2026-06-01")
    assert answer.answer == "Hai visto Grace ed Eileen."
    request = life.model.requests[0]
    assert request.json_schema is not None and set(request.json_schema["properties"]) == {
        "people", "start", "end", "place", "asks"}


def test_a_model_plan_is_not_asked_for_when_the_rules_understood(life) -> None:
    model = ScriptedModel("In June you saw Grace and Eileen.")
    life.model = model
    run(life, "Who did I see in June?")
    assert all(r.json_schema is None for r in model.requests[:1])


def test_the_plan_keeps_grounded_model_values_only(life) -> None:
    from companion.core.answer.understand import ModelPlan, merge, rules

    plan = rules(life, "Chi ho visto?", Perception(), now=NOW, has_photo=False)
    merge(life, plan, ModelPlan(("Grace", "Bob"), "2026-01-01", "2026-01-31", "Paris", ("who", "nonsense")), NOW)
    assert plan.asks == ["who"] and plan.people == [] and plan.place is None     # nobody/nowhere named
    plan = understand(life, "Where does Anna work?", Perception(), now=NOW)
    assert plan.asks == ["facts"] and [p.name for p in plan.people] == ["Anna"]


# ---- counted words, in every language ----------------------------------------------------


@pytest.mark.parametrize("question, one, two", [
    ("Who is this?", "There is also 1 person I don't recognize", "There are also 2 people I don't recognize"),
    ("Wer ist das?", "Außerdem ist 1 Person zu sehen, die ich nicht kenne",
     "Außerdem sind 2 Personen zu sehen, die ich nicht kenne"),
    ("Qui est-ce ?", "Il y a aussi 1 personne que je ne reconnais pas",
     "Il y a aussi 2 personnes que je ne reconnais pas"),
    ("¿Quién es?", "También hay 1 persona que no reconozco", "También hay 2 personas que no reconozco"),
])
def test_one_person_i_dont_recognize_in_every_language(life, monkeypatch, question, one, two) -> None:
    from companion.core.answer.perceive import Recognized

    anna = life.store.concepts.by_name("Anna")
    for unknown, expected in ((1, one), (2, two)):
        seen = Perception(recognized=[Recognized(anna.id, "Anna", "person", 0.95, "face")], unknown_faces=unknown,
                          faces=unknown + 1, photo_path="/photos/new.jpg")
        monkeypatch.setattr(pipeline, "perceive", lambda _deps, _image, seen=seen: seen)
        answer = run(life, question, "/photos/new.jpg", temporary=True).answer
        assert expected in answer and "(s)" not in answer and "(en)" not in answer, answer


@pytest.mark.parametrize("question, expected", [
    ("How many photos do I have of Anna?", "You have 1 photo of Anna."),
    ("How many photos do I have of Grace?", "You have 2 photos of Grace."),
])
def test_counts_of_photos_say_photo_or_photos(life, question, expected) -> None:
    assert expected in run(life, question, temporary=True).answer


def test_a_date_from_the_file_is_said_to_be_a_guess_in_the_caption(life, monkeypatch) -> None:
    taken = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)
    for source, said in (("file", "(date from the file, not the camera)"), ("filename", "(date from the file name)"),
                         ("exif", "")):
        seen = Perception(taken_at=taken, taken_at_source=source, photo_path="/photos/new.jpg")
        monkeypatch.setattr(pipeline, "perceive", lambda _deps, _image, seen=seen: seen)
        caption = run(life, "Who is this?", "/photos/new.jpg", temporary=True).caption
        assert "taken on Monday 7 December 2026" in caption
        assert (said in caption) if said else "(date" not in caption, caption


def test_french_says_zero_in_the_singular_and_an_unknown_date_source_is_no_camera_date() -> None:
    from companion.core import language

    assert [language.get("fr").plural("photos", n) for n in (0, 1, 2)] == ["0 photo", "1 photo", "2 photos"]
    assert [language.get("en").plural("photos", n) for n in (0, 1, 2)] == ["0 photos", "1 photo", "2 photos"]
    assert language.get("en").date_source("exif") == ""
    assert language.get("de").date_source("file") == "Datum der Datei, nicht der Kamera"
    assert language.get("en").date_source("some-new-source") == "date not from the camera"
