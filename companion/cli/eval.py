"""``companion eval``: the personal-memory benchmark and CoViP's diagnostic suite.

``--suite personal`` (issue 7) generates a user's life per ``--size``, builds it
into a fresh profile, asks every task through every baseline with the same
model, and writes ``report.json`` and ``report.md`` (see ``eval_personal``).

``--suite diagnostic`` builds a fresh profile (under --home, else a temporary
folder): two people with real face photos (scikit-image's astronaut,
matplotlib's Grace Hopper) as reference keys, a seeded conversation history
imported through the normal import path, then asks LSD, LAR and ITR about *new*
(augmented) photos of each person through the real pipeline and prints the scores.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from companion.cli.output import emit_json


def register(commands: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    ev = commands.add_parser("eval", parents=[parent], help="run the personalization evaluation")
    ev.add_argument("--suite", default="diagnostic", choices=["diagnostic", "personal"])
    ev.add_argument("--model", help="chat model (diagnostic default: the one in settings, none = records only; "
                                    "personal default: gemma3-270m, registered from its PyPI package)")
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--size", default="tiny", help="personal: history sizes, comma-separated (tiny, small, medium, large)")
    ev.add_argument("--perception", default="annotated", choices=["annotated", "real"],
                    help="personal: ground-truth presence (with --miss-rate/--false-match-rate) or the real face model")
    ev.add_argument("--miss-rate", type=float, default=0.0)
    ev.add_argument("--false-match-rate", type=float, default=0.0)
    ev.add_argument("--baselines", default="no_memory,full_history,rap_topk,ours_no_caption,ours")
    ev.add_argument("--tasks", help="personal: only these tasks, comma-separated (e.g. LSD,ITR,REC,CAPQA)")
    ev.add_argument("--questions", type=int, help="personal: subjects per task (default: the size's)")
    ev.add_argument("--n-ctx", type=int, default=2048, help="personal: the model's context size in tokens")
    ev.add_argument("--out", help="personal: folder for report.json and report.md (default: current folder)")
    ev.set_defaults(func=run_eval)


def sample_faces(folder: Path) -> dict[str, tuple[Path, Path]]:
    """name -> (reference photo, new query photo), from photos shipped by scikit-image and matplotlib."""
    import matplotlib.cbook
    import numpy as np
    from PIL import Image, ImageEnhance
    from skimage import data

    hopper = Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")).convert("RGB")
    sources = {"Eileen": Image.fromarray(data.astronaut()), "Grace": hopper}
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, image in sources.items():
        reference, query = folder / f"{name.lower()}_ref.jpg", folder / f"{name.lower()}_new.jpg"
        image.save(reference, quality=92)
        # A different photo of the same face: mirrored, slightly cropped, darker.
        w, h = image.size
        changed = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT).crop((w // 20, h // 20, w - w // 30, h - h // 25))
        ImageEnhance.Brightness(changed).enhance(0.85).save(query, quality=88)
        assert np.asarray(Image.open(query)).size > 0
        out[name] = (reference, query)
    return out


def run_eval(args: argparse.Namespace) -> int:
    if args.suite == "personal":
        from companion.cli.eval_personal import run_personal

        return run_personal(args)
    from companion.core import eval_tasks
    from companion.core.pipeline import run
    from companion.services import Services

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="companion-eval-") as scratch:
        home = Path(args.home) if args.home else Path(scratch) / "home"
        services = Services.open(home)
        try:
            photos = sample_faces(Path(scratch) / "photos")
            for name, (reference, _) in photos.items():
                if services.store.concepts.by_name(name) is None:
                    services.add_concept(name, "person", images=[reference])
            history = eval_tasks.generate_history(list(photos), seed=args.seed)
            jsonl = Path(scratch) / "history.jsonl"
            jsonl.write_text("\n".join(json.dumps(t) for t in history.turns) + "\n", encoding="utf-8")
            services.import_chat(jsonl)
            deps = services.deps(args.model)
            scores = eval_tasks.run_diagnostic(lambda q, image: run(deps, q, image, temporary=True), history.gold,
                                               {name: str(query) for name, (_, query) in photos.items()})
            model = deps.model.name if deps.model is not None else None
        finally:
            services.close()
    result = {"suite": args.suite, "model": model, "seed": args.seed, "cases": scores.cases,
              "LSD_f1": scores.lsd_f1, "LSD_stated": scores.lsd_stated, "LAR_accuracy": scores.lar_accuracy,
              "ITR_keyword_rate": scores.itr_keyword_rate, "details": scores.details,
              "seconds": round(time.monotonic() - started, 1)}
    if args.json:
        emit_json(result)
    else:
        print(f"suite {args.suite}, model {model or 'none (records only)'}, {scores.cases} people")
        print(f"  LSD  token F1 {scores.lsd_f1:.2f}  (place stated in answer {scores.lsd_stated:.2f})")
        print(f"  LAR  accuracy {scores.lar_accuracy:.2f}")
        print(f"  ITR  keyword rate {scores.itr_keyword_rate:.2f}")
    return 0
