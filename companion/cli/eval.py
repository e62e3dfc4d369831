"""``companion eval --suite diagnostic [--model NAME] [--json]``: CoViP's LSD, LAR and ITR on a generated history.

Builds a fresh profile (under --home, else a temporary folder): two people with
real face photos (scikit-image's astronaut, matplotlib's Grace Hopper) as
reference keys, a seeded conversation history imported through the normal
import path, then asks the three questions about *new* (augmented) photos of
each person through the real pipeline and prints the scores.
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
    ev.add_argument("--suite", default="diagnostic", choices=["diagnostic"])
    ev.add_argument("--model", help="chat model for the text steps (default: the one in settings; none = records only)")
    ev.add_argument("--seed", type=int, default=0)
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
