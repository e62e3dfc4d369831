"""Importing a conversation source: resumable, idempotent, in short batches, as a generator of Progress.

:func:`import_source` stores a validated source (``chat_import.SourceFile``; its ``read(skip)``
gives the turns in order) into one conversation and learns from it:

- The source is recorded by content hash (``store/imports.py``). A finished source adds nothing
  when imported again; an interrupted one (a crash, ``kill -9``, a full disk, Cancel) resumes
  after the last committed batch.
- A batch holds at most :data:`BATCH_TURNS` turns or :data:`BATCH_SECONDS` of work. Its turns, the
  memories, sightings, reminders and persona steps learnt from them, and the source's new
  position commit in one transaction, so a batch is either all there or not at all, and other
  writers (the watcher, the window) wait at most one batch for the database.
- Messages with an id from their export are stored once, whichever source brings them.
- Two importers of the same source (the app layer serialises them with a lock file; this is
  the fallback) never store a message twice: each batch starts where the record says.
- When every message is stored, closed sessions are consolidated (one transaction per session)
  and the source is marked done.

Turns are learnt in the file's order (exports are chronological), not sorted: sorting would hold
the whole file. Memory stays flat for any file size: one batch in memory at a time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Literal

from companion.core.deps import Deps
from companion.core.errors import DiskFullError, ImportFormatError, InvalidInputError
from companion.core.memory.chat_import import ImportedTurn, SourceFile
from companion.core.memory.learn import Learner, settle
from companion.core.store import Store
from companion.core.store.imports import ImportSource
from companion.core.types import Progress

BATCH_TURNS = 100
BATCH_SECONDS = 0.5       # a batch's write lock: the watcher's photos wait at most about this long

ImportState = Literal["imported", "resumed", "already imported", "cancelled"]
Reader = Callable[[SourceFile, int], Iterator[ImportedTurn]]


@dataclass(frozen=True)
class ImportOutcome:
    """What an import run did: ``turns`` and ``memories`` are this run's; ``saved`` counts all runs'."""

    state: ImportState
    source_id: int
    conversation_id: int | None
    name: str
    messages: int           # in the source
    saved: int              # messages committed so far (== messages once the import is complete)
    turns: int              # turns this run stored
    memories: int           # memories this run learnt
    known: int              # messages this run skipped: imported before under the same id


def import_source(deps: Deps, source: SourceFile, read: Reader, cancel: threading.Event | None = None, *,
                  consolidate: bool = True) -> Generator[Progress | ImportOutcome, None, None]:
    """Store and learn from ``source``; yields Progress after each committed batch, then one ImportOutcome.

    ``consolidate=False`` leaves the closed sessions to the caller (an export of many conversations
    consolidates once at its end: habits and the profile are rebuilt from all memories each time).
    """
    store = deps.store
    record = _open(store, source)
    if record.status == "done":
        yield _outcome("already imported", record, record.position, 0, 0)
        return
    run = _Run(deps, source, record)
    yield run.progress()
    turns = read(source, record.position)
    try:
        while run.position < source.turns:
            if cancel is not None and cancel.is_set():
                yield _outcome("cancelled", record, run.position, run.turns, run.memories, run.known)
                return
            if source.changed():
                raise SourceChangedError("its size or time changed")
            run.batch(turns, cancel)
            yield run.progress()
        written = 0
        if consolidate:
            yield Progress("learn", source.turns, source.turns, "summarising conversations")
            # One transaction per session (consolidate.py): a crash here resumes with the sessions left.
            assert record.conversation_id is not None
            written = settle(deps, store.conversations.last_time(record.conversation_id))
        store.imports.finish(record.id, written)
    except DiskFullError as exc:
        raise DiskFullError(f"the disk is full: {run.saved_text()}; free some space and import the same file "
                            "again to continue") from exc
    except SourceChangedError as exc:
        raise InvalidInputError(f"{source.name} changed while it was being imported ({exc}): {run.saved_text()}; "
                                "import the same file again to continue") from exc
    state: ImportState = "resumed" if record.position else "imported"
    yield _outcome(state, record, source.turns, run.turns, run.memories + written, run.known)


class _Run:
    """One run's position and tallies; :meth:`batch` stores the next batch in one transaction."""

    def __init__(self, deps: Deps, source: SourceFile, record: ImportSource) -> None:
        self.deps, self.source, self.record = deps, source, record
        self.position = record.position
        self.turns = self.memories = self.known = 0
        self.learner = Learner(deps)

    def saved_text(self) -> str:
        return (f"{self.position:,} of {self.source.turns:,} messages from {self.source.name} were saved, "
                "with what was learnt from them")

    def progress(self) -> Progress:
        return Progress("import", self.position, self.source.turns, self.source.name, str(self.source.path))

    def batch(self, turns: Iterator[ImportedTurn], cancel: threading.Event | None) -> None:
        """Store and learn the next batch in one transaction; the tallies move only once it has committed."""
        store, record, source = self.deps.store, self.record, self.source
        conversation_id = record.conversation_id
        assert conversation_id is not None     # _open gives every unfinished source one
        started = time.perf_counter()
        with store.db.transaction():
            current = store.imports.get(record.id)
            if current is None:
                raise InvalidInputError(f"the import of {source.name} was removed while it ran")
            # Another importer of this source got further: go on from where it stopped.
            for _ in range(current.position - self.position):
                _next(turns)
            position = max(self.position, current.position)
            self.learner.restore(conversation_id, current.context)
            stored = learnt = known = count = 0
            while position < source.turns and count < BATCH_TURNS:
                if count and (time.perf_counter() - started >= BATCH_SECONDS
                              or (cancel is not None and cancel.is_set())):
                    break
                item = _next(turns)
                count += 1
                position += 1
                if item.external_id is not None and store.imports.known_item(source.format, item.external_id):
                    known += 1
                    continue
                turn = store.conversations.add_turn(
                    conversation_id, item.role, item.text, item.time, item.images,
                    session_gap_minutes=self.deps.settings.session_gap_minutes, speaker=item.speaker)
                if item.external_id is not None:
                    store.imports.add_item(source.format, item.external_id, record.id, turn.id)
                stored += 1
                learnt += self.learner.turn(turn)
            store.imports.advance(record.id, position, turns=stored, memories=learnt,
                                  context=self.learner.context(conversation_id))
        self.position = position
        self.turns += stored
        self.memories += learnt
        self.known += known


class SourceChangedError(InvalidInputError):
    """The file no longer reads as it did when it was validated."""


def _next(turns: Iterator[ImportedTurn]) -> ImportedTurn:
    try:
        return next(turns)
    except StopIteration:
        raise SourceChangedError("it has fewer lines") from None
    except ImportFormatError as exc:
        raise SourceChangedError(str(exc)) from exc


def _open(store: Store, source: SourceFile) -> ImportSource:
    """The source's record, made with its conversation on the first import (one transaction)."""
    with store.db.transaction():
        record = store.imports.find(source.format, source.content_hash)
        if record is not None and (record.status == "done" or record.conversation_id is not None):
            return record
        # A newer export of a conversation imported before continues that conversation.
        conversation_id = store.imports.thread_conversation(source.format, source.thread) if source.thread else None
        if conversation_id is None:
            conversation_id = store.conversations.start(title=source.title or f"Imported from {source.name}",
                                                        started_at=source.started).id
        if record is None:
            return store.imports.create(source.format, source.content_hash, source.name, source.turns,
                                        conversation_id, source.thread)
        # Its conversation was deleted part-way: the rest goes into a new one.
        return store.imports.set_conversation(record.id, conversation_id)


def _outcome(state: ImportState, record: ImportSource, saved: int, turns: int, memories: int,
             known: int = 0) -> ImportOutcome:
    return ImportOutcome(state, record.id, record.conversation_id, record.name, record.items, saved, turns,
                         memories, known)
