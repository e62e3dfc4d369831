"""Parsing past conversations from JSON Lines, validating every line before anything is stored.

One JSON object a line: ``{"time": ISO-8601, "role": "user"|"assistant",
"text": "...", "images": [paths], "speaker": "Caroline"}``; ``speaker`` (optional)
says who wrote a user turn of a chat with several people. A file is imported whole or not at all,
and the first bad line is reported by number.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from companion.core.errors import ImportFormatError, InvalidInputError

MAX_LINE_CHARS = 100_000


@dataclass(frozen=True)
class ImportedTurn:
    time: datetime
    role: str
    text: str
    images: list[str] = field(default_factory=list)
    speaker: str = ""


def parse_jsonl(path: Path) -> list[ImportedTurn]:
    """Every turn in the file, or ``ImportFormatError`` naming the first bad line."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InvalidInputError(f"no such file: {path}") from exc
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{path} is not UTF-8 text") from exc
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror}") from exc
    turns = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        turns.append(_parse_line(line, number, path.parent))
    if not turns:
        raise InvalidInputError(f"{path} holds no turns")
    return turns


def _parse_line(line: str, number: int, base: Path) -> ImportedTurn:
    if len(line) > MAX_LINE_CHARS:
        raise ImportFormatError(number, f"line is longer than {MAX_LINE_CHARS} characters")
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ImportFormatError(number, f"not valid JSON ({exc.msg})") from exc
    if not isinstance(obj, dict):
        raise ImportFormatError(number, "expected a JSON object")
    unknown = set(obj) - {"time", "role", "text", "images", "speaker"}
    if unknown:
        raise ImportFormatError(number, f"unknown field(s): {', '.join(sorted(unknown))}")
    role = obj.get("role")
    if role not in ("user", "assistant"):
        raise ImportFormatError(number, 'role must be "user" or "assistant"')
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ImportFormatError(number, "text must be a non-empty string")
    time = _time(obj.get("time"), number)
    speaker = obj.get("speaker", "")
    if not isinstance(speaker, str) or len(speaker) > 100:
        raise ImportFormatError(number, "speaker must be a name (a string of at most 100 characters)")
    return ImportedTurn(time, role, text.strip(), _images(obj.get("images", []), number, base), speaker.strip())


def _time(when: object, number: int) -> datetime:
    if not isinstance(when, str):
        raise ImportFormatError(number, "time must be an ISO-8601 string")
    try:
        return datetime.fromisoformat(when.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ImportFormatError(number, f"time {when!r} is not ISO-8601") from exc


def _images(images: object, number: int, base: Path) -> list[str]:
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
    return resolved
