"""Importing conversations: validated first, stored in batches, resumed after a crash, never twice.

Every test compares what a user would see (turns, memories, sightings, reminders, the persona)
with one clean import of the same file into a fresh profile.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from companion.app import chat
from companion.app.services import Services
from companion.core.errors import DiskFullError, InvalidInputError
from companion.core.memory import importer, learn
from companion.core.memory.chat_import import read_jsonl, scan_jsonl
from companion.core.memory.importer import ImportOutcome, import_source
from companion.core.types import Progress

START = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)
SAYINGS = [
    "I went hiking in Lyon with Anna.",
    "I took Bo to the beach in Nice.",
    "When she appears again, tell me the word CARROT.",      # "she": the previous turn's Bo
    "If Anna shows up again, remind me with the keyword SKS.",
    "Anna and I had dinner in Paris.",
    "I was swimming at the lake with Bo.",
    "I met Anna at the market.",
    "My favourite colour is green.",
]


def conversation(turns: int = 60) -> list[dict[str, Any]]:
    """Mondays of chat: people, places, a pronoun, a reminder, a profile fact, sessions, habits."""
    lines = []
    for i in range(turns):
        when = START + timedelta(days=7 * (i // 12), minutes=5 * (i % 12))
        user = i % 2 == 0
        text = SAYINGS[(i // 2) % len(SAYINGS)] if user else f"Noted ({i})."
        lines.append({"time": when.isoformat(), "role": "user" if user else "assistant", "text": text})
    return lines


def write(path: Path, rows: list[dict[str, Any]] | list[str], *, bom: bool = False) -> Path:
    text = "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def profile(root: Path) -> Services:
    services = Services.open(root)
    services.store.concepts.add("Anna", "person")
    services.store.concepts.add("Bo", "pet")
    return services


def fingerprint(services: Services) -> dict[str, Any]:
    """What the store holds, without ids and clocks: equal for equal imports."""
    q = services.store.db.query
    persona = q("SELECT openness, conscientiousness, extraversion, agreeableness, neuroticism, interactions "
                "FROM persona")[0]
    return {
        "turns": sorted((r[0], r[1], r[2]) for r in q("SELECT role, text, time FROM turns")),
        "memories": sorted((r[0], r[1], r[2] or "") for r in q("SELECT kind, content, time FROM memories")),
        "memory_turns": q("SELECT count(*) FROM memory_turns")[0][0],
        "observations": sorted(tuple(r) for r in q("SELECT concept_id, kind, time, place, action, source "
                                                   "FROM observations")),
        "triggers": sorted(tuple(r) for r in q("SELECT concept_id, instruction, keyword FROM triggers")),
        "sessions": sorted(tuple(r) for r in q("SELECT started_at, ended_at, consolidated FROM sessions")),
        "persona": tuple(persona),
        "vectors": q("SELECT count(*) FROM vec_memories")[0][0],
    }


def run(services: Services, path: Path, cancel: threading.Event | None = None) -> ImportOutcome:
    source = scan_jsonl(path)
    steps = list(import_source(services.deps(with_model=False), source, read_jsonl, cancel))
    assert all(isinstance(s, Progress) for s in steps[:-1])
    outcome = steps[-1]
    assert isinstance(outcome, ImportOutcome)
    return outcome


@pytest.fixture()
def clean(tmp_path: Path) -> dict[str, Any]:
    """The fingerprint of one uninterrupted import of conversation()."""
    services = profile(tmp_path / "clean")
    outcome = run(services, write(tmp_path / "clean.jsonl", conversation()))
    assert outcome.state == "imported" and outcome.turns == 60 and outcome.memories > 0
    print_ = fingerprint(services)
    services.close()
    kinds = {kind for kind, _, _ in print_["memories"]}
    assert kinds == {"semantic", "episodic", "procedural", "core"} and print_["observations"] and print_["triggers"]
    assert len([k for k, _, _ in print_["memories"] if k == "episodic"]) == 5
    return print_


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "BATCH_TURNS", 7)


class Crash(BaseException):
    """Stands for kill -9: nothing after it runs, no handler catches it."""


def crash_at(monkeypatch: pytest.MonkeyPatch, turn: int) -> None:
    """Make learning die at the ``turn``-th turn it learns from."""
    real = learn.Learner.turn
    seen = [0]

    def turn_or_die(self: learn.Learner, stored: Any) -> int:
        seen[0] += 1
        if seen[0] == turn:
            raise Crash()
        return real(self, stored)

    monkeypatch.setattr(learn.Learner, "turn", turn_or_die)


# 36: the batch after the crash starts with "When she appears again" (Bo, from the turn before it).
@pytest.mark.parametrize("at", [1, 7, 8, 23, 36, 60])
def test_an_import_that_died_resumes_to_exactly_one_clean_import(tmp_path: Path, clean: dict[str, Any],
                                                                 monkeypatch: pytest.MonkeyPatch, at: int) -> None:
    services = profile(tmp_path / "p")
    path = write(tmp_path / "chat.jsonl", conversation())
    with monkeypatch.context() as patch:
        crash_at(patch, at)
        with pytest.raises(Crash):
            run(services, path)
    # Whole batches only: the dying batch left nothing, every earlier one is there with its memories.
    stored = services.store.conversations.count_turns()
    assert stored == (at - 1) // 7 * 7
    outcome = run(services, path)
    assert outcome.state == ("resumed" if stored else "imported") and outcome.turns == 60 - stored
    assert fingerprint(services) == clean
    services.close()


@pytest.mark.parametrize("at", [1, 3, 5])
def test_an_import_that_died_while_summarising_finishes_without_a_second_summary(
        tmp_path: Path, clean: dict[str, Any], monkeypatch: pytest.MonkeyPatch, at: int) -> None:
    from companion.core.store.conversations import ConversationRepo

    services = profile(tmp_path / "p")
    path = write(tmp_path / "chat.jsonl", conversation())
    real = ConversationRepo.mark_consolidated
    calls = [0]

    def die_on_a_session(self: ConversationRepo, session_id: int) -> None:
        calls[0] += 1
        real(self, session_id)
        if calls[0] == at:     # the session's summary is written and marked, not yet committed
            raise Crash()

    with monkeypatch.context() as patch:
        patch.setattr(ConversationRepo, "mark_consolidated", die_on_a_session)
        with pytest.raises(Crash):
            run(services, path)
    assert len(services.store.memories.list("episodic")) == at - 1
    assert run(services, path).state == "resumed"
    assert fingerprint(services) == clean
    services.close()


def test_a_repeated_import_adds_nothing(tmp_path: Path, clean: dict[str, Any]) -> None:
    services = profile(tmp_path / "p")
    path = write(tmp_path / "chat.jsonl", conversation())
    run(services, path)
    copy = write(tmp_path / "renamed copy.jsonl", conversation())      # same bytes, another name
    for again in (path, copy):
        outcome = run(services, again)
        assert (outcome.state, outcome.turns, outcome.memories, outcome.saved) == ("already imported", 0, 0, 60)
    assert fingerprint(services) == clean
    services.close()


def test_two_imports_of_one_file_at_once_store_it_once(tmp_path: Path, clean: dict[str, Any]) -> None:
    """Two windows or commands on one profile: the second waits for the first, then finds it imported."""
    path = write(tmp_path / "chat.jsonl", conversation())
    first, second = profile(tmp_path / "p"), Services.open(tmp_path / "p")
    results: list[chat.ImportResult] = []
    start = threading.Barrier(2)

    def go(services: Services) -> None:
        start.wait()
        results.append(chat.import_chat(services, path))

    threads = [threading.Thread(target=go, args=(s,)) for s in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(r.state for r in results) == ["already imported", "imported"]
    assert sum(r.turns for r in results) == 60
    assert fingerprint(first) == clean
    first.close()
    second.close()


def test_without_the_lock_two_importers_still_never_store_a_message_twice(tmp_path: Path) -> None:
    """The record is the last line of defence: each batch starts where the source says, not where it thought."""
    services = profile(tmp_path / "p")
    path = write(tmp_path / "chat.jsonl", conversation())
    source = scan_jsonl(path)
    deps = services.deps(with_model=False)
    a = import_source(deps, source, read_jsonl)
    b = import_source(deps, source, read_jsonl)
    steps = [next(a), next(b)]                  # both opened the source at position 0
    for _ in range(3):                          # a stores three batches while b waits
        steps.append(next(a))
    steps += list(b) + list(a)
    assert services.store.conversations.count_turns() == 60
    texts = [r[0] for r in services.store.db.query("SELECT text || time FROM turns")]
    assert len(texts) == len(set(texts))
    services.close()


def test_messages_with_an_export_id_are_stored_once_whichever_file_brings_them(tmp_path: Path) -> None:
    services = profile(tmp_path / "p")
    rows = [dict(row, id=f"msg-{i}") for i, row in enumerate(conversation(20))]
    run(services, write(tmp_path / "march.jsonl", rows[:12]))
    outcome = run(services, write(tmp_path / "march-and-april.jsonl", rows))   # a later, larger export
    assert (outcome.state, outcome.turns, outcome.known) == ("imported", 8, 12)
    assert services.store.conversations.count_turns() == 20
    services.close()


def test_times_without_an_offset_are_local_time(tmp_path: Path) -> None:
    services = profile(tmp_path / "p")
    rows = [{"time": "2025-03-03T09:00:00", "role": "user", "text": "I went hiking in Lyon with Anna."},
            {"time": "2025-03-03T09:05:00+00:00", "role": "assistant", "text": "Nice."},
            {"time": "2025-07-03T09:00", "role": "user", "text": "I took Bo to the beach."}]
    outcome = run(services, write(tmp_path / "naive.jsonl", rows))
    assert outcome.turns == 3
    local = datetime(2025, 3, 3, 9, 0).astimezone()
    times = [t.time for t in services.store.conversations.turns()]
    assert times[0] == local and times[0].utcoffset() == local.utcoffset()
    assert times[2] == datetime(2025, 7, 3, 9, 0).astimezone()     # that day's offset (summer time)
    services.close()


def test_a_utf8_byte_order_mark_is_read(tmp_path: Path) -> None:
    services = profile(tmp_path / "p")
    outcome = run(services, write(tmp_path / "bom.jsonl", conversation(4), bom=True))
    assert outcome.turns == 4
    assert services.store.conversations.turns()[0].text == SAYINGS[0]
    services.close()


def test_a_bad_line_late_in_a_large_file_stores_nothing_and_is_named(tmp_path: Path) -> None:
    services = profile(tmp_path / "p")
    rows: list[Any] = list(conversation(60))
    rows[50] = {"time": "yesterday", "role": "user", "text": "x"}
    with pytest.raises(InvalidInputError, match="line 51: time 'yesterday' is not ISO-8601"):
        chat.import_chat(services, write(tmp_path / "bad.jsonl", rows))
    rows[50] = json.dumps({"time": "2025-03-03T09:00:00", "role": "user", "text": "\ud800"})
    with pytest.raises(InvalidInputError, match="line 51: text holds an invalid character"):
        chat.import_chat(services, write(tmp_path / "surrogate.jsonl", rows))
    rows[50] = "[" * 100_000 + "]" * 100_000
    with pytest.raises(InvalidInputError, match="line 51: "):
        chat.import_chat(services, write(tmp_path / "nested.jsonl", rows))
    assert services.store.conversations.count_turns() == 0 and services.store.imports.list() == []
    services.close()


def test_a_full_disk_says_exactly_what_was_saved_and_the_rest_follows(tmp_path: Path,
                                                                     clean: dict[str, Any]) -> None:
    services = profile(tmp_path / "p")
    path = write(tmp_path / "chat.jsonl", conversation())
    pages = services.store.db.query_one("PRAGMA page_count")[0]
    services.store.db.execute(f"PRAGMA max_page_count = {pages + 2}")      # behaves as a full disk
    with pytest.raises(DiskFullError) as caught:
        run(services, path)
    saved = services.store.conversations.count_turns()
    assert 0 < saved < 60
    assert str(caught.value).startswith(f"the disk is full: {saved} of 60 messages from chat.jsonl were saved")
    services.store.db.execute("PRAGMA max_page_count = 1073741823")         # space freed
    assert run(services, path).turns == 60 - saved
    assert fingerprint(services) == clean
    services.close()


def test_cancel_keeps_what_was_committed_and_the_same_import_continues(tmp_path: Path,
                                                                      clean: dict[str, Any]) -> None:
    services = profile(tmp_path / "p")
    path = write(tmp_path / "chat.jsonl", conversation())
    cancel = threading.Event()
    steps = import_source(services.deps(with_model=False), scan_jsonl(path), read_jsonl, cancel)
    next(steps), next(steps), next(steps)        # the first two batches are in
    cancel.set()
    outcome = list(steps)[-1]
    assert isinstance(outcome, ImportOutcome) and outcome.state == "cancelled" and outcome.saved == 14
    assert services.store.conversations.count_turns() == 14
    assert run(services, path).state == "resumed"
    assert fingerprint(services) == clean
    services.close()


def test_a_file_changed_during_the_import_stops_and_says_what_was_saved(tmp_path: Path) -> None:
    services = profile(tmp_path / "p")
    path = write(tmp_path / "chat.jsonl", conversation())
    steps = import_source(services.deps(with_model=False), scan_jsonl(path), read_jsonl)
    next(steps), next(steps)
    write(path, conversation(30))
    with pytest.raises(InvalidInputError, match="chat.jsonl changed while it was being imported .*: 7 of 60 messages"):
        list(steps)
    assert services.store.conversations.count_turns() == 7
    services.close()


def test_progress_counts_committed_messages(tmp_path: Path) -> None:
    services = profile(tmp_path / "p")
    steps = list(chat.import_steps(services, write(tmp_path / "chat.jsonl", conversation(20))))
    done = [s.done for s in steps if isinstance(s, Progress) and s.stage == "import"]
    assert done == [0, 7, 14, 20]
    result = steps[-1]
    assert isinstance(result, chat.ImportResult) and (result.turns, result.messages, result.saved) == (20, 20, 20)
    assert chat.describe_import(result).startswith("Imported 20 turns (conversation 1); learned ")
    services.close()
