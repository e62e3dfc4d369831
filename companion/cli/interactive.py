"""``companion chat``: an interactive, streaming conversation.

Commands: ``/image PATH`` (ask about a photo), ``/image`` (clear it), ``/temporary`` (toggle: answer but
remember nothing), ``/forget NAME`` (forget a concept everywhere), ``/persona`` (show), ``/persona reset``,
``/quit``.
"""

from __future__ import annotations

import argparse
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from companion.app import chat, concepts, memories
from companion.cli._services import services_for
from companion.cli.ask import print_events

if TYPE_CHECKING:
    from companion.app.chat import ChatSession
    from companion.app.services import Services


def run_interactive(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        session = chat.chat_session(services, model=args.model, temporary=args.temporary)
        print("Companion chat. /image PATH, /temporary, /forget NAME, /persona [reset], /quit")
        while True:
            try:
                line = input("you> ").strip()
            except EOFError:
                print()
                return 0
            if not line:
                continue
            if line in ("/quit", "/exit"):
                return 0
            if line.startswith("/"):
                _command(services, session, line)
                continue
            cancel = threading.Event()
            try:
                print_events(session.send(line, cancel=cancel), stream=True)
            except KeyboardInterrupt:
                cancel.set()
                print("\n[stopped]")


def _command(services: Services, session: ChatSession, line: str) -> None:
    name, _, rest = line.partition(" ")
    rest = rest.strip()
    if name == "/image":
        if rest and not Path(rest).expanduser().is_file():
            print(f"[no such file: {rest}]")
            return
        session.image = str(Path(rest).expanduser().resolve()) if rest else None
        print(f"[photo: {session.image}]" if session.image else "[photo cleared]")
    elif name == "/temporary":
        session.temporary = not session.temporary
        print("[temporary chat: nothing will be remembered]" if session.temporary else "[remembering again]")
    elif name == "/forget" and rest:
        report = concepts.forget_concept(services, rest)
        print(f"[forgot {report.name}: {report.memories} memories, {report.observations} observations]")
    elif name == "/persona":
        if rest == "reset":
            memories.reset_persona(services)
            print("[persona reset to neutral]")
        else:
            print("[persona: " + memories.describe_persona(memories.persona(services)) + "]")
    else:
        print("[unknown command]")
