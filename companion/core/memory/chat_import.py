"""Reading past conversations from JSON Lines, one line at a time, in two passes.

One JSON object a line: ``{"time": ISO-8601, "role": "user"|"assistant", "text": "...",
"images": [paths], "speaker": "Caroline", "id": "..."}``; ``images``, ``speaker`` (who wrote
a user turn of a chat with several people) and ``id`` (the message's id in the export it
came from, so a later export holding it again does not repeat it) are optional. A time
without a UTC offset is the user's local time. A UTF-8 byte order mark is read.

:func:`scan_jsonl` is the first pass: it validates every line and hashes the bytes, holding
one line at a time (a million lines cost what one does). A bad line stops it with
``ImportFormatError`` naming the first bad line by number, before anything is stored: a file
is imported whole or not at all. :func:`read_jsonl` is the second pass, which the importer
(``core/memory/importer.py``) stores in batches; if the file changed between the passes the
importer stops and says how much was saved.

The fields a line may hold are :data:`FIELDS`; a new optional field is one entry there and
one in :func:`_turn`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from companion.core.errors import ImportFormatError, InvalidInputError
from companion.core.types import Role

FORMAT = "jsonl"
MAX_LINE_CHARS = 100_000
MAX_LINE_BYTES = 4 * MAX_LINE_CHARS + 2     # UTF-8 is at most 4 bytes a character, then "\r\n"
FIELDS = frozenset({"time", "role", "text", "images", "speaker", "id"})
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class ImportedTurn:
    time: datetime
    role: Role
    text: str
    images: list[str] = field(default_factory=list)
    speaker: str = ""                   # who wrote it, in a chat with several people ("": the user)
    external_id: str | None = None      # the export's own id of the message, if the line gives one


@dataclass(frozen=True)
class SourceFile:
    """A validated file: what the importer needs to record it and to notice it changing under it."""

    path: Path
    format: str
    content_hash: str       # BLAKE2b-160 of the bytes, as for photos
    turns: int              # non-blank lines
    started: datetime       # the first turn's time: when the conversation began
    size: int
    mtime_ns: int
    title: str = ""         # the conversation's title in its export ("": "Imported from <file name>")
    thread: str = ""        # the export's own id of the conversation, for a file of many (core/memory/exports.py)

    @property
    def name(self) -> str:
        return self.path.name

    def changed(self) -> bool:
        """Whether the file on disk is no longer the one that was validated."""
        return file_changed(self.path, self.size, self.mtime_ns)


def file_changed(path: Path, size: int, mtime_ns: int) -> bool:
    """Whether the file at ``path`` is gone or no longer has the size and time it was validated with."""
    try:
        stat = os.stat(path)
    except OSError:
        return True
    return (stat.st_size, stat.st_mtime_ns) != (size, mtime_ns)


def scan_jsonl(path: Path) -> SourceFile:
    """Validate every line and hash the file, one line in memory at a time; ``ImportFormatError`` on a bad line."""
    path = Path(path)
    digest = hashlib.blake2b(digest_size=20)
    turns, started = 0, None
    try:
        stat = os.stat(path)
        for number, raw in _lines(path, digest):
            if raw.strip():
                turn = _turn(_decode(raw, number), number, path.parent)
                started = started or turn.time
                turns += 1
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise InvalidInputError(f"no such file: {path}") from exc
    except IsADirectoryError as exc:
        raise InvalidInputError(f"{path} is a folder, not a file") from exc
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if started is None:
        raise InvalidInputError(f"{path} holds no turns")
    return SourceFile(path, FORMAT, digest.hexdigest(), turns, started, stat.st_size, stat.st_mtime_ns)


def read_jsonl(source: SourceFile, skip: int = 0) -> Iterator[ImportedTurn]:
    """The file's turns in order, after the first ``skip`` (those are counted, not parsed)."""
    seen = 0
    try:
        for number, raw in _lines(source.path, None):
            if not raw.strip():
                continue
            seen += 1
            if seen > skip:
                yield _turn(_decode(raw, number), number, source.path.parent)
    except OSError as exc:
        raise InvalidInputError(f"cannot read {source.path}: {exc.strerror or exc}") from exc


def _lines(path: Path, digest: Any) -> Iterator[tuple[int, bytes]]:
    """(number, bytes without the line break), reading at most one line's limit at a time."""
    with open(path, "rb") as handle:
        number = 0
        while True:
            raw = handle.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            number += 1
            if digest is not None:
                digest.update(raw)
            if number == 1 and raw.startswith(BOM):
                raw = raw[len(BOM):]
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                raise ImportFormatError(number, f"line is longer than {MAX_LINE_CHARS} characters")
            yield number, raw.rstrip(b"\r\n")


def _decode(raw: bytes, number: int) -> Any:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ImportFormatError(number, "not UTF-8 text") from exc
    if len(line) > MAX_LINE_CHARS:
        raise ImportFormatError(number, f"line is longer than {MAX_LINE_CHARS} characters")
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise ImportFormatError(number, f"not valid JSON ({exc.msg})") from exc
    except RecursionError as exc:
        raise ImportFormatError(number, "JSON nested too deeply") from exc


def _text(value: Any, name: str, number: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ImportFormatError(number, f"{name} must be a non-empty string")
    if not _is_unicode(value):     # a lone surrogate ("\ud800"): valid JSON, not storable text
        raise ImportFormatError(number, f"{name} holds an invalid character (a lone surrogate)")
    return value.strip()


def _is_unicode(text: str) -> bool:
    """False for a string with a lone surrogate ("\\ud800" in JSON): no file or database can hold it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _time(value: Any, number: int) -> datetime:
    if not isinstance(value, str):
        raise ImportFormatError(number, "time must be an ISO-8601 string")
    try:
        time = datetime.fromisoformat(value.replace("Z", "+00:00"))
        # Without an offset the time is the user's own clock: local time, with that day's offset (DST).
        return time if time.tzinfo is not None else time.astimezone()
    except (ValueError, OverflowError) as exc:
        raise ImportFormatError(number, f"time {value!r} is not ISO-8601") from exc


def _turn(obj: Any, number: int, base: Path) -> ImportedTurn:
    if not isinstance(obj, dict):
        raise ImportFormatError(number, "expected a JSON object")
    unknown = set(obj) - FIELDS
    if unknown:
        raise ImportFormatError(number, f"unknown field(s): {', '.join(sorted(unknown))}")
    role = obj.get("role")
    if role not in ("user", "assistant"):
        raise ImportFormatError(number, 'role must be "user" or "assistant"')
    text = _text(obj.get("text"), "text", number)
    time = _time(obj.get("time"), number)
    external_id = _text(obj["id"], "id", number) if "id" in obj else None
    speaker = obj.get("speaker", "")
    if not isinstance(speaker, str) or len(speaker) > 100 or not _is_unicode(speaker):
        raise ImportFormatError(number, "speaker must be a name (a string of at most 100 characters)")
    images = obj.get("images", [])
    if not isinstance(images, list) or not all(isinstance(i, str) for i in images):
        raise ImportFormatError(number, "images must be a list of paths")
    resolved = []
    for image in images:
        image_path = Path(image).expanduser()
        if not image_path.is_absolute():
            image_path = base / image_path
        if not image_path.is_file():
            raise ImportFormatError(number, f"image not found: {image}")
        resolved.append(str(image_path.resolve()))
    return ImportedTurn(time, role, text, resolved, speaker.strip(), external_id)
