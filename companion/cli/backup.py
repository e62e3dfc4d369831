"""``companion backup FILE`` / ``restore FILE`` / ``export``: take a profile along, bring it back, read it anywhere."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from companion.app import backup as use_cases
from companion.app import export as exporting
from companion.cli._services import services_for
from companion.cli.output import emit_json, to_jsonable


def register(commands: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    make = commands.add_parser("backup", parents=[parent],
                               help="write the whole profile (memories, people, faces, settings) into one .zip")
    make.add_argument("file", type=Path, metavar="FILE", help="the archive to write, e.g. companion-backup.zip")
    make.add_argument("--include-models", action="store_true", help="also the model files (large)")
    make.add_argument("--include-thumbnails", action="store_true",
                      help="also the thumbnails (indexing makes them again otherwise)")
    make.set_defaults(func=run_backup)

    back = commands.add_parser("restore", parents=[parent],
                               help="restore a backup into this profile (a new or empty one, unless --replace)")
    back.add_argument("file", type=Path, metavar="FILE")
    back.add_argument("--replace", action="store_true",
                      help="replace a profile that already holds people, photos or memories "
                           "(quit the window and `companion watch` first)")
    back.set_defaults(func=run_restore)

    out = commands.add_parser("export", parents=[parent],
                              help="write memories and people as plain files (JSON Lines or Markdown)")
    out.add_argument("--format", choices=("jsonl", "markdown"), default="jsonl")
    out.add_argument("--out", type=Path, metavar="DIR", default=Path("companion-export"),
                     help="the folder to write into (default: ./companion-export)")
    out.set_defaults(func=run_export)


def _say(text: str) -> None:
    print(f"{text}...", file=sys.stderr)


def run_backup(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        report = use_cases.backup_profile(services, args.file, include_models=args.include_models,
                                          include_thumbnails=args.include_thumbnails,
                                          progress=None if args.json else _say)
    if args.json:
        emit_json(report)
        return 0
    extras = [name for name, on in (("models", report.models), ("thumbnails", report.thumbnails)) if on]
    print(f"Backed up to {report.path}: {report.files} files, {report.bytes / 1e6:.1f} MB "
          f"({report.concept_images} reference photos, {len(report.watched_folders)} watched folders"
          f"{', with ' + ' and '.join(extras) if extras else ''}).")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    report = use_cases.restore_home(args.home, args.file, replace=args.replace,
                                    progress=None if args.json else _say)
    if args.json:
        emit_json(to_jsonable(report))
        return 0
    info = report.info
    print(f"Restored the backup of {info.created_at or 'an unknown date'} (Companion {info.companion_version}): "
          f"{report.people} people, {report.photos} photos, {report.memories} memories"
          f"{' (the profile was replaced)' if report.replaced else ''}.")
    for folder in report.missing_folders:
        print(f"Watched folder not on this computer: {folder} (add it again with `companion folders add`)")
    return 0


def run_export(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        report = exporting.export(services, args.out, args.format)
    if args.json:
        emit_json(report)
    else:
        print(f"Exported {report.people} people, {report.sightings} sightings and {report.memories} memories "
              f"to {report.folder} ({', '.join(p.name for p in report.files)}).")
    return 0
