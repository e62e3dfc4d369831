"""What ``pipeline.ask`` streams, as typed events, and the ``Answer`` it ends with.

In order: ``Recognition`` (who the photo shows), one ``ReminderFired`` per fired trigger,
``Caption``, ``Notice`` (e.g. which model to install), ``Token``s (the answer as it is
written), ``Fix`` (appended to the answer, or the whole answer when ``replace``), ``Done``.
Front ends handle them with ``match``; JSON is made only at the command line's edge.
"""

from __future__ import annotations

from dataclasses import dataclass

from companion.core.answer.perceive import Recognized
from companion.core.answer.retrieve import LastAction, LastSeen
from companion.core.answer.understand import Plan
from companion.core.types import Box, Source


@dataclass(frozen=True)
class Answer:
    answer: str
    caption: str
    recognized: tuple[Recognized, ...]
    last_seen: tuple[LastSeen, ...]
    last_action: tuple[LastAction, ...]
    reminders: tuple[str, ...]
    sources: tuple[Source, ...]          # the records the answer cites (shown under it)
    plan: Plan                           # how the question was understood
    queries: tuple[str, ...] = ()        # the record queries that ran ("sightings", "photos", ...)
    unknown_faces: int = 0
    model: str | None = None
    notice: str = ""
    retrieval_steps: int = 0
    evidence_lines: tuple[str, ...] = ()   # the records block the model was (or would have been) shown


@dataclass(frozen=True)
class Recognition:
    recognized: tuple[Recognized, ...]
    unknown_boxes: tuple[Box, ...] = ()   # faces nobody has named


@dataclass(frozen=True)
class ReminderFired:
    text: str


@dataclass(frozen=True)
class Caption:
    text: str


@dataclass(frozen=True)
class Notice:
    text: str
    hint: str = ""      # what to run, for the command line (a window offers ``action`` instead)
    action: str = ""    # the next step a window offers as a button, e.g. "get_chat_model" (core.errors.ACTIONS)


@dataclass(frozen=True)
class Token:
    text: str


@dataclass(frozen=True)
class Fix:
    text: str
    replace: bool = False


@dataclass(frozen=True)
class Done:
    answer: Answer


AnswerEvent = Recognition | ReminderFired | Caption | Notice | Token | Fix | Done
