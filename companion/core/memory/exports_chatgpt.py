"""ChatGPT's data export: one conversation's message tree -> the branch the user kept, as turns.

A conversation is ``{"conversation_id" (older exports: "id"), "title", "create_time", "current_node",
"mapping": {node id: {"message", "parent", "children"}}}``. Editing a message or regenerating an
answer forks the tree; ``current_node`` is the last message of the branch the user kept, so the
conversation is read from there up through ``parent`` and turned around. Of each message:

- ``author.role`` user or assistant (system and tool messages, an assistant's call to a tool
  (``recipient`` other than "all") and messages hidden from the conversation are skipped);
- ``create_time`` in epoch seconds (a message without one takes the one before it, or the
  conversation's);
- ``content.content_type`` ``text`` or ``multimodal_text``: the string ``parts`` are the text, an
  ``image_asset_pointer`` part names an uploaded image (``file-service://file-AbC`` or
  ``sediment://file_00..``) that the export holds as ``file-AbC-<name>.<ext>``; a voice message's
  ``audio_transcription`` part gives its words. Other content types (code, reasoning, browsing) are
  the assistant's workings, not the conversation, and are skipped.
- ``user_editable_context`` is the custom instructions in force: what the user wrote about
  themselves (one memory a line) and how they want answers (one memory), as :class:`ExportMemory`.

OpenAI documents no schema. A conversation without ``mapping`` or an id, or a message without
``author``/``content``, is another version of the format: the reader stops and names what is
missing. The saved memories of ChatGPT's Memory feature are not in the export (Settings >
Personalization > Manage memories is the only place they are listed), so there is nothing to read
for them.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any

from companion.core.errors import InvalidInputError
from companion.core.memory.chat_import import ImportedTurn
from companion.core.memory.exports import Assets, ExportMemory, Thread, clean_text, thread_hash, title
from companion.core.types import Role

FORMAT = "chatgpt"
KEPT_CONTENT = frozenset({"text", "multimodal_text"})
IMAGE_ONLY = "[image]"      # the text of a message that is only an image


def read_conversation(obj: Any, number: int, assets: Assets) -> Thread:
    """One conversation as a Thread; ``InvalidInputError`` naming the missing fields for another shape."""
    thread_id, name = _header(obj, number)
    where = f"conversation {number} ({name!r})"
    fallback = _epoch(obj.get("create_time"), where, "create_time")
    turns: list[ImportedTurn] = []
    missing_images: list[str] = []
    memories: list[ExportMemory] = []
    for node_id, message in _branch(obj["mapping"], obj.get("current_node"), where):
        content = _content(message, node_id, where)
        time = _epoch(message.get("create_time"), where, "create_time") or (turns[-1].time if turns else fallback)
        if content.get("content_type") == "user_editable_context":
            memories += _instructions(message, content, time)
        elif _shown(message, content):
            turn = _turn(message, content, node_id, time, f"{where}: message {node_id}", thread_id, assets,
                         missing_images)
            if turn is not None:
                turns.append(turn)
    return Thread(thread_id, name, tuple(turns), thread_hash(thread_id, turns), tuple(missing_images),
                  tuple(memories))


def _header(obj: Any, number: int) -> tuple[str, str]:
    """(the conversation's id, its title); ``InvalidInputError`` naming what an unknown shape lacks."""
    if not isinstance(obj, dict):
        raise InvalidInputError(f"conversation {number} is not a JSON object: not a ChatGPT export this version "
                                "can read")
    thread_id = obj.get("conversation_id") or obj.get("id")
    missing = [name for name, ok in (("mapping", isinstance(obj.get("mapping"), dict)),
                                     ("conversation_id or id", isinstance(thread_id, str) and thread_id),
                                     ("current_node", "current_node" in obj)) if not ok]
    if missing:
        raise InvalidInputError(f"conversation {number} of the ChatGPT export lacks {', '.join(missing)}: an export "
                                "of another version, which this Companion cannot read; nothing was imported")
    assert isinstance(thread_id, str)
    return thread_id, title(obj.get("title"), "ChatGPT conversation")


def _content(message: dict[str, Any], node_id: str, where: str) -> dict[str, Any]:
    author, content = message.get("author"), message.get("content")
    if not isinstance(author, dict) or not isinstance(content, dict):
        lacks = [f for f, v in (("author", author), ("content", content)) if not isinstance(v, dict)]
        raise InvalidInputError(f"{where}: message {node_id} lacks {', '.join(lacks)}: a ChatGPT export of "
                                "another version; nothing was imported")
    return content


def _shown(message: dict[str, Any], content: dict[str, Any]) -> bool:
    """A user's or the assistant's message of the conversation itself (not a system, tool or hidden one)."""
    role = message["author"].get("role")
    if role not in ("user", "assistant") or content.get("content_type") not in KEPT_CONTENT:
        return False
    if _dict(message.get("metadata")).get("is_visually_hidden_from_conversation"):
        return False
    return role == "user" or message.get("recipient", "all") in ("all", None)    # not a call to a tool


def _turn(message: dict[str, Any], content: dict[str, Any], node_id: str, time: datetime | None, where: str,
          thread_id: str, assets: Assets, missing_images: list[str]) -> ImportedTurn | None:
    text, pointers = _parts(content.get("parts"), where)
    images = []
    for asset in pointers:
        found = assets.image(asset)
        if found is None:
            missing_images.append(asset)
        else:
            images.append(found)
    if not text and not images:
        return None
    if time is None:
        raise InvalidInputError(f"{where} has no create_time, nor has its conversation; nothing was imported")
    message_id = message.get("id") if isinstance(message.get("id"), str) else node_id
    role: Role = "user" if message["author"].get("role") == "user" else "assistant"
    return ImportedTurn(time, role, text or IMAGE_ONLY, images, "", f"{thread_id}/{message_id}")


def _branch(mapping: dict[str, Any], current: Any, where: str) -> list[tuple[str, dict[str, Any]]]:
    """The kept branch's messages, oldest first: from ``current_node`` up through ``parent``."""
    if current is None:             # no pointer (an old export): the newest child at every fork
        current = _latest_leaf(mapping)
    if current is not None and current not in mapping:
        raise InvalidInputError(f"{where}: current_node {current!r} is not in its mapping: a ChatGPT export of "
                                "another version; nothing was imported")
    chain: list[tuple[str, dict[str, Any]]] = []
    seen: set[str] = set()
    node = current
    while isinstance(node, str) and node in mapping and node not in seen:
        seen.add(node)
        entry = mapping[node]
        if not isinstance(entry, dict):
            raise InvalidInputError(f"{where}: mapping entry {node} is not an object; nothing was imported")
        if isinstance(entry.get("message"), dict):
            chain.append((node, entry["message"]))
        node = entry.get("parent")
    chain.reverse()
    return chain


def _latest_leaf(mapping: dict[str, Any]) -> str | None:
    roots = [k for k, v in mapping.items() if isinstance(v, dict) and not v.get("parent")]
    node = roots[0] if roots else None
    seen: set[str] = set()
    while node is not None and node not in seen:
        seen.add(node)
        children = [c for c in (mapping.get(node) or {}).get("children") or [] if c in mapping]
        if not children:
            return node
        node = children[-1]
    return node


def _parts(parts: Any, where: str) -> tuple[str, list[str]]:
    """(the text, the asset ids of the images) of a message's ``parts``."""
    if not isinstance(parts, list):
        raise InvalidInputError(f"{where} has text content without parts: a ChatGPT export of another version; "
                                "nothing was imported")
    texts, assets = [], []
    for part in parts:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict):
            if part.get("content_type") == "image_asset_pointer" and isinstance(part.get("asset_pointer"), str):
                assets.append(part["asset_pointer"].split("://", 1)[-1])
            elif part.get("content_type") == "audio_transcription" and isinstance(part.get("text"), str):
                texts.append(part["text"])
    return clean_text("\n".join(t for t in texts if t.strip())), assets


def _epoch(value: Any, where: str, name: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise InvalidInputError(f"{where}: {name} is not a time in epoch seconds; nothing was imported")
    try:
        return datetime.fromtimestamp(value, tz=timezone.utc)
    except (ValueError, OverflowError, OSError) as exc:
        raise InvalidInputError(f"{where}: {name} {value!r} is not a time; nothing was imported") from exc


def _instructions(message: dict[str, Any], content: dict[str, Any], time: datetime | None) -> list[ExportMemory]:
    """The custom instructions: each line about the user, and how they want answers, as memories."""
    data = _dict(_dict(message.get("metadata")).get("user_context_message_data"))
    about_user = data.get("about_user_message") or _fenced(content.get("user_profile"))
    about_answers = data.get("about_model_message") or _fenced(content.get("user_instructions"))
    memories = []
    if isinstance(about_user, str):
        for line in about_user.splitlines():
            text = clean_text(line)
            if text:
                memories.append(ExportMemory(_key("about", text), text, time))
    if isinstance(about_answers, str) and clean_text(about_answers):
        text = f"How I want answers: {clean_text(about_answers)}"
        memories.append(ExportMemory(_key("answers", text), text, time))
    return memories


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _fenced(value: Any) -> str:
    """The user's words inside ChatGPT's wrapper text ("... User profile:\\n```<words>```")."""
    if not isinstance(value, str):
        return ""
    if value.count("```") >= 2:
        return value.split("```", 2)[1]
    return value


def _key(kind: str, text: str) -> str:
    return f"{kind}:{hashlib.blake2b(' '.join(text.split()).casefold().encode(), digest_size=12).hexdigest()}"
