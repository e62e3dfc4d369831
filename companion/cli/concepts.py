"""``companion concepts add|import|list|show|edit|forget``: the people, pets, objects and places you know."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from companion.app import concepts
from companion.cli._services import services_for
from companion.cli.output import emit_json, table, when
from companion.core.types import CATEGORIES, Concept


def register(commands: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    group = commands.add_parser("concepts", parents=[parent], help="people, pets, objects and places you know")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(group))

    add = sub.add_parser("add", parents=[parent], help="add a concept card")
    add.add_argument("--name", required=True)
    add.add_argument("--category", required=True, choices=CATEGORIES)
    add.add_argument("--info", default="", help="a short description the model will read")
    add.add_argument("--image", action="append", default=[], type=Path, metavar="PATH",
                     help="a reference photo (repeatable); for a person, the face in it becomes a key")
    add.add_argument("--box", type=int, nargs=4, metavar=("LEFT", "TOP", "RIGHT", "BOTTOM"),
                     help="which face or region of the (single) image to use")
    add.set_defaults(func=run_add)

    imp = sub.add_parser("import", parents=[parent],
                         help="bring in a RAP concept database (database.json and its images); importing again "
                              "updates the cards instead of adding them twice")
    imp.add_argument("database", type=Path, metavar="DATABASE.json")
    imp.set_defaults(func=run_import)

    lst = sub.add_parser("list", parents=[parent], help="list concepts")
    lst.add_argument("--category", choices=CATEGORIES)
    lst.set_defaults(func=run_list)

    show = sub.add_parser("show", parents=[parent], help="a concept's card, keys, timeline and reminders")
    show.add_argument("concept", help="name or id")
    show.set_defaults(func=run_show)

    edit = sub.add_parser("edit", parents=[parent], help="rename or change a concept (takes effect at once)")
    edit.add_argument("concept", help="name or id")
    edit.add_argument("--name")
    edit.add_argument("--category", choices=CATEGORIES)
    edit.add_argument("--info")
    edit.add_argument("--image", action="append", default=[], type=Path, metavar="PATH",
                      help="add a reference photo")
    edit.set_defaults(func=run_edit)

    forget = sub.add_parser("forget", parents=[parent],
                            help="remove a concept and everything remembered about it")
    forget.add_argument("concept", help="name or id")
    forget.set_defaults(func=run_forget)


def run_add(args: argparse.Namespace) -> int:
    if args.box and len(args.image) != 1:
        print("companion: error: --box needs exactly one --image", file=sys.stderr)
        return 2
    with services_for(args) as services:
        concept = concepts.add_concept(services, args.name, args.category, args.info, args.image, box=args.box)
        refs = concepts.keys(services, concept.id)
        waiting = concepts.waiting_keys(services, concept.id)
    if args.json:
        emit_json({"concept": concept, "keys": len(refs), "waiting_for_image_model": waiting})
    else:
        print(f"Added {concept.category} {concept.name!r} (id {concept.id}) with {len(refs)} reference key(s).")
        if waiting:
            print(f"{waiting} reference photo(s) kept: {concept.name} is found in your photos once the image model "
                  "is installed (companion models download clip-vit-b-32).")
    return 0


def run_import(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        report = concepts.import_rap(services, args.database)
        waiting = concepts.waiting_keys(services)
    if args.json:
        emit_json(report)
        return 0
    for line in report.lines:
        for text in concepts.describe_rap_line(line):
            print(text)
    print(f"{report.count('added')} added, {report.count('updated')} updated, {report.count('unchanged')} unchanged, "
          f"{report.count('skipped')} skipped.")
    if waiting:
        print(f"{waiting} reference photo(s) kept: they are matched in your photos once the image model is installed "
              "(companion models download clip-vit-b-32).")
    return 0


def run_list(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        cards = concepts.list_concepts(services, args.category)
        keys = {c.id: len(concepts.keys(services, c.id)) for c in cards}
    if args.json:
        emit_json([{**_card(c), "keys": keys[c.id]} for c in cards])
    elif not cards:
        print("No concepts yet. Add one with: companion concepts add --name NAME --category person")
    else:
        table([[str(c.id), c.name, c.category, str(keys[c.id]), c.info[:50]] for c in cards],
              ["id", "name", "category", "keys", "info"])
    return 0


def _card(concept: Concept) -> dict[str, Any]:
    return {"id": concept.id, "name": concept.name, "category": concept.category, "info": concept.info,
            "created_at": concept.created_at, "updated_at": concept.updated_at}


def run_show(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        detail = concepts.concept_detail(services, args.concept, timeline=20)
    concept, refs, timeline, reminders = detail.concept, detail.keys, detail.timeline, detail.reminders
    if args.json:
        emit_json({**_card(concept), "keys": refs, "timeline": timeline, "reminders": reminders})
        return 0
    print(f"{concept.name} ({concept.category}, id {concept.id})")
    if concept.info:
        print(f"  {concept.info}")
    print(f"  reference keys: {len(refs)}")
    for obs in timeline:
        where = f" at {obs.place}" if obs.place else ""
        print(f"  {when(obs.time)}  {obs.kind} ({obs.source}){where}")
    for trigger in reminders:
        print(f"  reminder: {trigger.instruction}")
    return 0


def run_edit(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        concept = concepts.resolve(services, args.concept)
        concept = concepts.edit_concept(services, concept.id, args.name, args.category, args.info)
        for image in args.image:
            concepts.add_concept_key(services, concept.id, image)
    if args.json:
        emit_json(_card(concept))
    else:
        print(f"Updated {concept.name!r}.")
    return 0


def run_forget(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        report = concepts.forget_concept(services, args.concept)
    if args.json:
        emit_json(report)
    else:
        print(f"Forgot {report.name!r}: {report.memories} memories, {report.observations} observations, "
              f"{report.faces} faces, {report.turns} conversation turns removed.")
        if not report.wal_cleared:
            print("Another program was reading the memory store: the forgotten rows leave its journal file "
                  "(companion.db-wal) when that program closes.")
    return 0
