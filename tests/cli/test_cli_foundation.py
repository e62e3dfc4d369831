"""The command line as a user drives it: help everywhere, JSON output, clear one-line errors."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from companion.cli import build_parser, main
from companion.core.errors import DiskFullError
from companion.core.store import Store


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def subcommand_paths(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += subcommand_paths(sub, (*prefix, name))
    return found


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    paths = subcommand_paths(build_parser())
    assert ("concepts", "forget") in paths and ("memories", "edit") in paths and ("doctor",) in paths
    for path in paths:
        with pytest.raises(SystemExit) as exit_info:
            main([*path, "--help"])
        assert exit_info.value.code == 0, path
        assert "usage:" in capsys.readouterr().out


def test_init_and_doctor(capsys: pytest.CaptureFixture[str], companion_home: Path) -> None:
    code, out, _ = run(capsys, "init", "--json")
    assert code == 0 and Path(json.loads(out)["database"]).is_file()
    code, out, _ = run(capsys, "doctor", "--json")
    report = json.loads(out)
    assert code == 0 and report["sqlite_vec"].startswith("v") and report["python"].startswith("3.")
    assert report["disk_free_gb"] > 0 and report["paths"]["data"].startswith(str(companion_home))


def test_home_flag_overrides_environment(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    run(capsys, "concepts", "add", "--name", "Rex", "--category", "pet", "--home", str(tmp_path / "other"))
    assert (tmp_path / "other" / "data" / "companion.db").is_file()
    _, out, _ = run(capsys, "concepts", "list", "--json")
    assert json.loads(out) == []  # the default (environment) home never saw Rex


def test_concept_lifecycle(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "concepts", "add", "--name", "Anna", "--category", "person", "--info", "my sister",
                       "--json")
    assert code == 0 and json.loads(out)["concept"]["name"] == "Anna"
    code, out, _ = run(capsys, "concepts", "edit", "Anna", "--info", "my older sister", "--json")
    assert json.loads(out)["info"] == "my older sister"
    code, out, _ = run(capsys, "concepts", "show", "anna", "--json")
    assert json.loads(out)["info"] == "my older sister"
    code, out, err = run(capsys, "concepts", "add", "--name", "anna", "--category", "person")
    assert code == 2 and "already exists" in err and err.count("\n") == 1     # bad input: status 2
    code, out, _ = run(capsys, "concepts", "forget", "Anna", "--json")
    assert code == 0 and json.loads(out)["name"] == "Anna"
    _, out, _ = run(capsys, "concepts", "list", "--json")
    assert json.loads(out) == []


def test_memories_commands(capsys: pytest.CaptureFixture[str]) -> None:
    from companion.core.store.memories import NewMemory
    from companion.paths import resolve

    store = Store.open(resolve().ensure().db_path)
    mid = store.memories.add(NewMemory("semantic", "I take the train to work", ("train",)))
    store.close()
    _, out, _ = run(capsys, "memories", "list", "--json")
    assert [m["id"] for m in json.loads(out)] == [mid]
    _, out, _ = run(capsys, "memories", "edit", str(mid), "--content", "I cycle to work", "--keywords", "cycling",
                    "--json")
    assert json.loads(out)["content"] == "I cycle to work"
    _, out, _ = run(capsys, "memories", "list", "--search", "cycling", "--json")
    assert [m["id"] for m in json.loads(out)] == [mid]
    code, _, _ = run(capsys, "memories", "forget", str(mid))
    assert code == 0
    code, _, err = run(capsys, "memories", "show", str(mid))
    assert code == 2 and f"no memory with id {mid}" in err


def test_unknown_flag_is_one_line_and_nonzero(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["concepts", "list", "--bogus"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "unrecognized arguments: --bogus" in err and err.count("\n") == 1


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_import_reports_first_bad_line_and_stores_nothing(capsys: pytest.CaptureFixture[str],
                                                          tmp_path: Path) -> None:
    good = '{"time": "2024-05-01T10:00:00+02:00", "role": "user", "text": "hello"}'
    file = write_jsonl(tmp_path / "chat.jsonl", [good, good, '{"time": "yesterday", "role": "user", "text": "x"}', "{"])
    code, _, err = run(capsys, "chat", "--import", str(file))
    assert code == 2 and "line 3" in err and "ISO-8601" in err
    file = write_jsonl(tmp_path / "chat2.jsonl", [good, '{"time": "2024-05-01T10:00:00", "role": "user", '
                                                        '"text": "look", "images": ["missing.jpg"]}'])
    code, _, err = run(capsys, "chat", "--import", str(file))
    assert code == 2 and "line 2" in err and "image not found: missing.jpg" in err
    run(capsys, "init")
    from companion.paths import resolve

    store = Store.open(resolve().db_path)
    assert store.conversations.count_turns() == 0
    store.close()


def test_database_from_newer_version_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "init")
    from companion.paths import resolve

    store = Store.open(resolve().db_path)
    store.db.execute("INSERT INTO schema_migrations VALUES ('9000_future', 'x')")
    store.close()
    code, _, err = run(capsys, "concepts", "list")
    assert code == 1 and "newer Companion" in err and err.count("\n") == 1


@pytest.mark.parametrize("line", ['watched_folders = "~/Pictures"', 'idle_unload_seconds = "ten minutes"'])
def test_a_bad_settings_file_is_one_line_naming_the_key_and_the_file_and_exit_2(
        capsys: pytest.CaptureFixture[str], companion_home: Path, line: str) -> None:
    settings = companion_home / "settings.toml"
    settings.parent.mkdir(parents=True)
    settings.write_text(f"schema_version = 4\n{line}\n")
    code, out, err = run(capsys, "concepts", "list")
    key = line.split(" = ")[0]
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("companion: error: ") and key in err and str(settings) in err
    assert settings.read_text() == f"schema_version = 4\n{line}\n"


def test_read_only_store_is_a_clear_error_and_loses_nothing(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "c.db")
    store.concepts.add("Rex", "pet")
    store.db.execute("PRAGMA query_only = 1")  # what SQLite reports for a read-only file or folder
    from companion.core.errors import StoreError

    with pytest.raises(StoreError, match="read-only"):
        store.concepts.add("Tom", "pet")
    with pytest.raises(StoreError, match="read-only"):
        store.forget_concept(store.concepts.resolve("Rex").id)
    assert [c.name for c in store.concepts.list()] == ["Rex"]
    store.close()


def test_full_disk_is_a_clear_error_and_loses_nothing(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "c.db")
    store.concepts.add("Rex", "pet", "good dog")
    pages = store.db.query_one("PRAGMA page_count")[0]
    store.db.execute(f"PRAGMA max_page_count = {pages + 1}")  # behaves as a full disk
    from companion.core.store.memories import NewMemory

    with pytest.raises(DiskFullError, match="disk is full"):
        for i in range(200):
            store.memories.add(NewMemory("semantic", "x" * 4000 + str(i)))
    assert store.concepts.resolve("Rex").info == "good dog"
    assert store.db.query_one("PRAGMA integrity_check")[0] == "ok"
    store.close()


def test_ask_without_a_chat_model_prints_the_command_to_get_one(capsys: pytest.CaptureFixture[str]) -> None:
    # The window shows a button for this notice; the command line keeps its instruction, word for word.
    code, out, err = run(capsys, "ask", "Where did I last see Anna?")
    assert code == 0 and out.strip()
    assert ("[No chat model is installed, so this answer comes straight from your records. "
            "Install a chat model with: companion models download smolvlm-256m]") in err
