"""Finding photo files: folders walked (hidden entries, unreadable folders and link loops skipped), files as given."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Every file the photo reader decodes (backends/imaging.py takes this set): JPEG (.jpe too), PNG, WebP,
# HEIC/HEIF (.hif: Fujifilm and Canon's HEIF), AVIF, TIFF.
IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".heic", ".heif", ".hif", ".avif", ".tif", ".tiff"})


# Files that travel with photos and describe them (Takeout/XMP sidecars, Apple's edit lists, the system's
# own): not counted as skipped files, since a user never meant them as photos.
COMPANION_EXTENSIONS: frozenset[str] = frozenset({".json", ".xmp", ".aae", ".thm", ".db", ".ini"})


def is_photo_name(path: str | Path) -> bool:
    name = os.path.basename(str(path))
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


@dataclass
class Scan:
    """The photo files found under the targets, and what could not be read."""

    files: list[str] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)        # folder targets read completely
    missing: list[str] = field(default_factory=list)        # targets that do not exist
    skipped: list[tuple[str, str]] = field(default_factory=list)
    not_photos: Counter[str] = field(default_factory=Counter)   # extension -> files in the folders that are not photos


def _walk(root: str, scan: Scan, visited: set[str]) -> bool:
    """Collect photo files under ``root``; False when ``root`` itself could not be read."""
    stack, complete, seen = [root], True, set(scan.files)
    while stack:
        folder = stack.pop()
        real = os.path.realpath(folder)
        if real in visited:   # a link back up the tree (or to a folder already walked): never loop
            if folder != root:
                scan.skipped.append((folder, "symlink loop or duplicate folder link"))
            continue
        visited.add(real)
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except FileNotFoundError:
            scan.skipped.append((folder, "folder disappeared while indexing"))
            complete = complete and folder != root
            continue
        except PermissionError:
            scan.skipped.append((folder, "cannot read folder (permission denied)"))
            complete = complete and folder != root
            continue
        except OSError as exc:
            scan.skipped.append((folder, f"cannot read folder: {exc.strerror or exc}"))
            complete = complete and folder != root
            continue
        subfolders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue            # hidden files and folders (.thumbnails, .DS_Store, ...)
            try:
                if entry.is_dir():
                    subfolders.append(entry.path)
                elif entry.is_file():
                    if is_photo_name(entry.name):
                        if entry.path not in seen:
                            scan.files.append(entry.path)
                            seen.add(entry.path)
                    else:
                        extension = os.path.splitext(entry.name)[1].lower()
                        if extension not in COMPANION_EXTENSIONS:
                            scan.not_photos[extension] += 1
                elif entry.is_symlink() and is_photo_name(entry.name):
                    scan.skipped.append((entry.path, "broken or looping symlink"))
            except OSError as exc:   # ELOOP and friends while following a link
                scan.skipped.append((entry.path, f"cannot follow link: {exc.strerror or exc}"))
        stack.extend(reversed(subfolders))
    return complete


def scan_targets(targets: Sequence[str | Path]) -> Scan:
    """Expand folders into photo files; single files are taken as given."""
    scan, visited = Scan(), set[str]()
    for target in targets:
        path = os.path.abspath(os.path.expanduser(str(target)))
        if os.path.isdir(path):
            if _walk(path, scan, visited):
                scan.folders.append(path)
        elif os.path.isfile(path):
            if is_photo_name(path):
                if path not in scan.files:
                    scan.files.append(path)
            else:
                scan.skipped.append((path, "not a photo file type"))
        elif os.path.lexists(path):
            scan.skipped.append((path, "broken or looping symlink"))
        else:
            scan.missing.append(path)
    return scan
