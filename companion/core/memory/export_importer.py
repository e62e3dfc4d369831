"""Importing a chat export (ChatGPT, Claude): each of its conversations through the resumable importer.

An export holds many conversations; each becomes one Companion conversation with its title, and one
import source (``importer.import_source``) keyed by the hash of its kept messages and by the
export's own id of it (``thread``). So:

- importing the same export again finds every conversation's source done and adds nothing;
- a newer export adds only what is new: a conversation that did not change is found done, one that
  grew is a new source whose known messages (by the export's message ids) are skipped and whose
  new ones join the conversation the older export made;
- an interrupted import (a crash, Cancel, a full disk) resumes: finished conversations are done, the
  one in flight resumes after its last committed batch.

Closed sessions are consolidated once, after the last conversation (per conversation, habits and the
profile would be rebuilt from all memories each time: quadratic in a large export).

Memories the export holds as such (ChatGPT's custom instructions) are stored as editable semantic
memories with ``origin`` set to the format, once per key (``import_memories``): one the user edited
or forgot is not brought back. Only the conversation in flight is in memory.
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from companion.core.deps import Deps
from companion.core.memory.chat_import import ImportedTurn, SourceFile
from companion.core.memory.exports import ExportMemory, ExportScan, Thread, ThreadReader, threads
from companion.core.memory.importer import ImportOutcome, ImportState, Reader, import_source
from companion.core.memory.learn import settle
from companion.core.store.memories import NewMemory
from companion.core.types import Progress


@dataclass(frozen=True)
class ExportOutcome:
    """What an export import run did, over all its conversations."""

    state: ImportState
    name: str
    format: str
    conversations: int      # in the export, with messages
    messages: int           # in those conversations
    saved: int              # messages committed by this run and earlier ones
    turns: int              # turns this run stored
    memories: int           # memories this run learnt or imported
    known: int              # messages skipped: an earlier import had them (same id)
    new_conversations: int  # conversations this run stored turns into
    imported_memories: int  # memories taken from the export as such (custom instructions), this run
    missing_images: int     # images the messages name that the export does not hold
    conversation_id: int | None = None     # the last conversation stored into


def import_export(deps: Deps, scan: ExportScan, read: ThreadReader, images_dir: Path,
                  cancel: threading.Event | None = None) -> Generator[Progress | ExportOutcome, None, None]:
    """Store ``scan``'s conversations; Progress after each committed batch, then one ExportOutcome."""
    run = _Tally(scan)
    yield Progress("import", 0, scan.messages, scan.name, str(scan.path))
    for thread in threads(scan.path, read, images_dir):
        if cancel is not None and cancel.is_set():
            yield run.outcome("cancelled")
            return
        run.imported_memories += _memories(deps, scan.format, thread.memories)
        if not thread.turns:
            continue
        for step in import_source(deps, _source(scan, thread), _reader(thread.turns), cancel, consolidate=False):
            if isinstance(step, Progress):
                if step.stage == "import":
                    yield Progress("import", run.done + step.done, scan.messages, thread.title, str(scan.path))
                continue
            run.add(step)
            if step.state == "cancelled":
                yield run.outcome("cancelled")
                return
        run.done += len(thread.turns)
        run.latest = max(run.latest or thread.turns[-1].time, thread.turns[-1].time)
        yield Progress("import", run.done, scan.messages, thread.title, str(scan.path))
    # Closed sessions are summarised once, with habits and the profile rebuilt once (one transaction per
    # session: an interrupted run leaves the rest to the next import or chat, never summarised twice).
    yield Progress("learn", scan.messages, scan.messages, "summarising conversations")
    run.memories += settle(deps, run.latest)
    state: ImportState = "already imported" if run.all_known() else "imported"
    yield run.outcome(state)


class _Tally:
    def __init__(self, scan: ExportScan) -> None:
        self.scan = scan
        self.done = self.saved = self.turns = self.memories = self.known = self.stored_in = 0
        self.imported_memories = 0
        self.resumed = False
        self.conversation_id: int | None = None
        self.latest: datetime | None = None

    def add(self, step: ImportOutcome) -> None:
        self.saved += step.saved
        self.turns += step.turns
        self.memories += step.memories
        self.known += step.known
        if step.turns:
            self.stored_in += 1
            self.conversation_id = step.conversation_id
        self.resumed = self.resumed or step.state == "resumed"

    def all_known(self) -> bool:
        return self.turns == 0 and self.imported_memories == 0

    def outcome(self, state: ImportState) -> ExportOutcome:
        if state == "imported" and self.resumed:
            state = "resumed"
        return ExportOutcome(state, self.scan.name, self.scan.format, self.scan.conversations, self.scan.messages,
                             self.saved, self.turns, self.memories + self.imported_memories, self.known,
                             self.stored_in, self.imported_memories, self.scan.missing_images, self.conversation_id)


def _source(scan: ExportScan, thread: Thread) -> SourceFile:
    return SourceFile(scan.path, scan.format, thread.content_hash, len(thread.turns), thread.turns[0].time,
                      scan.size, scan.mtime_ns, title=thread.title, thread=thread.id)


def _reader(turns: tuple[ImportedTurn, ...]) -> Reader:
    def read(source: SourceFile, skip: int) -> Iterator[ImportedTurn]:
        return iter(turns[skip:])
    return read


def _memories(deps: Deps, format: str, memories: tuple[ExportMemory, ...]) -> int:
    """Store the export's memories not imported before (one transaction); returns how many."""
    store = deps.store
    fresh = [m for m in memories if not store.imports.known_memory(format, m.key)]
    if not fresh:
        return 0
    vectors = deps.text_embedder.embed([m.text for m in fresh]) if deps.text_embedder is not None else None
    written = 0
    with store.db.transaction():
        for index, memory in enumerate(fresh):
            if store.imports.known_memory(format, memory.key):     # twice in one export, or another importer
                continue
            memory_id = store.memories.add(
                NewMemory("semantic", memory.text, time=memory.time, origin=format),
                vectors[index] if vectors is not None else None)
            store.imports.add_memory(format, memory.key, memory_id)
            written += 1
    return written
