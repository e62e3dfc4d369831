"""benchmarks/summary.py: the README's first screen says what the benchmark scripts' JSON says, and lint notices
when it does not."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def summary(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ModuleType:
    results = load("results")
    monkeypatch.setattr(results, "RESULTS", tmp_path / "results")
    module = load("summary")
    monkeypatch.setattr(module, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(module, "README", tmp_path / "README.md")
    yield module
    for name in ("results", "summary"):
        sys.modules.pop(name, None)


def test_the_summary_shows_each_figure_against_its_target_and_lint_sees_a_stale_one(summary: ModuleType,
                                                                                    tmp_path: Path) -> None:
    results = sys.modules["results"]
    results.write("watch_latency.py", [results.Figure("photo in the store", 2.4, "s", "<", 2.0),
                                       results.Figure("ratio to indexing", 2.1, "x")], note="busy machine")
    readme = tmp_path / "README.md"
    readme.write_text(f"# Benchmarks\n\n{summary.START}\nold\n{summary.END}\n\n# History\nkept\n", encoding="utf-8")

    assert summary.main(["--check"]) == 1                      # the block is not what the JSON says
    assert summary.main([]) == 0
    text = readme.read_text(encoding="utf-8")
    assert "| photo in the store | 2.4 s | < 2 s | **no** | [1] |" in text
    assert "| ratio to indexing | 2.1x |  |  | [1] |" in text
    assert "benchmarks/watch_latency.py" in text and "busy machine" in text
    assert text.endswith("# History\nkept\n") and "old" not in text
    assert summary.main(["--check"]) == 0

    results.write("watch_latency.py", [results.Figure("photo in the store", 1.2, "s", "<", 2.0)])
    assert summary.main(["--check"]) == 1                      # a new run that the README does not show yet
    summary.main([])
    assert "| photo in the store | 1.2 s | < 2 s | yes | [1] |" in readme.read_text(encoding="utf-8")


def test_the_checked_in_summary_is_current() -> None:
    module = load("summary")
    try:
        assert module.main(["--check"]) == 0, "run: python benchmarks/summary.py"
    finally:
        sys.modules.pop("summary", None)
        sys.modules.pop("results", None)
