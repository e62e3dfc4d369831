"""``companion models list|download|add|remove|verify``: getting models onto this machine.

Nothing here touches the network except ``download``, which the user asks for.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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
    from companion.backends import model_manager

    with services_for(args) as services:
        rows = model_manager.list_models(services.paths)
        chosen = services.settings.model
    if args.json:
        emit_json([{**vars(r), "chosen": r.name == chosen} for r in rows])
        return 0
    table([[("* " if r.name == chosen else "  ") + r.name, r.kind, "yes" if r.installed else "no",
             f"{r.size / 1e6:.0f} MB", r.license, r.title] for r in rows],
          ["  name", "kind", "installed", "size", "license", "description"])
    return 0


def _choose(services, name: str) -> None:  # type: ignore[no-untyped-def]
    services.settings.model = name
    services.save_settings()


def run_download(args: argparse.Namespace) -> int:
    from companion.backends import model_manager

    def progress(done: int, total: int | None) -> None:
        if not args.json and sys.stderr.isatty():
            share = f"{done / total:6.1%}" if total else f"{done / 1e6:.0f} MB"
            print(f"\rdownloading {args.name}: {share}", end="", file=sys.stderr, flush=True)

    with services_for(args) as services:
        files = model_manager.download(services.paths, args.name, progress)
        if args.use:
            _choose(services, args.name)
    if args.json:
        emit_json({"name": args.name, "files": files})
    else:
        print(f"\nDownloaded {args.name}: " + ", ".join(str(f) for f in files))
    return 0


def run_add(args: argparse.Namespace) -> int:
    from companion.backends import model_manager

    files = [args.model] + ([args.mmproj] if args.mmproj else [])
    for file in files:
        if not file.is_file():
            print(f"companion: error: no such file: {file}", file=sys.stderr)
            return 1
    with services_for(args) as services:
        status = model_manager.add_local(services.paths, args.name, files)
        if args.use:
            _choose(services, args.name)
    if args.json:
        emit_json(status)
    else:
        print(f"Added {status.name} ({status.kind}, {status.size / 1e6:.0f} MB).")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from companion.backends import model_manager

    with services_for(args) as services:
        model_manager.remove(services.paths, args.name)
        if services.settings.model == args.name:
            _choose(services, "")
    if args.json:
        emit_json({"removed": args.name})
    else:
        print(f"Removed {args.name}.")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from companion.backends import model_manager

    with services_for(args) as services:
        results = model_manager.verify(services.paths, args.name)
    if args.json:
        emit_json([{"file": f, "ok": ok, "detail": d} for f, ok, d in results])
    else:
        for file, ok, detail in results:
            print(f"{'ok  ' if ok else 'FAIL'} {file} {detail}")
    return 0


def run_use(args: argparse.Namespace) -> int:
    from companion.backends import model_manager

    with services_for(args) as services:
        model_manager.resolve_model(args.name, services.paths, services.settings)  # must be installed
        _choose(services, args.name)
    if args.json:
        emit_json({"model": args.name})
    else:
        print(f"Companion will answer with {args.name}.")
    return 0
