"""Learning from stored turns (an import or a chat): remember each turn, then consolidate closed sessions.

A :class:`Learner` carries what one turn tells the next ("she" is the person the previous
turn was about), per conversation; the importer saves that context with each batch so a
resumed import reads the next turn as an uninterrupted one would.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from companion.core.deps import Deps
from companion.core.memory.consolidate import consolidate
from companion.core.memory.remember import remember_turn
from companion.core.types import Concept, Turn


@dataclass
class Learner:
    deps: Deps
    recent: dict[int, list[Concept]] = field(default_factory=lambda: defaultdict(list))
    typed_now: bool = False     # the user typed these turns in this chat (else their reminders wait: remember_turn)

    def turn(self, turn: Turn) -> int:
        """Remember one stored turn (inside the caller's transaction, if any); returns memories written."""
        count, about = remember_turn(self.deps, turn, self.recent[turn.conversation_id], typed_now=self.typed_now)
        if about:
            self.recent[turn.conversation_id] = about
        return count

    def context(self, conversation_id: int) -> list[int]:
        """The concept ids the conversation's last remembered turn was about."""
        return [c.id for c in self.recent[conversation_id]]

    def restore(self, conversation_id: int, concept_ids: Iterable[int]) -> None:
        """Take up a saved context (concepts forgotten since are left out)."""
        found = (self.deps.store.concepts.get(i) for i in concept_ids)
        self.recent[conversation_id] = [c for c in found if c is not None]


def settle(deps: Deps, latest: datetime | None) -> int:
    """Consolidate every session closed by now (or by ``latest``, if later); returns memories written."""
    now = datetime.now(timezone.utc)
    return consolidate(deps, max(latest, now) if latest is not None else now)


def learn(deps: Deps, turns: list[Turn], *, typed_now: bool = False) -> int:
    """Learn from stored turns (an import or a chat), then consolidate closed sessions; returns memories written.

    Reminders learnt from turns the user did not just type (``typed_now``: an import) wait for
    their confirmation (``remember.remember_turn``'s reminder gate).
    """
    learner = Learner(deps, typed_now=typed_now)
    written = sum(learner.turn(turn) for turn in sorted(turns, key=lambda t: (t.time, t.id)))
    if turns:
        written += settle(deps, max(t.time for t in turns))
    return written
