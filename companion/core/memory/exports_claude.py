"""Claude's data export: one conversation's ``chat_messages`` -> turns.

A conversation is ``{"uuid", "name", "created_at", "chat_messages": [{"uuid", "sender": "human" |
"assistant", "created_at" (ISO-8601), "text" and/or "content": [{"type": "text", "text"}, ...],
"attachments": [{"file_name", "extracted_content"}], "files": [{"file_name"}]}]}``. The messages
are in order and hold no branches. The text is the ``content`` blocks of type ``text`` (tool calls
and thinking are the assistant's workings, skipped), else ``text``. The export holds the names of
attached files, not their bytes: images among them are counted as missing, never a failure.

A conversation without ``uuid`` or ``chat_messages``, or a message without ``uuid``, ``sender`` or
``created_at``, is another version of the format: the reader names what is missing.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePath
from typing import Any

from companion.core.errors import InvalidInputError
from companion.core.memory.chat_import import ImportedTurn
from companion.core.memory.exports import IMAGE_SUFFIXES, Assets, Thread, clean_text, thread_hash, title

FORMAT = "claude"
ROLES = {"human": "user", "assistant": "assistant"}


def read_conversation(obj: Any, number: int, assets: Assets) -> Thread:
    """One conversation as a Thread; ``InvalidInputError`` naming the missing fields for another shape."""
    where = f"conversation {number}"
    if not isinstance(obj, dict):
        raise InvalidInputError(f"{where} is not a JSON object: not a Claude export this version can read")
    missing = [name for name, ok in (("uuid", isinstance(obj.get("uuid"), str) and obj.get("uuid")),
                                     ("chat_messages", isinstance(obj.get("chat_messages"), list))) if not ok]
    if missing:
        raise InvalidInputError(f"{where} of the Claude export lacks {', '.join(missing)}: an export of another "
                                "version, which this Companion cannot read; nothing was imported")
    thread_id = str(obj["uuid"])
    name = title(obj.get("name"), "Claude conversation")
    where = f"{where} ({name!r})"
    turns: list[ImportedTurn] = []
    missing_images: list[str] = []
    for index, message in enumerate(obj["chat_messages"], start=1):
        turn = _turn(message, f"{where}: message {index}", thread_id, missing_images)
        if turn is not None:
            turns.append(turn)
    return Thread(thread_id, name, tuple(turns), thread_hash(thread_id, turns), tuple(missing_images))


def _turn(message: Any, where: str, thread_id: str, missing_images: list[str]) -> ImportedTurn | None:
    if not isinstance(message, dict):
        raise InvalidInputError(f"{where} is not an object; nothing was imported")
    lacks = [f for f in ("uuid", "sender", "created_at") if not isinstance(message.get(f), str)]
    if lacks:
        raise InvalidInputError(f"{where} lacks {', '.join(lacks)}: a Claude export of another version; "
                                "nothing was imported")
    role = ROLES.get(message["sender"])
    if role is None:
        return None
    for attached in [*(message.get("files") or []), *(message.get("attachments") or [])]:
        file_name = attached.get("file_name") if isinstance(attached, dict) else None
        if isinstance(file_name, str) and PurePath(file_name).suffix.lower() in IMAGE_SUFFIXES:
            missing_images.append(file_name)
    text = _text(message)
    if not text:
        return None
    return ImportedTurn(_time(message["created_at"], where), "user" if role == "user" else "assistant", text, [], "",
                        f"{thread_id}/{message['uuid']}")


def _text(message: dict[str, Any]) -> str:
    blocks = message.get("content")
    if isinstance(blocks, list):
        texts = [b["text"] for b in blocks
                 if isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str)]
        if any(t.strip() for t in texts):
            return clean_text("\n".join(t for t in texts if t.strip()))
    text = message.get("text")
    return clean_text(text) if isinstance(text, str) else ""


def _time(value: str, where: str) -> datetime:
    try:
        time = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInputError(f"{where} has created_at {value!r}, not ISO-8601; nothing was imported") from exc
    return time if time.tzinfo is not None else time.astimezone()
