"""``python -m evaluation --suite diagnostic`` runs LSD, LAR and ITR end to end (real faces, records only)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.models


def test_eval_prints_the_three_scores(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "evaluation", "--home", str(tmp_path / "h"), "--suite", "diagnostic",
                           "--json"], capture_output=True, text=True, timeout=600,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["cases"] == 2 and {d["name"] for d in result["details"]} == {"Eileen", "Grace"}
    assert result["LSD_f1"] == 1.0 and result["LAR_accuracy"] == 1.0 and result["ITR_keyword_rate"] == 1.0
