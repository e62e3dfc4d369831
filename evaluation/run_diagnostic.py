"""``python -m evaluation --suite diagnostic``: CoViP's LSD, LAR and ITR end to end.

Builds a fresh profile (under --home, else a temporary folder): two people with real face photos
(scikit-image's astronaut, matplotlib's Grace Hopper) as reference keys, a seeded conversation history
imported through the normal import path, then asks LSD, LAR and ITR about *new*
(augmented) photos of each person through the real pipeline and prints the scores.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from companion.app import chat, concepts, reminders
from companion.app.services import Services
from companion.cli.output import emit_json
from companion.core.answer.pipeline import run
from evaluation import diagnostic
from evaluation.faces import sample_faces


def run_diagnostic(args: argparse.Namespace) -> int:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="companion-eval-") as scratch:
        home = Path(args.home) if args.home else Path(scratch) / "home"
        services = Services.open(home)
        try:
            photos = sample_faces(Path(scratch) / "photos")
            for name, (reference, _) in photos.items():
                if services.store.concepts.by_name(name) is None:
                    concepts.add_concept(services, name, "person", images=[reference])
            history = diagnostic.generate_history(list(photos), seed=args.seed)
            jsonl = Path(scratch) / "history.jsonl"
            jsonl.write_text("\n".join(json.dumps(t) for t in history.turns) + "\n", encoding="utf-8")
            chat.import_chat(services, jsonl)
            for waiting in reminders.waiting(services):     # imported reminders wait for a yes: the user gives it
                reminders.confirm(services, waiting.id)
            deps = services.deps(args.model)
            scores = diagnostic.run_diagnostic(lambda q, image: run(deps, q, image, temporary=True), history.gold,
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
