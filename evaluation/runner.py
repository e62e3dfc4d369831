"""Run every item through every baseline: answer, time, count prompt tokens, score.

Caption-QA items of one photo share one caption per baseline (CapEval judges
the caption, not a fresh answer per question); its cost is charged to each of
them, so "tokens per question" is the cost of the caption they are judged on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from evaluation import metrics
from evaluation.life import CITIES, Life
from evaluation.metering import MeteredModel
from evaluation.systems import PhotoInput, Systems
from evaluation.tasks import Item


def run_items(systems: Systems, life: Life, items: list[Item], photos: dict[str, PhotoInput],
              baselines: list[str], progress: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    model = systems.model
    assert isinstance(model, MeteredModel), "wrap the model in MeteredModel to count prompt tokens"
    known = [c.name for c in life.concepts]
    rows: list[dict[str, Any]] = []
    for baseline in baselines:
        captions: dict[str, tuple[str, int, int, float]] = {}
        for item in items:
            photo = photos.get(item.photo.name) if item.photo else None
            cached = captions.get(item.caption_of) if item.caption_of else None
            if cached is None:
                model.reset()
                started = time.perf_counter()
                text = systems.answer(baseline, item, photo)
                seconds = time.perf_counter() - started
                tokens, calls = model.reset()
                if item.caption_of:
                    captions[item.caption_of] = (text, tokens, calls, seconds)
            else:
                text, tokens, calls, seconds = cached
            row = {"baseline": baseline, "task": item.task, "item": item.id, "gold": item.gold,
                   "score": metrics.score(item, text, list(CITIES), known), "prompt_tokens": tokens,
                   "calls": calls, "latency_s": round(seconds, 3), "answer": text[:300],
                   # what was really in the photo, and what perception told the systems
                   "present": list(item.photo.present) if item.photo else [],
                   "perceived": list(photo.seen.present) if photo else []}
            rows.append(row)
            if progress is not None:
                progress(f"{baseline:16s} {item.id:40s} {row['score']:.2f}  {tokens:5d} tok  {seconds:5.1f}s")
    return rows
