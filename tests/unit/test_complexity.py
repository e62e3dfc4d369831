"""No function of answering or memory grows past cyclomatic complexity 15 (radon's count).

``pipeline.ask`` once reached 49 and ``remember.merge`` 44: functions nobody could change safely.
"""

from __future__ import annotations

from pathlib import Path

from radon.complexity import cc_visit

LIMIT = 15
PACKAGES = ("companion/core/answer", "companion/core/memory")
ROOT = Path(__file__).resolve().parents[2]


def complexities() -> dict[str, int]:
    out: dict[str, int] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).glob("*.py")):
            for block in cc_visit(path.read_text(encoding="utf-8")):
                for item in [block, *getattr(block, "methods", [])]:
                    out[f"{path.relative_to(ROOT)}:{item.name}"] = item.complexity
    return out


def test_no_function_of_answering_or_memory_is_more_complex_than_15() -> None:
    found = complexities()
    assert len(found) > 100      # every module was read
    worst = {name: value for name, value in found.items() if value > LIMIT}
    assert not worst, f"cyclomatic complexity above {LIMIT}: {worst}"
