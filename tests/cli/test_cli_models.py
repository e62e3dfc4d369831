"""``companion models``: register local GGUF files, verify them, choose and remove them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from companion.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_shows_catalog_without_network(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "models", "list", "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert code == 0 and {"smolvlm-256m", "qwen2.5-vl-3b", "gemma-3-4b", "clip-vit-b-32"} <= set(rows)
    assert rows["smolvlm-256m"]["installed"] is False


def test_add_verify_use_remove_a_local_model(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF" + (3).to_bytes(4, "little") + (0).to_bytes(8, "little") * 2)  # header, no tensors
    code, out, err = run(capsys, "models", "add", "tiny", str(gguf), "--use", "--json")
    assert code == 0, err
    assert json.loads(out)["installed"] is True
    code, out, _ = run(capsys, "models", "list", "--json")
    assert [r["chosen"] for r in json.loads(out) if r["name"] == "tiny"] == [True]
    assert run(capsys, "models", "verify", "tiny")[0] == 0
    code, _, err = run(capsys, "models", "use", "smolvlm-256m")
    assert code == 1 and "not installed" in err and "companion models download smolvlm-256m" in err
    assert run(capsys, "models", "remove", "tiny")[0] == 0
    code, out, _ = run(capsys, "models", "list", "--json")
    assert "tiny" not in [r["name"] for r in json.loads(out)]


def test_add_missing_file_is_a_clear_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "models", "add", "x", str(tmp_path / "nope.gguf"))
    assert code == 2 and "no such file" in err
