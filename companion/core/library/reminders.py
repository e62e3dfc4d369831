"""Reminders that fire when a concept shows up again in a newly indexed photo (ITR, outside a chat).

A trigger ("if my sister shows up again, remind me to ...") fires for a photo
only when the photo was *taken* at or after the trigger was made: that is what
"shows up again" means to a user, so adding an old folder of 2015 photos does
not set off reminders about last week's instruction. Each trigger fires at
most once per indexing run, for the newest photo it matched, so thirty new
photos of one person give one notification, not thirty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from companion.core.store import Store
from companion.core.types import Reminder


@dataclass(frozen=True)
class Sighting:
    """Concepts recognised in one photo that was just written to the store."""

    photo_id: int
    path: str
    taken_at: datetime | None
    concept_ids: tuple[int, ...]


@dataclass
class PhotoReminder(Reminder):
    """A chat reminder (name, instruction, keyword, trigger) plus the new photo that set it off."""

    photo_id: int
    path: str

    def text(self) -> str:
        tag = f" [{self.keyword}]" if self.keyword else ""
        return f"{self.name} is in a new photo{tag}: {self.instruction}"

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "instruction": self.instruction, "keyword": self.keyword,
                "trigger_id": self.trigger_id, "photo_id": self.photo_id, "path": self.path}


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.astimezone()


def fire_for_sightings(store: Store, sightings: list[Sighting]) -> list[PhotoReminder]:
    """Fire the active triggers of the concepts seen in ``sightings``; marks each fired trigger."""
    concept_ids = sorted({c for s in sightings for c in s.concept_ids})
    fired: list[PhotoReminder] = []
    for trigger in store.triggers.for_concepts(concept_ids):
        made = _aware(trigger.created_at)
        matching = [s for s in sightings if trigger.concept_id in s.concept_ids
                    and s.taken_at is not None and _aware(s.taken_at) >= made]
        if not matching:
            continue
        newest = max(matching, key=lambda s: _aware(s.taken_at or made))
        concept = store.concepts.get(trigger.concept_id)
        if concept is None:
            continue
        store.triggers.mark_fired(trigger.id)
        fired.append(PhotoReminder(concept.name, trigger.instruction, trigger.keyword, trigger.id,
                                   newest.photo_id, newest.path))
    return fired
