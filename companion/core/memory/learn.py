"""Learning from stored turns (an import or a chat): remember each turn, then consolidate closed sessions."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone

from companion.core.deps import Deps
from companion.core.memory.consolidate import consolidate
from companion.core.memory.remember import remember_turn
from companion.core.types import Concept, Turn


def learn(deps: Deps, turns: list[Turn]) -> int:
    """Learn from stored turns (an import or a chat), then consolidate closed sessions; returns memories written."""
    written = 0
    recent: dict[int, list[Concept]] = defaultdict(list)
    for turn in sorted(turns, key=lambda t: (t.time, t.id)):
        count, about = remember_turn(deps, turn, recent[turn.conversation_id])
        written += count
        if about:
            recent[turn.conversation_id] = about
    if turns:
        latest = max(t.time for t in turns)
        written += consolidate(deps, max(latest, datetime.now(timezone.utc)))
    return written
