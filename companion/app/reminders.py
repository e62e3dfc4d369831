"""Reminders waiting for the user's confirmation: those learnt from imported conversations.

"If Anna shows up again, remind me to ..." typed in the chat is the user's own instruction and
is active at once. The same words in an imported file are someone's text, not the user's say-so:
they are stored pending (``core/memory/remember.py``'s reminder gate) and fire only once the
user confirms them here (``companion reminders``, or the Confirm button on a person's page).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from companion.core.errors import NotFoundError

if TYPE_CHECKING:
    from companion.app.services import Services


@dataclass(frozen=True)
class PendingReminder:
    """A reminder learnt from imported text, with what it is about and the sentence it came from."""

    id: int
    about: str
    instruction: str
    keyword: str
    source: str          # the imported turn it was read from ("" once that is forgotten)


def waiting(services: Services) -> list[PendingReminder]:
    """Every reminder waiting for confirmation, oldest first."""
    store = services.store
    found = []
    for trigger in store.triggers.waiting():
        concept = store.concepts.get(trigger.concept_id)
        turn = store.conversations.get_turn(trigger.source_turn_id) if trigger.source_turn_id else None
        found.append(PendingReminder(trigger.id, concept.name if concept else "?", trigger.instruction,
                                     trigger.keyword, turn.text if turn else ""))
    return found


def confirm(services: Services, reminder_id: int) -> None:
    """The user wants this reminder: it fires from now on."""
    if not services.store.triggers.confirm(reminder_id):
        raise NotFoundError(f"no reminder {reminder_id} is waiting for confirmation "
                            "(see `companion reminders list`)")


def dismiss(services: Services, reminder_id: int) -> None:
    """The user does not want this reminder: it is deleted."""
    trigger = services.store.triggers.get(reminder_id)
    if trigger is None or not trigger.pending:
        raise NotFoundError(f"no reminder {reminder_id} is waiting for confirmation "
                            "(see `companion reminders list`)")
    services.store.triggers.delete(reminder_id)
