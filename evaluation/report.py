"""Aggregate result rows into the JSON report and render it as Markdown.

Per size, baseline and task: the score (with the task's metric), the number
of questions, prompt tokens per question and latency p50/p95; then how each
score moves between history sizes.
"""

from __future__ import annotations

import math
from statistics import mean
from typing import Any

from evaluation.tasks import METRICS, TASKS


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (no interpolation: with few questions, report a real observation)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def aggregate(rows: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """baseline -> task -> {score, n, prompt_tokens, latency_p50, latency_p95}."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for baseline in dict.fromkeys(r["baseline"] for r in rows):
        out[baseline] = {}
        for task in TASKS:
            mine = [r for r in rows if r["baseline"] == baseline and r["task"] == task]
            if not mine:
                continue
            latencies = [r["latency_s"] for r in mine]
            out[baseline][task] = {"score": round(mean(r["score"] for r in mine), 3), "n": len(mine),
                                   "prompt_tokens": round(mean(r["prompt_tokens"] for r in mine), 1),
                                   "latency_p50": round(percentile(latencies, 0.5), 2),
                                   "latency_p95": round(percentile(latencies, 0.95), 2)}
        mine = [r for r in rows if r["baseline"] == baseline]
        latencies = [r["latency_s"] for r in mine]
        out[baseline]["ALL"] = {"score": round(mean(r["score"] for r in mine), 3), "n": len(mine),
                                "prompt_tokens": round(mean(r["prompt_tokens"] for r in mine), 1),
                                "latency_p50": round(percentile(latencies, 0.5), 2),
                                "latency_p95": round(percentile(latencies, 0.95), 2)}
    return out


def by_size_change(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """baseline -> task -> score at the largest size minus score at the smallest."""
    if len(runs) < 2:
        return {}
    first, last = runs[0]["scores"], runs[-1]["scores"]
    return {b: {t: round(last[b][t]["score"] - first[b][t]["score"], 3) for t in last[b] if t in first.get(b, {})}
            for b in last if b in first}


def _fmt(value: float) -> str:
    return f"{value:.2f}"


def markdown(report: dict[str, Any]) -> str:
    lines = [f"# Companion evaluation: suite `{report['suite']}`", "",
             f"- model: `{report['model']}` (context {report['n_ctx']} tokens), perception: `{report['perception']}`"
             f" (miss rate {report['miss_rate']}, false-match rate {report['false_match_rate']}),"
             f" seed {report['seed']}",
             f"- machine: {report.get('machine', '')}", ""]
    for run in report["runs"]:
        h = run["history"]
        lines += [f"## History size `{run['size']}`", "",
                  f"{h['sessions']} sessions, {h['turns']} turns, {h['photos']} photos over {h['days']} days; "
                  f"full history = {h['tokens']} tokens ({'fits' if h['fits'] else 'does NOT fit'} the "
                  f"{report['n_ctx']}-token context; the full-history baseline kept {h['kept_lines']} of "
                  f"{h['lines']} lines). Setup {run['setup_s']} s, questions {run['answer_s']} s.", ""]
        tasks = [t for t in TASKS if any(t in s for s in run["scores"].values())]
        columns = " | ".join(f"{t} ({METRICS[t]})" for t in tasks)
        lines.append(f"| baseline | {columns} | all | tokens/q | p50 s | p95 s |")
        lines.append("|---" * (len(tasks) + 5) + "|")
        for baseline, scores in run["scores"].items():
            cells = [_fmt(scores[t]["score"]) if t in scores else "-" for t in tasks]
            total = scores["ALL"]
            lines.append(f"| {baseline} | " + " | ".join(cells) + f" | {_fmt(total['score'])} | "
                         f"{total['prompt_tokens']:.0f} | {total['latency_p50']:.2f} | {total['latency_p95']:.2f} |")
        n = {t: next(iter(run["scores"].values()))[t]["n"] for t in tasks if t in next(iter(run["scores"].values()))}
        lines += ["", "Questions per task: " + ", ".join(f"{t} {k}" for t, k in n.items()) + ".", ""]
    change = report.get("change")
    if change:
        lines += [f"## Change from `{report['runs'][0]['size']}` to `{report['runs'][-1]['size']}`", "",
                  "| baseline | " + " | ".join(t for t in TASKS) + " |", "|---" * (len(TASKS) + 1) + "|"]
        for baseline, deltas in change.items():
            lines.append(f"| {baseline} | " + " | ".join(f"{deltas[t]:+.2f}" if t in deltas else "-" for t in TASKS)
                         + " |")
        lines.append("")
    for note in report.get("notes", []):
        lines.append(f"- {note}")
    return "\n".join(lines) + "\n"
