"""Chat exports of other apps (ChatGPT, Claude): recognised by content, read as a stream, in two passes.

An export is a zip (as the app sends it), a folder's ``conversations.json`` (the zip extracted) or
that file alone. What it is comes from its content, never its name: a zip with a
``conversations.json`` (or ChatGPT's shards ``conversations-000.json``, ...), or a JSON file whose
first conversation has ChatGPT's fields (``mapping``, ``current_node``) or Claude's
(``chat_messages``, ``uuid``); a file that starts with ``{`` is Companion's own JSONL
(``chat_import.py``). :func:`detect` says which.

Both passes stream the conversations one at a time with ijson (exports reach hundreds of MB; only
the conversation being read is in memory). :func:`scan` is the first pass: it validates every
conversation through the format's reader (a conversation of an unknown shape stops it and names the
fields it lacks, before anything is stored), hashes the bytes and counts. :func:`threads` is the second
pass, which ``export_importer.py`` stores conversation by conversation.

A format's reader (``exports_chatgpt.py``, ``exports_claude.py``) turns one decoded conversation
into a :class:`Thread`: its kept messages as ``ImportedTurn``s with the export's message ids.
Images an export holds (ChatGPT's uploads) are found by their asset id among the zip's members or
the folder's files; from a zip they are copied into the profile (``images_dir``) when stored, named
by content. A missing image is counted and noted, never a failure.
"""

from __future__ import annotations

import hashlib
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Literal

import ijson

from companion.core.errors import InvalidInputError
from companion.core.memory.chat_import import BOM, ImportedTurn, file_changed

ExportFormat = Literal["chatgpt", "claude"]
CONVERSATIONS = re.compile(r"(?:^|/)conversations(?:-\d+)?\.json$")
ASSET_ID = re.compile(r"^(file[-_][A-Za-z0-9]+)")     # ChatGPT's uploaded files: "file-AbC123-photo.jpg"
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".heic", ".heif", ".bmp", ".tif", ".tiff"})
# The fields that tell the two exports apart in a conversation object.
MARKERS: dict[ExportFormat, frozenset[str]] = {
    "chatgpt": frozenset({"mapping", "current_node", "conversation_id", "create_time", "update_time"}),
    "claude": frozenset({"chat_messages", "uuid", "created_at", "updated_at", "name"}),
}
MAX_TITLE = 200
MAX_DEPTH = 2           # how deep an extracted export's folder is searched for its images (ChatGPT: 0-1)


@dataclass(frozen=True)
class ExportMemory:
    """Something the export holds as a memory of the user (ChatGPT's custom instructions)."""

    key: str                # stable across exports: the same text gives the same key
    text: str
    time: datetime | None


@dataclass(frozen=True)
class Thread:
    """One conversation of an export, as it will be stored."""

    id: str                                 # the export's own id of the conversation
    title: str
    turns: tuple[ImportedTurn, ...]         # the kept messages, in order, with their ids
    content_hash: str                       # of the kept messages: a conversation that grew is a new source
    missing_images: tuple[str, ...] = ()    # asset ids the messages name that the export does not hold
    memories: tuple[ExportMemory, ...] = ()


# What a format reader gets: the decoded conversation, its 1-based number, and where to find images.
ThreadReader = Callable[[Any, int, "Assets"], Thread]


@dataclass(frozen=True)
class ExportScan:
    """A validated export: what the importer needs to store it and to notice it changing under it."""

    path: Path
    format: ExportFormat
    content_hash: str       # BLAKE2b-160 of the file's bytes
    conversations: int      # with at least one message to store
    messages: int           # in those conversations
    empty: int              # conversations with nothing to store (only system or tool messages)
    missing_images: int
    memories: int           # ExportMemory items (custom instructions), counted once per key
    size: int
    mtime_ns: int

    @property
    def name(self) -> str:
        return self.path.name

    def changed(self) -> bool:
        return file_changed(self.path, self.size, self.mtime_ns)


@dataclass
class Assets:
    """The export's files by asset id: members of the zip, or files under the folder of ``conversations.json``."""

    zip: zipfile.ZipFile | None
    folder: Path | None
    images_dir: Path | None = None          # where images from a zip are copied (the second pass only)
    _index: dict[str, str] | None = field(default=None, repr=False)

    def _names(self) -> dict[str, str]:
        if self._index is None:
            index: dict[str, str] = {}
            if self.zip is not None:
                names: Iterator[str] = (i.filename for i in self.zip.infolist() if not i.is_dir())
            elif self.folder is not None:
                names = _files(self.folder, MAX_DEPTH)
            else:
                names = iter(())
            for name in names:
                found = ASSET_ID.match(name.replace("\\", "/").rsplit("/", 1)[-1])
                if found and Path(name).suffix.lower() in IMAGE_SUFFIXES:
                    index.setdefault(found.group(1), name)
            self._index = index
        return self._index

    def has(self, asset_id: str) -> bool:
        return asset_id in self._names()

    def image(self, asset_id: str) -> str | None:
        """A path to the image for ``asset_id`` (copied out of a zip into ``images_dir``), or None if missing."""
        name = self._names().get(asset_id)
        if name is None:
            return None
        if self.zip is None:
            return str(Path(name).resolve())
        if self.images_dir is None:        # the first pass only checks that it is there
            return name
        with _zip_errors(self.zip.filename or "the zip"):
            data = self.zip.read(name)
        target = self.images_dir / f"{hashlib.blake2b(data, digest_size=20).hexdigest()}{Path(name).suffix.lower()}"
        if not target.exists():
            self.images_dir.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(target.suffix + ".part")
            partial.write_bytes(data)
            os.replace(partial, target)     # a crash leaves no half image under the final name
        return str(target)


def _files(folder: Path, depth: int) -> Iterator[str]:
    """The files under ``folder``, at most ``depth`` folders down (an export in ~/Downloads is not a reason
    to walk all of it)."""
    for root, dirs, files in os.walk(folder):
        if len(Path(root).relative_to(folder).parts) >= depth:
            dirs.clear()
        yield from (str(Path(root) / f) for f in files)


def detect(path: Path) -> Literal["jsonl", "chatgpt", "claude"]:
    """Which format the file holds, from its content; ``InvalidInputError`` when it is none of them."""
    path = Path(path)
    _check_file(path)
    if zipfile.is_zipfile(path):
        with _open_zip(path) as archive:
            members = _members(archive)
            if not members:
                raise InvalidInputError(f"{path.name} is a zip without a conversations.json: "
                                        "not a ChatGPT or Claude export")
            with _zip_errors(path.name), archive.open(members[0]) as stream:
                return _detect_json(stream, f"{path.name}: {members[0]}")
    with open(path, "rb") as handle:
        head = handle.read(4096).removeprefix(BOM).lstrip()
        if head.startswith(b"{") or not head:
            return "jsonl"      # Companion's own format (an empty file is refused there, with its message)
        if not head.startswith(b"["):
            if head.startswith(b"PK"):
                raise InvalidInputError(f"{path.name} is not a complete zip file (it may be truncated: "
                                        "download the export again)")
            raise InvalidInputError(f"{path.name} is neither a chat export (ChatGPT, Claude) nor Companion's JSONL")
        handle.seek(0)
        return _detect_json(handle, path.name)


def _detect_json(stream: IO[bytes], label: str) -> ExportFormat:
    try:
        first = next(ijson.items(_SkipBom(stream), "item", use_float=True), None)
    except ijson.JSONError as exc:
        raise InvalidInputError(f"{label} is not complete JSON ({_reason(exc)}): it may be truncated") from exc
    if first is None:
        raise InvalidInputError(f"{label} holds no conversations: the export is empty")
    if not isinstance(first, dict):
        raise InvalidInputError(f"{label} is not a list of conversations")
    keys = set(first)
    scores = {fmt: len(keys & markers) for fmt, markers in MARKERS.items()}
    best: ExportFormat = max(scores, key=lambda f: scores[f])
    if scores[best] == 0:
        raise InvalidInputError(f"{label} is not a ChatGPT or Claude export: its first conversation has the "
                                f"fields {', '.join(sorted(keys)[:8]) or '(none)'}")
    return best


def scan(path: Path, format: ExportFormat, read: ThreadReader) -> ExportScan:
    """The first pass: every conversation read and validated, the bytes hashed; nothing is stored."""
    path = Path(path)
    _check_file(path)
    stat = os.stat(path)
    conversations = messages = empty = missing = 0
    memory_keys: set[str] = set()
    for thread in threads(path, read, None):
        if thread.turns:
            conversations += 1
            messages += len(thread.turns)
        else:
            empty += 1
        missing += len(thread.missing_images)
        memory_keys.update(m.key for m in thread.memories)
    if not conversations and not memory_keys:
        raise InvalidInputError(f"{path.name} holds no messages to import: the export is empty")
    return ExportScan(path, format, _file_hash(path), conversations, messages, empty, missing, len(memory_keys),
                      stat.st_size, stat.st_mtime_ns)


def threads(path: Path, read: ThreadReader, images_dir: Path | None) -> Iterator[Thread]:
    """The export's conversations in its order, one decoded at a time (``images_dir``: where zip images go)."""
    path = Path(path)
    if zipfile.is_zipfile(path):
        with _open_zip(path) as archive:
            members = _members(archive)
            if not members:
                raise InvalidInputError(f"{path.name} is a zip without a conversations.json")
            assets = Assets(archive, None, images_dir)
            number = 0
            for member in members:
                with _zip_errors(path.name), archive.open(member) as stream:
                    for obj in _items(stream, f"{path.name}: {member}"):
                        number += 1
                        yield read(obj, number, assets)
    else:
        try:
            handle = open(path, "rb")
        except OSError as exc:
            raise InvalidInputError(f"cannot read {path}: {exc.strerror or exc}") from exc
        with handle:
            assets = Assets(None, path.parent)
            for number, obj in enumerate(_items(handle, path.name), start=1):
                yield read(obj, number, assets)


def thread_hash(thread_id: str, turns: list[ImportedTurn]) -> str:
    """A conversation's content: its id and its kept messages (id, role, time, text, how many images).

    Not the images' paths: the zip and the extracted folder of one export are the same conversations."""
    digest = hashlib.blake2b(thread_id.encode(), digest_size=20)
    for turn in turns:
        for part in (turn.external_id or "", turn.role, turn.time.isoformat(), turn.text, str(len(turn.images))):
            digest.update(b"\x00" + part.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def title(value: Any, fallback: str) -> str:
    text = " ".join(value.split()) if isinstance(value, str) else ""
    return (text or fallback)[:MAX_TITLE]


def clean_text(text: str) -> str:
    """Text without lone surrogates (valid JSON, but no file or database can hold them)."""
    return text.encode("utf-8", "replace").decode("utf-8").strip() if text else ""


def _items(stream: IO[bytes], label: str) -> Iterator[Any]:
    try:
        yield from ijson.items(_SkipBom(stream), "item", use_float=True)
    except ijson.JSONError as exc:
        raise InvalidInputError(f"{label} is not complete JSON ({_reason(exc)}): it may be truncated; "
                                "nothing was imported") from exc


class _SkipBom:
    """A stream that drops a leading UTF-8 byte order mark (ijson refuses it)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream, self.first = stream, True

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        if self.first and data:         # ijson's first read(0) only asks whether the stream gives bytes
            self.first = False
            if data.startswith(BOM):
                data = data[len(BOM):] or self.stream.read(size)
        return data


def _reason(exc: Exception) -> str:
    return str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__


def _members(archive: zipfile.ZipFile) -> list[str]:
    """The conversation files of an export zip, shards in order; ``__MACOSX`` copies left out."""
    names = [i.filename for i in archive.infolist()
             if not i.is_dir() and CONVERSATIONS.search(i.filename) and not i.filename.startswith("__MACOSX/")]
    return sorted(names, key=lambda n: (n.count("/"), n))


def _file_hash(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _check_file(path: Path) -> None:
    if path.is_dir():
        candidate = path / "conversations.json"
        hint = f" (the export's conversations are in {candidate})" if candidate.is_file() else ""
        raise InvalidInputError(f"{path} is a folder, not a file{hint}")
    if not path.is_file():
        raise InvalidInputError(f"no such file: {path}")


@contextmanager
def _open_zip(path: Path) -> Iterator[zipfile.ZipFile]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise InvalidInputError(f"{path.name} is not a complete zip file (it may be truncated: "
                                "download the export again)") from exc
    with archive:
        yield archive


@contextmanager
def _zip_errors(label: str) -> Iterator[None]:
    """A damaged member (a truncated download that still has its directory) as one clear message."""
    try:
        yield
    except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError) as exc:
        raise InvalidInputError(f"{label} is damaged ({_reason(exc)}): it may be truncated; download the "
                                "export again; nothing was imported") from exc

