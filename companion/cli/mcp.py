"""``companion mcp``: serve the records to the user's other AI apps over the Model Context Protocol
(stdio; the app launches it); ``companion mcp activity [--clear]``: what they asked."""

from __future__ import annotations

import argparse

from companion.app import activity
from companion.cli._services import services_for
from companion.cli.output import emit_json, table, when


def register(commands: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    group = commands.add_parser(
        "mcp", parents=[parent],
        help="serve your records to other AI apps (Claude Desktop, LM Studio, Jan) over MCP, on stdio",
        description="Runs a Model Context Protocol server on stdin/stdout for the app that launches it. "
                    "Read-only unless writes are turned on in Settings > Privacy; every call is logged "
                    "(companion mcp activity).")
    group.set_defaults(func=run_serve)
    sub = group.add_subparsers(dest="action", metavar="[ACTION]", parser_class=type(group))   # none: serve
    log = sub.add_parser("activity", parents=[parent], help="what other apps asked over MCP, newest first")
    log.add_argument("--clear", action="store_true", help="delete the activity list")
    log.add_argument("--limit", type=int, default=50, help="how many calls to list (default 50)")
    log.set_defaults(func=run_activity)


def run_serve(args: argparse.Namespace) -> int:
    # The SDK is imported only here: every other command starts without it.
    from companion.mcp.server import serve

    with services_for(args) as services:
        serve(services)
    return 0


def run_activity(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        if args.clear:
            cleared = activity.clear(services)
            if args.json:
                emit_json({"cleared": cleared})
            else:
                print(f"Cleared {cleared} call{'s' if cleared != 1 else ''} from the activity list.")
            return 0
        entries = activity.recent(services, max(1, args.limit))
    if args.json:
        emit_json(entries)
    elif not entries:
        print("No app has asked Companion anything over MCP.")
    else:
        table([[when(e.time), e.client or "-", e.tool, e.detail[:60], e.outcome, str(e.results)] for e in entries],
              ["time", "app", "tool", "asked", "outcome", "results"])
    return 0
