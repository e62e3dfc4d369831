"""``companion models list|download|add|remove|verify``: getting models onto this machine.

Nothing here touches the network except ``download``, which the user asks for.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from companion.app import models
from companion.cli._services import services_for
from companion.cli.output import emit_json, table


def register(commands: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    group = commands.add_parser("models", parents=[parent], help="list, download, add, remove and verify models")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(group))

    sub.add_parser("list", parents=[parent], help="recommended and local models, installed or not") \
        .set_defaults(func=run_list)

    download = sub.add_parser("download", parents=[parent], help="download a catalog model (needs the network)")
    download.add_argument("name")
    download.add_argument("--use", action="store_true", help="make it the chat model afterwards")
    download.set_defaults(func=run_download)

    add = sub.add_parser("add", parents=[parent], help="register GGUF files you already have")
    add.add_argument("name", help="the name to use it by")
    add.add_argument("model", type=Path, help="the language model GGUF")
    add.add_argument("--mmproj", type=Path, help="the vision projector GGUF of a vision model")
    add.add_argument("--use", action="store_true", help="make it the chat model")
    add.set_defaults(func=run_add)

    remove = sub.add_parser("remove", parents=[parent], help="delete a downloaded model or forget a local one")
    remove.add_argument("name")
    remove.set_defaults(func=run_remove)

    verify = sub.add_parser("verify", parents=[parent], help="check a model's files against their sha256")
    verify.add_argument("name")
    verify.set_defaults(func=run_verify)

    use = sub.add_parser("use", parents=[parent], help="choose the chat model")
    use.add_argument("name")
    use.set_defaults(func=run_use)


def run_list(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        rows = models.list_models(services)
        chosen = services.settings.model
    if args.json:
        emit_json([{**vars(r), "chosen": r.name == chosen} for r in rows])
        return 0
    table([[("* " if r.name == chosen else "  ") + r.name, r.kind, "yes" if r.installed else "no",
             f"{r.size / 1e6:.0f} MB", r.license, r.title] for r in rows],
          ["  name", "kind", "installed", "size", "license", "description"])
    return 0


def run_download(args: argparse.Namespace) -> int:
    bar = tqdm(desc=f"downloading {args.name}", unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr,
               leave=False, disable=args.json or not sys.stderr.isatty())

    def progress(done: int, total: int | None) -> None:
        if total is not None and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    with services_for(args) as services:
        try:
            files = models.download(services, args.name, progress)
        finally:
            bar.close()
        if args.use:
            models.choose(services, args.name)
    if args.json:
        emit_json({"name": args.name, "files": files})
    else:
        print(f"\nDownloaded {args.name}: " + ", ".join(str(f) for f in files))
    return 0


def run_add(args: argparse.Namespace) -> int:
    files = [args.model] + ([args.mmproj] if args.mmproj else [])
    for file in files:
        if not file.is_file():
            print(f"companion: error: no such file: {file}", file=sys.stderr)
            return 2
    with services_for(args) as services:
        status = models.add_local(services, args.name, files)
        if args.use:
            models.choose(services, args.name)
    if args.json:
        emit_json(status)
    else:
        print(f"Added {status.name} ({status.kind}, {status.size / 1e6:.0f} MB).")
        if status.note:
            print(f"Note: {status.note}.")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        models.remove(services, args.name)
        if services.settings.model == args.name:
            models.choose(services, "")
    if args.json:
        emit_json({"removed": args.name})
    else:
        print(f"Removed {args.name}.")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        results = models.verify(services, args.name)
    if args.json:
        emit_json([{"file": f, "ok": ok, "detail": d} for f, ok, d in results])
    else:
        for file, ok, detail in results:
            print(f"{'ok  ' if ok else 'FAIL'} {file} {detail}")
    return 0


def run_use(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        models.use(services, args.name)
    if args.json:
        emit_json({"model": args.name})
    else:
        print(f"Companion will answer with {args.name}.")
    return 0
