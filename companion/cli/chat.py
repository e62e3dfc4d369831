"""``companion chat``: import past conversations (``--import``) or talk interactively."""

from __future__ import annotations

import argparse
from pathlib import Path

from companion.app import chat
from companion.cli._services import services_for
from companion.cli.output import emit_json


def register(commands: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    parser = commands.add_parser("chat", parents=[parent], help="talk with Companion, or import past conversations")
    parser.add_argument("--import", dest="import_file", type=Path, metavar="FILE.jsonl",
                        help='import past turns: one {"time", "role", "text", "images"} object a line')
    parser.add_argument("--model", help="the chat model to use (default: the one in settings)")
    parser.add_argument("--temporary", action="store_true", help="answer but remember nothing of this chat")
    parser.set_defaults(func=run_chat)


def run_chat(args: argparse.Namespace) -> int:
    if args.import_file is not None:
        return run_import(args)
    from companion.cli.interactive import run_interactive

    return run_interactive(args)


def run_import(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        result = chat.import_chat(services, args.import_file)
    if args.json:
        emit_json(result)
    else:
        print(f"Imported {result.turns} turns (conversation {result.conversation_id}); "
              f"learned {result.memories} memories.")
    return 0
