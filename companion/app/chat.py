"""Conversations: import past ones, learn from turns, ask about a photo, chat."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

# What an answer streams, for the front ends to ``match`` on (the pipeline itself loads on the first question).
from companion.core.answer.events import Answer as Answer
from companion.core.answer.events import AnswerEvent as AnswerEvent
from companion.core.answer.events import Caption as Caption
from companion.core.answer.events import Done as Done
from companion.core.answer.events import Fix as Fix
from companion.core.answer.events import Notice as Notice
from companion.core.answer.events import Recognition as Recognition
from companion.core.answer.events import ReminderFired as ReminderFired
from companion.core.answer.events import Token as Token
from companion.core.memory.chat_import import parse_jsonl
from companion.core.types import Role, Turn

if TYPE_CHECKING:
    from companion.app.services import Services
    from companion.core.answer.pipeline import ChatSession as ChatSession


@dataclass(frozen=True)
class ImportResult:
    conversation_id: int
    turns: int
    memories: int


def import_chat(services: Services, path: Path) -> ImportResult:
    """Import past turns, all or nothing, then learn from them."""
    turns = parse_jsonl(Path(path))
    stored: list[Turn] = []
    store = services.store
    with store.db.transaction():
        conversation = store.conversations.start(title=f"Imported from {Path(path).name}", started_at=turns[0].time)
        for turn in turns:
            role: Role = "user" if turn.role == "user" else "assistant"     # parse_jsonl allows only these
            stored.append(store.conversations.add_turn(
                conversation.id, role, turn.text, turn.time, turn.images,
                session_gap_minutes=services.settings.session_gap_minutes, speaker=turn.speaker))
    memories = learn_from_turns(services, stored)
    return ImportResult(conversation.id, len(stored), memories)


def learn_from_turns(services: Services, turns: list[Turn]) -> int:
    """Extract memories from stored turns; returns how many were written."""
    from companion.core.memory.learn import learn

    return learn(services.deps(), turns)


def ask(services: Services, question: str, image: Path | str | None = None, *, model: str | None = None,
        temporary: bool = False, cancel: threading.Event | None = None) -> Iterator[AnswerEvent]:
    """Stream ``AnswerEvent``s for a question about an optional photo (see companion.core.answer.pipeline)."""
    from companion.core.answer.pipeline import ask

    return ask(services.deps(model), question, image, temporary=temporary, cancel=cancel)


def chat_session(services: Services, *, model: str | None = None, temporary: bool = False) -> ChatSession:
    """An interactive conversation; ``session.send(text, image)`` streams AnswerEvents."""
    from companion.core.answer.pipeline import ChatSession

    return ChatSession(services.deps(model), temporary=temporary)
