"""docs/architecture.md names real modules and every table: it fails when the code moves away from it."""

from __future__ import annotations

import os
import re
from pathlib import Path

from companion.core.store import migrations

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")


def test_every_path_the_page_names_exists() -> None:
    named = set(re.findall(r"`((?:companion|tests|scripts|packaging|benchmarks|evaluation)/[\w/]+\.py)`", DOC))
    assert len(named) > 30, "the page names the modules it describes by path"
    missing = sorted(path for path in named if not (REPO / path).is_file())
    assert not missing, f"docs/architecture.md names files that do not exist: {missing}"


def test_every_table_is_in_the_data_model() -> None:
    tables = set()
    for _name, script in migrations.MIGRATIONS:
        tables.update(re.findall(r"CREATE (?:VIRTUAL )?TABLE (\w+)", script))
    assert {"photos", "vec_faces", "vector_changes"} <= tables
    missing = sorted(t for t in tables if f"`{t}`" not in DOC)
    assert not missing, f"tables missing from docs/architecture.md's data model: {missing}"


def test_nothing_in_the_repository_points_outside_it() -> None:
    """The README once sent developers to a design file beside the clone, which a clone does not have."""
    needle = "../" + "shared"
    skip = {".git", ".cache", ".venv", "build", "dist", "__pycache__", "node_modules"}
    offenders = []
    for folder, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in skip and not d.endswith(".egg-info")]
        for name in files:
            path = Path(folder) / name
            if path.suffix in {".md", ".py", ".toml", ".txt", ".cfg", ".spec", ".iss", ".desktop", ""}:
                if needle in path.read_text(encoding="utf-8", errors="ignore"):
                    offenders.append(str(path.relative_to(REPO)))
    assert offenders == []
