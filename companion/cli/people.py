"""``companion people write-xmp``: the names given here, written as XMP sidecars other photo apps read."""

from __future__ import annotations

import argparse

from companion.app import xmp_sidecars
from companion.cli._services import services_for
from companion.cli.output import emit_json


def register(commands: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    group = commands.add_parser("people", parents=[parent], help="people's names for other photo apps")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(group))
    write = sub.add_parser("write-xmp", parents=[parent],
                           help="write photo.jpg.xmp sidecars naming the faces (the photos are never changed)")
    write.set_defaults(func=run_write_xmp)


def run_write_xmp(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        report = xmp_sidecars.write_xmp(services)
    if args.json:
        emit_json(report)
        return 0
    print(f"Wrote {report.written} XMP sidecars ({report.unchanged} already up to date).")
    for path in report.kept:
        print(f"  kept {path}.xmp: another app wrote it")
    for path in report.missing:
        print(f"  not written for {path}: the photo is not there or cannot be read")
    return 0
