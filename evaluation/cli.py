"""The command line of the evaluation (what ``companion eval`` was): ``python -m evaluation --help``.

``--suite diagnostic`` (default) runs CoViP's LSD, LAR and ITR end to end on
two real faces (``run_diagnostic``); ``--suite personal`` runs the
personal-memory benchmark per history size and baseline and writes
``report.json`` and ``report.md`` (``run_personal``); ``--suite locomo --data DIR``
runs LoCoMo's questions through the product beside retrieval baselines (``run_locomo``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from companion.config import SettingsError
from companion.core.errors import CompanionError


def build_parser() -> argparse.ArgumentParser:
    ev = argparse.ArgumentParser(prog="python -m evaluation", description="run the personalization evaluation")
    ev.add_argument("--home", metavar="DIR",
                    help="diagnostic: profile folder to build the world in (default: a temporary one)")
    ev.add_argument("--json", action="store_true", help="print machine-readable JSON")
    ev.add_argument("--suite", default="diagnostic", choices=["diagnostic", "personal", "locomo"])
    ev.add_argument("--model", help="chat model (diagnostic default: the one in settings, none = records only; "
                                    "personal default: gemma3-270m, registered from its PyPI package)")
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--size", default="tiny",
                    help="personal: history sizes, comma-separated (tiny, small, medium, large)")
    ev.add_argument("--perception", default="annotated", choices=["annotated", "real"],
                    help="personal: ground-truth presence (with --miss-rate/--false-match-rate) or the real face model")
    ev.add_argument("--miss-rate", type=float, default=0.0)
    ev.add_argument("--false-match-rate", type=float, default=0.0)
    ev.add_argument("--baselines", default="no_memory,full_history,rap_topk,ours_no_caption,ours")
    ev.add_argument("--tasks", help="personal: only these tasks, comma-separated (e.g. LSD,ITR,REC,CAPQA)")
    ev.add_argument("--questions", type=int, help="personal: subjects per task (default: the size's); "
                                                  "locomo: questions per conversation (default: all)")
    ev.add_argument("--n-ctx", type=int, default=2048, help="personal: the model's context size in tokens")
    ev.add_argument("--out", help="personal: folder for report.json and report.md (default: current folder)")
    ev.add_argument("--data", metavar="DIR", help="locomo: a LoCoMo JSON file or a folder of them")
    ev.add_argument("--conversations", help="locomo: only these sample ids, comma-separated (e.g. 26,30,41)")
    ev.add_argument("--k", default="10,25", help="locomo: the baselines' top-k, comma-separated")
    ev.add_argument("--minilm", metavar="DIR", help="locomo: the MiniLM ONNX export (default: the test model's)")
    ev.add_argument("--import-format", default="speaker", choices=["speaker", "prefix"],
                    help='locomo: the speaker in the import\'s "speaker" field, or as "Name: " before the text')
    ev.add_argument("--rows", metavar="FILE", help="locomo: write every question's measures, one JSON line each")
    ev.add_argument("--profiles", metavar="DIR",
                    help="locomo: keep each conversation's profile here and reuse it (default: a temporary folder)")
    return ev


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.suite == "locomo":
            from evaluation.run_locomo import run_locomo

            return run_locomo(args)
        if args.suite == "personal":
            from evaluation.run_personal import run_personal

            return run_personal(args)
        from evaluation.run_diagnostic import run_diagnostic

        return run_diagnostic(args)
    except (CompanionError, SettingsError) as exc:
        print(f"evaluation: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("evaluation: cancelled", file=sys.stderr)
        return 130
