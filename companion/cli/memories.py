"""``companion memories list|show|edit|forget``: everything Companion believes, visible and erasable."""

from __future__ import annotations

import argparse
from typing import Any

from companion.app import memories as use_cases
from companion.cli._services import services_for
from companion.cli.output import emit_json, table, to_jsonable, when
from companion.core.types import MEMORY_KINDS, Memory


def register(commands: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    group = commands.add_parser("memories", parents=[parent], help="what Companion remembers about you")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(group))

    lst = sub.add_parser("list", parents=[parent], help="newest first")
    lst.add_argument("--kind", choices=MEMORY_KINDS)
    lst.add_argument("--about", metavar="CONCEPT", help="only memories linked to this concept")
    lst.add_argument("--search", metavar="TEXT", help="full-text search")
    lst.add_argument("--limit", type=int, default=50)
    lst.set_defaults(func=run_list)

    show = sub.add_parser("show", parents=[parent], help="one memory with its sources")
    show.add_argument("id", type=int)
    show.set_defaults(func=run_show)

    edit = sub.add_parser("edit", parents=[parent], help="correct a memory")
    edit.add_argument("id", type=int)
    edit.add_argument("--content")
    edit.add_argument("--keywords", help="comma-separated")
    edit.add_argument("--kind", choices=MEMORY_KINDS)
    edit.set_defaults(func=run_edit)

    forget = sub.add_parser("forget", parents=[parent], help="delete a memory everywhere")
    forget.add_argument("id", type=int)
    forget.set_defaults(func=run_forget)


def run_list(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        memories = use_cases.find_memories(services, args.kind, args.about, args.search or "", args.limit)
    if args.json:
        emit_json(memories)
    elif not memories:
        print("No memories yet.")
    else:
        table([[str(m.id), m.kind, when(m.time), m.content[:70]] for m in memories], ["id", "kind", "time", "content"])
    return 0


def run_show(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        detail = use_cases.memory_detail(services, args.id)
    memory, concepts, turns = detail.memory, detail.concepts, detail.turns
    if args.json:
        emit_json({**_plain(memory), "concepts": concepts, "source_turns": turns})
        return 0
    print(f"#{memory.id} {memory.kind}  {when(memory.time)}{'  at ' + memory.place if memory.place else ''}")
    print(f"  {memory.content}")
    if memory.keywords:
        print(f"  keywords: {', '.join(memory.keywords)}")
    if concepts:
        print(f"  about: {', '.join(concepts)}")
    if memory.origin:
        print(f"  {use_cases.imported_from(memory)}")
    for turn in turns:
        print(f"  from {when(turn.time)}: {turn.text[:80]}")
    return 0


def _plain(memory: Memory) -> dict[str, Any]:
    plain: dict[str, Any] = to_jsonable(memory)
    return plain


def run_edit(args: argparse.Namespace) -> int:
    keywords = [k.strip() for k in args.keywords.split(",") if k.strip()] if args.keywords is not None else None
    with services_for(args) as services:
        memory = use_cases.edit_memory(services, args.id, args.content, keywords=keywords, kind=args.kind)
    if args.json:
        emit_json(memory)
    else:
        print(f"Updated memory #{memory.id}.")
    return 0


def run_forget(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        use_cases.memory(services, args.id)    # NotFoundError: say so instead of "forgot"
        use_cases.forget_memory(services, args.id)
    if args.json:
        emit_json({"forgotten": args.id})
    else:
        print(f"Forgot memory #{args.id}.")
    return 0
