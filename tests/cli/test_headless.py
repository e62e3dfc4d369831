"""The core and the command line work on a machine where Qt cannot be imported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import sys
sys.modules["PySide6"] = None  # any import of Qt now fails
from companion.cli import main
code = main(["concepts", "add", "--name", "Rex", "--category", "pet"])
code |= main(["concepts", "list", "--json"])
import companion.app.services, companion.core.store
assert "PySide6" not in [m for m in sys.modules if sys.modules[m] is not None]
sys.exit(code)
"""


def test_cli_runs_without_qt(tmp_path: Path) -> None:
    env = {**os.environ, "COMPANION_HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert '"name": "Rex"' in result.stdout
