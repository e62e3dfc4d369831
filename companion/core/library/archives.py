"""Photos that arrive as a zip (a Google Takeout export): unpacked safely into the profile's import area.

``companion index takeout-001.zip`` (or ``folders add`` of a zip) unpacks the archive, then
indexes the folder it became. Unpacking:

- refuses the whole archive, before writing anything, when a member would land outside the
  import area (an absolute path, ``..``, a drive letter: "zip slip") or is a symbolic link;
- checks there is room for it first (its unpacked size, plus a margin);
- unpacks every file into a staging folder first (zipfile checks each one's CRC), and moves
  them where indexing looks only once all are complete: a truncated or damaged archive gives
  a clear error and imports nothing (the staging folder is removed);
- puts the parts of one Takeout export (``takeout-…-001.zip``, ``-002.zip``; Google splits
  a photo and its JSON sidecar across parts at times) into one folder, ``imports/takeout``,
  so each photo finds its sidecar; other zips get a folder of their own, named after them.
  A file already there with the same size is kept: unpacking a zip twice adds nothing.

A folder finished once is marked by a ``.unpacked-<hash>`` file (the archive's content hash),
so the next run of the same zip skips straight to indexing.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import threading
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from companion.core.errors import DiskFullError, InvalidInputError

TAKEOUT_FOLDER = "takeout"
SPACE_MARGIN = 64 * 1024 * 1024          # left free after unpacking
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Unpacked:
    folder: Path
    files: int            # written by this run (0 when it had been unpacked before)


def is_archive(path: str | Path) -> bool:
    return Path(path).suffix.lower() == ".zip" and Path(path).is_file()


def unpack(archive: Path, imports: Path, *, progress: Callable[[int, int, str], None] | None = None,
           cancel: threading.Event | None = None) -> Unpacked:
    """Unpack ``archive`` under ``imports`` (see the module docstring); the folder to index."""
    archive = Path(archive)
    try:
        handle = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, EOFError) as exc:
        raise InvalidInputError(f"{archive.name} is not a complete zip archive (damaged or cut short: {exc}); "
                                "nothing was imported: download that part again") from exc
    except OSError as exc:
        raise InvalidInputError(f"cannot read {archive}: {exc}") from exc
    with handle:
        members = [m for m in handle.infolist() if not m.is_dir()]
        for member in members:
            _check(member, archive)
        takeout = any(PurePosixPath(m.filename).parts[:1] == ("Takeout",) for m in members)
        folder = imports / (TAKEOUT_FOLDER if takeout else _folder_name(archive))
        marker = folder / f".unpacked-{_digest(archive)}"
        if marker.exists():
            return Unpacked(folder, 0)
        needed = sum(m.file_size for m in members)
        imports.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(imports).free
        if needed + SPACE_MARGIN > free:
            raise DiskFullError(f"{archive.name} needs {needed / 1e9:.1f} GB unpacked and {free / 1e9:.1f} GB "
                                "is free: nothing was imported (free some space and try again)")
        staging = imports / f".unpacking-{marker.name[10:]}"
        try:
            staged: list[tuple[Path, Path]] = []
            for done, member in enumerate(members, start=1):
                if cancel is not None and cancel.is_set():
                    return Unpacked(folder, 0)
                parts = PurePosixPath(member.filename.replace("\\", "/")).parts
                target = folder.joinpath(*parts)
                if progress is not None:
                    progress(done, len(members), target.name)
                if target.exists() and target.stat().st_size == member.file_size:
                    continue
                _extract(handle, member, staging.joinpath(*parts), archive)
                staged.append((staging.joinpath(*parts), target))
            # Every file complete and checked: only now do they go where indexing looks.
            for source, target in staged:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, target)
            marker.touch()
            written = len(staged)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return Unpacked(folder, written)


def _check(member: zipfile.ZipInfo, archive: Path) -> None:
    name = member.filename
    path = PurePosixPath(name.replace("\\", "/"))
    if (not name or path.is_absolute() or ".." in path.parts or ":" in name.split("/")[0]
            or name.startswith("\\")):
        raise InvalidInputError(f"{archive.name} holds a file that would land outside its folder ({name!r}): "
                                "the archive is refused and nothing was imported")
    if stat.S_ISLNK(member.external_attr >> 16):
        raise InvalidInputError(f"{archive.name} holds a symbolic link ({name!r}): the archive is refused and "
                                "nothing was imported")


def _extract(handle: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path, archive: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with handle.open(member) as reader, open(partial, "wb") as writer:
            while chunk := reader.read(_CHUNK):
                writer.write(chunk)
        os.replace(partial, target)
    except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise InvalidInputError(f"{archive.name} is damaged at {member.filename} ({exc}): nothing was "
                                "imported; download the archive again") from exc
    except OSError as exc:
        if exc.errno in (28, 122):
            raise DiskFullError("the disk filled while unpacking: nothing was imported (free some space and "
                                "index the archive again)") from exc
        raise
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()


def _folder_name(archive: Path) -> str:
    stem = "".join(c if c.isalnum() or c in "-_ ." else "_" for c in archive.stem).strip(". ") or "archive"
    return stem[:80]


def _digest(archive: Path) -> str:
    """A short content hash (the archive's first and last MiB and its size: cheap for gigabytes)."""
    size = archive.stat().st_size
    digest = hashlib.blake2b(str(size).encode(), digest_size=10)
    with open(archive, "rb") as handle:
        digest.update(handle.read(_CHUNK))
        if size > _CHUNK:
            handle.seek(max(_CHUNK, size - _CHUNK))
            digest.update(handle.read(_CHUNK))
    return digest.hexdigest()
