"""``companion chat --import`` as a user runs it: a real export (BOM, local times), then the same file again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_cli_foundation import run


def test_an_export_with_a_bom_and_local_times_imports_once(capsys: pytest.CaptureFixture[str],
                                                           tmp_path: Path) -> None:
    rows = [{"time": "2024-05-01T10:00:00", "role": "user", "text": "I went hiking in Lyon."},
            {"time": "2024-05-01T10:01", "role": "assistant", "text": "Lovely."},
            {"time": "2024-05-01T10:02:00Z", "role": "user", "text": "It rained a bit."}]
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8-sig")   # with a BOM
    code, out, err = run(capsys, "chat", "--import", str(path))
    assert (code, err) == (0, "") and out.startswith("Imported 3 turns (conversation 1); learned ")
    code, out, err = run(capsys, "chat", "--import", str(path))
    assert (code, err) == (0, "")
    assert out == "export.jsonl was imported before (conversation 1): nothing added.\n"
    code, out, _ = run(capsys, "--json", "chat", "--import", str(path))
    result = json.loads(out)
    assert code == 0 and result["state"] == "already imported" and result["turns"] == 0
    assert (result["messages"], result["saved"]) == (3, 3)


def test_a_chatgpt_export_zip_imports_once_from_the_command_line(capsys: pytest.CaptureFixture[str],
                                                                 tmp_path: Path) -> None:
    from tests.unit import _exports

    path = _exports.chatgpt_zip(tmp_path / "chatgpt.zip")
    code, out, err = run(capsys, "chat", "--import", str(path))
    assert (code, err) == (0, "")
    assert out.startswith("Imported 6 turns into 2 of 2 conversations from chatgpt.zip (ChatGPT export); learned ")
    assert "3 of them from your custom instructions; 1 images named in the messages are not in the export." in out
    code, out, err = run(capsys, "chat", "--import", str(path))
    assert (code, out, err) == (0, "chatgpt.zip (ChatGPT export) was imported before: nothing added.\n", "")
    broken = _exports.truncated(path, tmp_path / "broken.zip")
    code, out, err = run(capsys, "chat", "--import", str(broken))
    assert code == 2 and out == ""
    assert err.startswith("companion: error: broken.zip is not a complete zip file (it may be truncated")


def test_a_rap_database_imports_from_the_command_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from PIL import Image

    folder = tmp_path / "db"
    folder.mkdir()
    Image.new("RGB", (32, 32), (90, 60, 30)).save(folder / "bo.png")
    database = {"concept_dict": {"<bo>": {"name": "bo", "image": "db/bo.png", "category": "dog",
                                          "info": "<bo> is a Shiba Inu."},
                                 "<mug>": {"name": "mug", "image": "db/mug.png", "category": "cup",
                                           "info": "<mug> is <bo>'s bowl."}}}
    (folder / "database.json").write_text(json.dumps(database))
    code, out, err = run(capsys, "concepts", "import", str(folder / "database.json"))
    assert (code, err) == (0, "")
    assert out.splitlines()[:4] == ["added pet bo, 1 new reference photo", "added object mug",
                                    "  mug: image not found, skipped: db/mug.png", "2 added, 0 updated, 0 unchanged, "
                                    "0 skipped."]
    code, out, _ = run(capsys, "concepts", "import", str(folder / "database.json"))
    assert code == 0 and "0 added, 0 updated, 2 unchanged, 0 skipped." in out
    code, out, _ = run(capsys, "concepts", "show", "mug")
    assert "mug is bo's bowl." in out
