"""Printing results: JSON for scripts, short aligned text for people, nothing a terminal would obey.

Names, memories, turns and file names come from the user's files and imports: a name holding
``ESC [ 2 J`` would clear the screen, ``\r`` would overwrite a line, a bidirectional override
would reorder what the user reads. :class:`TerminalSafe` replaces such characters with U+FFFD
in everything the commands print to stdout (JSON escapes them itself).
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional overrides and isolates.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """``text`` with every character a terminal would act on replaced by U+FFFD."""
    return _UNSAFE.sub("\ufffd", text)


class TerminalSafe:
    """A text stream that writes :func:`terminal_safe` text to the stream it wraps."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        return self.stream.write(terminal_safe(text))

    def __getattr__(self, name: str) -> Any:      # flush, isatty, encoding, fileno ...
        return getattr(self.stream, name)


def to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: to_jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def emit_json(value: Any) -> None:
    json.dump(to_jsonable(value), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def table(rows: list[list[str]], headers: list[str]) -> None:
    """A plain aligned table (no colours: output is often piped)."""
    columns = zip(headers, *rows, strict=True) if rows else ([h] for h in headers)
    widths = [max(len(str(x)) for x in column) for column in columns]
    print("  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"
