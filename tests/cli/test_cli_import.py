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
