"""``companion ask [--image PATH] [--model NAME] [--temporary] [--json] "question"``: one personal question."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from companion.app import chat
from companion.app.chat import (
    Answer,
    AnswerEvent,
    Caption,
    Done,
    Fix,
    Notice,
    Recognition,
    ReminderFired,
    Token,
)
from companion.cli._services import services_for
from companion.cli.output import emit_json, to_jsonable


def register(commands: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    ask = commands.add_parser("ask", parents=[parent],
                              help="ask about your people, pets and things (optionally a photo)")
    ask.add_argument("question")
    ask.add_argument("--image", type=Path, metavar="PATH", help="a photo to ask about")
    ask.add_argument("--model", help="the chat model to use (default: the one in settings)")
    ask.add_argument("--temporary", action="store_true", help="answer but do not remember this question")
    ask.set_defaults(func=run_ask)


def print_events(events: Iterable[AnswerEvent], *, stream: bool) -> Answer | None:
    """Show events as text (streaming tokens) and return the final Answer."""
    answer = None
    for event in events:
        if isinstance(event, Done):
            answer = event.answer
        if stream:
            _print(event)
    return answer


def _print(event: AnswerEvent) -> None:
    match event:
        case Recognition(recognized=recognized) if recognized:
            print("[recognized: " + ", ".join(f"{r.name} ({r.source} {r.confidence:.2f})" for r in recognized) + "]")
        case ReminderFired(text=text):
            print(f"[{text}]")
        case Notice(text=text, hint=hint):
            print(f"[{' '.join(part for part in (text, hint) if part)}]", file=sys.stderr)
        case Token(text=text):
            print(text, end="", flush=True)
        case Fix(text=text, replace=replace):
            print(("\n[corrected from your records] " if replace else "\n") + text, end="")
        case Done():
            print()
        case Caption() | Recognition():
            pass


def answer_json(answer: Answer | None) -> dict[str, Any] | None:
    """The answer as JSON (the command line's edge: the core's answer is typed)."""
    if answer is None:
        return None
    out: dict[str, Any] = to_jsonable(answer)
    out["plan"] = answer.plan.to_json() | {"queries": list(answer.queries)}
    del out["queries"]
    return out


def run_ask(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        events = chat.ask(services, args.question, args.image, model=args.model, temporary=args.temporary)
        answer = print_events(events, stream=not args.json)
    if args.json:
        emit_json(answer_json(answer))
    return 0
