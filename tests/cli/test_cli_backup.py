"""``companion backup`` / ``restore`` / ``export`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from companion.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_backup_restore_refuses_to_overwrite_without_replace(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    home, other = tmp_path / "home", tmp_path / "other"
    assert run(capsys, "concepts", "add", "--name", "Anna", "--category", "person", "--info", "my sister",
               "--home", str(home))[0] == 0
    code, out, _ = run(capsys, "backup", str(tmp_path / "b.zip"), "--home", str(home))
    assert code == 0 and "Backed up to" in out

    code, out, _ = run(capsys, "restore", str(tmp_path / "b.zip"), "--home", str(other))
    assert code == 0 and "1 people" in out
    code, out, _ = run(capsys, "concepts", "list", "--json", "--home", str(other))
    assert [c["name"] for c in json.loads(out)] == ["Anna"]

    run(capsys, "concepts", "add", "--name", "Ben", "--category", "person", "--home", str(other))
    code, _, err = run(capsys, "restore", str(tmp_path / "b.zip"), "--home", str(other))
    assert code == 2 and "--replace" in err
    code, out, _ = run(capsys, "concepts", "list", "--json", "--home", str(other))
    assert sorted(c["name"] for c in json.loads(out)) == ["Anna", "Ben"]          # untouched
    code, out, _ = run(capsys, "restore", str(tmp_path / "b.zip"), "--replace", "--home", str(other))
    assert code == 0 and "replaced" in out
    code, out, _ = run(capsys, "concepts", "list", "--json", "--home", str(other))
    assert [c["name"] for c in json.loads(out)] == ["Anna"]


def test_restore_of_a_truncated_archive_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home"
    run(capsys, "concepts", "add", "--name", "Anna", "--category", "person", "--home", str(home))
    run(capsys, "backup", str(tmp_path / "b.zip"), "--home", str(home))
    data = (tmp_path / "b.zip").read_bytes()
    (tmp_path / "cut.zip").write_bytes(data[: len(data) // 2])
    code, _, err = run(capsys, "restore", str(tmp_path / "cut.zip"), "--home", str(tmp_path / "new"))
    assert code == 2 and "cut short" in err and "nothing was restored" in err


def test_export_writes_people_and_memories_in_both_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home"
    run(capsys, "concepts", "add", "--name", "Anna", "--category", "person", "--info", "my sister", "--home", str(home))
    chat = tmp_path / "chat.jsonl"
    chat.write_text(json.dumps({"role": "user", "text": "I met Anna at the Kiasma museum.",
                                "time": "2024-05-01T10:00:00+03:00"}) + "\n")
    assert run(capsys, "chat", "--import", str(chat), "--home", str(home))[0] == 0

    code, out, _ = run(capsys, "export", "--format", "jsonl", "--out", str(tmp_path / "j"), "--home", str(home))
    assert code == 0 and "Exported 1 people" in out
    people = [json.loads(line) for line in (tmp_path / "j" / "people.jsonl").read_text().splitlines()]
    assert people[0]["name"] == "Anna" and people[0]["info"] == "my sister"
    assert any(s["said"] and "Kiasma" in s["said"] and s["time"].startswith("2024-05-01")
               for s in people[0]["sightings"])
    memories = [json.loads(line) for line in (tmp_path / "j" / "memories.jsonl").read_text().splitlines()]
    met = [m for m in memories if "Kiasma" in m["content"]]
    assert met and "Anna" in met[0]["about"] and "Kiasma" in met[0]["sources"][0]["text"]
    header = json.loads((tmp_path / "j" / "export.json").read_text())
    assert header["format"] == "companion-export" and header["files"]["memories.jsonl"] == len(memories)

    code, _, _ = run(capsys, "export", "--format", "markdown", "--out", str(tmp_path / "m"), "--home", str(home))
    people_md = (tmp_path / "m" / "people.md").read_text()
    memories_md = (tmp_path / "m" / "memories.md").read_text()
    assert code == 0 and "## Anna (person)" in people_md and "my sister" in people_md
    assert "Kiasma" in memories_md and "About: Anna" in memories_md
