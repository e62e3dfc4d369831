"""``companion chat``: import past conversations (``--import``) or talk interactively."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from companion.app import chat, reminders
from companion.cli._services import services_for
from companion.cli.output import emit_json
from companion.cli.progress import ProgressBar


def register(commands: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    parser = commands.add_parser("chat", parents=[parent], help="talk with Companion, or import past conversations")
    parser.add_argument("--import", dest="import_file", type=Path, metavar="FILE",
                        help="import past conversations: a ChatGPT export (the zip or its conversations.json), a "
                             'Claude export (conversations.json) or JSONL, one {"time", "role", "text", "images", '
                             '"id"} object a line; an interrupted import continues where it stopped, a repeated '
                             "one adds nothing")
    parser.add_argument("--model", help="the chat model to use (default: the one in settings)")
    parser.add_argument("--temporary", action="store_true", help="answer but remember nothing of this chat")
    parser.set_defaults(func=run_chat)


def run_chat(args: argparse.Namespace) -> int:
    if args.import_file is not None:
        return run_import(args)
    from companion.cli.interactive import run_interactive

    return run_interactive(args)


def run_import(args: argparse.Namespace) -> int:
    bar = ProgressBar(enabled=sys.stderr.isatty() and not args.json)
    result: chat.ImportResult | None = None
    saved = 0
    with services_for(args) as services:
        try:
            for step in chat.import_steps(services, args.import_file):
                if isinstance(step, chat.ImportResult):
                    result = step
                else:
                    saved = step.done if step.stage == "import" else saved
                    bar.show(step)
        except KeyboardInterrupt:
            bar.close()
            # The batch in flight rolled back; every earlier one is stored with what was learnt from it.
            print(f"companion: cancelled: {saved:,} messages are saved; run the same command again to continue",
                  file=sys.stderr)
            return 130
        finally:
            bar.close()
        waiting = len(reminders.waiting(services))
    assert result is not None
    if args.json:
        emit_json(result)
    else:
        print(chat.describe_import(result))
        if waiting:
            print(f"{waiting} reminder{'s' if waiting != 1 else ''} from imported text wait for your confirmation: "
                  "companion reminders list")
    return 0

