"""``companion reminders list|confirm|dismiss``: reminders from imported conversations wait for your yes."""

from __future__ import annotations

import argparse

from companion.app import reminders
from companion.cli._services import services_for
from companion.cli.output import emit_json, table


def register(commands: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    group = commands.add_parser("reminders", parents=[parent],
                                help="reminders learnt from imported conversations: confirm or dismiss them")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(group))
    lst = sub.add_parser("list", parents=[parent], help="reminders waiting for your confirmation")
    lst.set_defaults(func=run_list)
    confirm = sub.add_parser("confirm", parents=[parent], help="let a reminder fire from now on")
    confirm.add_argument("id", type=int)
    confirm.set_defaults(func=run_confirm)
    dismiss = sub.add_parser("dismiss", parents=[parent], help="delete a reminder you do not want")
    dismiss.add_argument("id", type=int)
    dismiss.set_defaults(func=run_dismiss)


def run_list(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        found = reminders.waiting(services)
    if args.json:
        emit_json(found)
    elif not found:
        print("No reminders are waiting for confirmation.")
    else:
        print("Learnt from imported conversations; each fires only once you confirm it "
              "(companion reminders confirm ID).")
        table([[str(r.id), r.about, r.instruction[:70]] for r in found], ["id", "about", "reminder"])
    return 0


def run_confirm(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        reminders.confirm(services, args.id)
    if args.json:
        emit_json({"confirmed": args.id})
    else:
        print(f"Reminder {args.id} is active.")
    return 0


def run_dismiss(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        reminders.dismiss(services, args.id)
    if args.json:
        emit_json({"dismissed": args.id})
    else:
        print(f"Reminder {args.id} deleted.")
    return 0
