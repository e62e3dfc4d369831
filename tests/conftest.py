"""Test-wide fixtures: every test gets its own Companion home; Qt can be made unimportable.

``COMPANION_BLOCK_QT=1`` makes ``import PySide6`` fail, which proves the core
and the CLI run on a machine without Qt (the headless job in ``make test``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

if os.environ.get("COMPANION_BLOCK_QT") == "1":
    sys.modules["PySide6"] = None  # type: ignore[assignment]  # import now raises ImportError

REPO = Path(__file__).resolve().parent.parent
TEST_MODELS = REPO / ".cache" / "test-models"


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """Keep pytest-qt's keys in pyproject.toml known when the headless run disables it (``-p no:pytest-qt``),
    so that ``--strict-config`` still rejects every key nobody reads."""
    if pluginmanager.has_plugin("pytest-qt"):
        return
    parser.addini("qt_api", "pytest-qt's Qt binding (pytest-qt is disabled in this run)")
    parser.addini("qt_log_level_fail", "pytest-qt's failing log level (pytest-qt is disabled in this run)")
    parser.addini("qt_log_ignore", "pytest-qt's ignored messages (pytest-qt is disabled in this run)",
                  type="linelist")


@pytest.fixture(autouse=True)
def companion_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, private profile for each test; the real user profile is never touched.

    The test models (a random-weight CLIP) are allowed here; the app refuses them for users
    (companion/backends/clip_check.py), which tests/integration/test_clip_onnx.py checks with it unset.
    """
    home = tmp_path / "home"
    monkeypatch.setenv("COMPANION_HOME", str(home))
    monkeypatch.setenv("COMPANION_ALLOW_TEST_MODELS", "1")
    return home
