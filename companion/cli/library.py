"""``companion index|search|faces|folders|watch``: the photo library from the command line."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from companion.app import concepts, library
from companion.app.library import IndexSummary
from companion.cli._services import services_for
from companion.cli.output import emit_json, table, when
from companion.cli.progress import ProgressBar

if TYPE_CHECKING:
    from companion.app.services import Services


def register(commands: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    index = commands.add_parser("index", parents=[parent], help="add photos from folders or files to the library")
    index.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                       help="folders or photo files (default: the watched folders)")
    index.add_argument("--retry-failed", action="store_true",
                       help="try again every file that could not be indexed, however often it failed "
                            "(otherwise a failed file is tried on the next few runs, then when it changes)")
    index.set_defaults(func=run_index)

    search = commands.add_parser("search", parents=[parent], help="find photos by a description")
    search.add_argument("text", help='e.g. "beach with the dog"')
    search.add_argument("--limit", type=int, default=20, metavar="N")
    search.set_defaults(func=run_search)

    faces = commands.add_parser("faces", parents=[parent], help="face groups: list, name, merge, split, remove")
    sub = faces.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(faces))
    lst = sub.add_parser("list", parents=[parent], help="face groups, largest first")
    lst.add_argument("--unnamed", action="store_true", help="only groups waiting for a name")
    lst.set_defaults(func=run_faces_list)
    name = sub.add_parser("name", parents=[parent], help="name a face group (a new or an existing person)")
    name.add_argument("group", type=int, help="group id (see 'faces list')")
    name.add_argument("name", help="the person's name, or a concept id")
    name.set_defaults(func=run_faces_name)
    merge = sub.add_parser("merge", parents=[parent], help="merge face group A into group B (same person)")
    merge.add_argument("a", type=int)
    merge.add_argument("b", type=int)
    merge.set_defaults(func=run_faces_merge)
    split = sub.add_parser("split", parents=[parent], help="move faces into a group of their own")
    split.add_argument("face_ids", type=int, nargs="+", metavar="FACE_ID")
    split.set_defaults(func=run_faces_split)
    remove = sub.add_parser("remove", parents=[parent], help="forget a face (a false detection or a stranger)")
    remove.add_argument("face_id", type=int)
    remove.set_defaults(func=run_faces_remove)

    folders = commands.add_parser("folders", parents=[parent], help="watched folders: add, remove, list")
    fsub = folders.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(folders))
    fadd = fsub.add_parser("add", parents=[parent], help="watch a folder (index it with 'companion index')")
    fadd.add_argument("path", type=Path)
    fadd.set_defaults(func=run_folders_add)
    fremove = fsub.add_parser("remove", parents=[parent], help="stop watching a folder (its photos stay)")
    fremove.add_argument("path", type=Path)
    fremove.set_defaults(func=run_folders_remove)
    flist = fsub.add_parser("list", parents=[parent], help="the watched folders")
    flist.set_defaults(func=run_folders_list)

    watch = commands.add_parser("watch", parents=[parent],
                                help="index new and changed photos in the watched folders until Ctrl-C")
    watch.add_argument("--no-initial-scan", action="store_true", help="do not index the folders first")
    watch.set_defaults(func=run_watch)


# ---- index ------------------------------------------------------------------------------


def print_summary(summary: IndexSummary) -> None:
    state = " (cancelled)" if summary.cancelled else ""
    copies = f", {summary.copies} more path(s) of photos already indexed" if summary.copies else ""
    print(f"Indexed in {summary.seconds:.1f} s{state}: {summary.new} new, {summary.changed} changed, "
          f"{summary.unchanged} unchanged, {summary.moved} moved, {summary.removed} removed{copies}, "
          f"{len(summary.skipped)} skipped; {summary.faces} faces found.")
    if summary.not_photos:
        print(f"  {summary.not_photos_text()}")
    for path, reason in summary.skipped:
        print(f"  skipped {path}: {reason}")
    if summary.tagged:
        print(f"  {summary.tagged} faces named from other apps' tags")
    for path, reason in summary.tag_problems:
        print(f"  face tags not read for {path}: {reason}")
    for reminder in summary.reminders:
        print(f"Reminder: {reminder.text()} ({reminder.path})")


def run_index(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        targets = list(args.paths) or [Path(f) for f in services.settings.watched_folders]
        if not targets:
            print("companion: error: nothing to index: give a folder, or add one with 'companion folders add PATH'",
                  file=sys.stderr)
            return 2
        bar = ProgressBar(enabled=sys.stderr.isatty() and not args.json)
        summary: IndexSummary | None = None
        try:
            for item in library.index(services, targets, threading.Event(), retry_failed=args.retry_failed):
                if isinstance(item, IndexSummary):
                    summary = item
                else:
                    bar.show(item)
        finally:
            bar.close()
    assert summary is not None
    if args.json:
        emit_json(summary.as_dict())
    else:
        print_summary(summary)
    return 0


# ---- search and faces ----------------------------------------------------------------------


def run_search(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        hits = library.search_photos(services, args.text, args.limit)
    if args.json:
        emit_json([{"photo": hit.photo, "distance": round(hit.distance, 4)} for hit in hits])
    elif not hits:
        print("No photos indexed yet. Add some with: companion index FOLDER")
    else:
        table([[str(h.photo.id), f"{1 - h.distance:.3f}", when(h.photo.taken_at),
                h.photo.place.label() if h.photo.place else "", h.photo.path] for h in hits],
              ["id", "score", "taken", "place", "path"])
    return 0


def _group_rows(services: Services, named: bool | None) -> list[dict[str, Any]]:
    rows = []
    for group in library.face_groups(services, named=named):
        concept = concepts.concept(services, group.concept_id) if group.concept_id else None
        rows.append({"id": group.id, "size": group.size, "name": concept.name if concept else None,
                     "concept_id": group.concept_id, "face_ids": group.sample_face_ids})
    return rows


def run_faces_list(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        rows = _group_rows(services, False if args.unnamed else None)
    if args.json:
        emit_json(rows)
    elif not rows:
        print("No face groups yet (index some photos; a group needs a few photos of the same face).")
    else:
        table([[str(r["id"]), str(r["size"]), r["name"] or "(unnamed)", " ".join(map(str, r["face_ids"]))]
               for r in rows], ["group", "faces", "name", "face ids"])
    return 0


def run_faces_name(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        concept = library.name_face_group(services, args.group, args.name)
        photos = library.photo_count(services, concept.id)
    if args.json:
        emit_json({"concept_id": concept.id, "name": concept.name, "photos": photos})
    else:
        print(f"Group {args.group} is now {concept.name!r} (concept {concept.id}), seen in {photos} photos.")
    return 0


def run_faces_merge(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        kept = library.merge_face_groups(services, args.a, args.b)
    if args.json:
        emit_json({"group": kept})
    else:
        print(f"Merged groups {args.a} and {args.b} into group {kept}.")
    return 0


def run_faces_split(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        group = library.split_faces(services, args.face_ids)
    if args.json:
        emit_json({"group": group})
    else:
        print(f"Moved {len(args.face_ids)} face(s) into new group {group}.")
    return 0


def run_faces_remove(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        library.remove_face(services, args.face_id)
    if args.json:
        emit_json({"removed": args.face_id})
    else:
        print(f"Removed face {args.face_id}.")
    return 0


# ---- folders and watch ------------------------------------------------------------------------


def _folders(args: argparse.Namespace, folders: list[str]) -> int:
    if args.json:
        emit_json(folders)
    elif not folders:
        print("No watched folders. Add one with: companion folders add PATH")
    else:
        for folder in folders:
            print(folder)
    return 0


def run_folders_add(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        return _folders(args, library.add_watched_folder(services, args.path))


def run_folders_remove(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        return _folders(args, library.remove_watched_folder(services, args.path))


def run_folders_list(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        return _folders(args, list(services.settings.watched_folders))


def run_watch(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        folders = list(services.settings.watched_folders)
        if not folders:
            print("companion: error: no watched folders; add one with 'companion folders add PATH'", file=sys.stderr)
            return 2
        if not args.no_initial_scan:
            for item in library.index(services, folders):
                if isinstance(item, IndexSummary):
                    _report(args, item)

        def on_event(event: library.WatchEvent) -> None:
            _report(args, event)

        watcher = library.watch(services, on_event)
        print(f"Watching {len(folders)} folder(s); press Ctrl-C to stop.", file=sys.stderr, flush=True)
        try:
            while True:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            watcher.stop()
    print("Stopped watching.", file=sys.stderr)
    return 0


def _report(args: argparse.Namespace, event: library.WatchEvent) -> None:
    if isinstance(event, IndexSummary):
        if args.json:
            emit_json(event.as_dict())
        elif event.new or event.changed or event.moved or event.removed or event.skipped:
            print_summary(event)
    else:
        print(f"watch: {event}", file=sys.stderr)
    sys.stdout.flush()
