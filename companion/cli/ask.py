"""``companion ask [--image PATH] [--model NAME] [--temporary] [--json] "question"``: one personal question."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from companion.app import chat
from companion.cli._services import services_for
from companion.cli.output import emit_json


def register(commands: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    ask = commands.add_parser("ask", parents=[parent],
                              help="ask about your people, pets and things (optionally a photo)")
    ask.add_argument("question")
    ask.add_argument("--image", type=Path, metavar="PATH", help="a photo to ask about")
    ask.add_argument("--model", help="the chat model to use (default: the one in settings)")
    ask.add_argument("--temporary", action="store_true", help="answer but do not remember this question")
    ask.set_defaults(func=run_ask)


def print_events(events: Any, *, stream: bool) -> Any:
    """Show events as text (streaming tokens) and return the final Answer."""
    answer = None
    for event in events:
        if not stream:
            if event.kind == "done":
                answer = event.answer
            continue
        if event.kind == "recognized" and event.recognized:
            print("[recognized: " + ", ".join(f"{r.name} ({r.source} {r.confidence:.2f})" for r in event.recognized)
                  + "]")
        elif event.kind == "reminder":
            print(f"[{event.text}]")
        elif event.kind == "notice":
            print(f"[{event.text}]", file=sys.stderr)
        elif event.kind == "token":
            print(event.text, end="", flush=True)
        elif event.kind == "fix":
            print(("\n[corrected from your records] " if event.replace else "\n") + event.text, end="")
        elif event.kind == "done":
            print()
            answer = event.answer
    return answer


def run_ask(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        events = chat.ask(services, args.question, args.image, model=args.model, temporary=args.temporary)
        answer = print_events(events, stream=not args.json)
    if args.json:
        emit_json(answer)
    return 0
