"""A model folder is replaced whole or not at all (exports and conversions write through it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from companion.paths import atomic_folder


def test_a_finished_block_replaces_the_folder(tmp_path: Path) -> None:
    target = tmp_path / "models" / "clip"
    target.mkdir(parents=True)
    (target / "old.onnx").write_text("old")
    with atomic_folder(target) as work:
        (work / "new.onnx").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == ["new.onnx"]
    assert [p.name for p in target.parent.iterdir()] == ["clip"]          # no work folder left


def test_a_failed_block_keeps_the_old_folder_and_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "clip"
    target.mkdir()
    (target / "old.onnx").write_text("old")
    with pytest.raises(RuntimeError), atomic_folder(target) as work:
        (work / "half.onnx").write_text("half")
        raise RuntimeError("the export failed")
    assert [p.name for p in target.iterdir()] == ["old.onnx"]
    assert [p.name for p in tmp_path.iterdir()] == ["clip"]
