"""Conversations: import past ones (resumable, in batches), learn from turns, ask about a photo, chat."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

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
from companion.core.types import Progress

if TYPE_CHECKING:
    from companion.app.services import Services
    from companion.core.answer.pipeline import ChatSession as ChatSession
    from companion.core.memory.importer import ImportState


@dataclass(frozen=True)
class ImportResult:
    """One import run: ``turns`` and ``memories`` are what this run added (0 when the file was imported before)."""

    conversation_id: int | None
    turns: int
    memories: int
    messages: int = 0       # in the file
    saved: int = 0          # messages stored by this run and earlier ones (== messages when complete)
    known: int = 0          # messages skipped: an earlier import had them (same id)
    state: ImportState = "imported"   # imported | resumed | already imported | cancelled
    name: str = ""
    format: str = "jsonl"   # jsonl | chatgpt | claude (what the file held, read from its content)
    conversations: int = 0          # an export's conversations with messages
    new_conversations: int = 0      # of those, the ones this run stored turns into
    imported_memories: int = 0      # memories the export held as such (ChatGPT's custom instructions), added
    missing_images: int = 0         # images an export's messages name that it does not hold


FORMAT_NAMES = {"jsonl": "Companion JSONL", "chatgpt": "ChatGPT export", "claude": "Claude export"}


def import_steps(services: Services, path: Path | str,
                 cancel: threading.Event | None = None) -> Iterator[Progress | ImportResult]:
    """Import past turns and learn from them: ``Progress`` after each committed batch, then an ``ImportResult``.

    What the file is comes from its content (``core/memory/exports.detect``): Companion's JSONL, a
    ChatGPT export (``conversations.json`` or the zip) or a Claude export. The file is validated
    first (a bad line or conversation stores nothing and is named), then stored in short batches: a
    crash, a full disk or ``cancel`` keeps what was committed, and importing the same file again
    resumes there; a file imported before adds nothing. Two imports of one file (another window, a
    command) take turns.
    """
    from companion.core.memory.exports import detect

    yield Progress("check", 0, None, f"checking {Path(path).name}")
    format = detect(Path(path))
    if format == "jsonl":
        yield from _import_jsonl(services, Path(path), cancel)
    else:
        yield from _import_export(services, Path(path), format, cancel)


def _import_jsonl(services: Services, path: Path,
                  cancel: threading.Event | None) -> Iterator[Progress | ImportResult]:
    from companion.core.memory.chat_import import read_jsonl, scan_jsonl
    from companion.core.memory.importer import import_source

    source = scan_jsonl(path)
    lock = services.import_lock(source.content_hash)
    held = yield from lock.wait(cancel, "wait", f"another import of {source.name} is running; waiting for it")
    if not held:
        yield ImportResult(None, 0, 0, source.turns, 0, 0, "cancelled", source.name)
        return
    steps = None
    try:
        known = services.store.imports.find(source.format, source.content_hash)
        if known is None or known.status != "done":
            yield Progress("check", 0, None, "loading place names and dates")
            _warm_learning(services)
        steps = import_source(services.deps(), source, read_jsonl, cancel)
        for step in steps:
            if isinstance(step, Progress):
                yield step
            else:
                yield ImportResult(step.conversation_id, step.turns, step.memories, step.messages, step.saved,
                                   step.known, step.state, step.name)
    finally:
        if steps is not None:
            steps.close()   # stopped early (a closed worker, Ctrl-C): end the run before letting others in
        lock.release()


def _import_export(services: Services, path: Path, format: Literal["chatgpt", "claude"],
                   cancel: threading.Event | None) -> Iterator[Progress | ImportResult]:
    from companion.core.memory import exports, exports_chatgpt, exports_claude
    from companion.core.memory.export_importer import import_export

    read = exports_chatgpt.read_conversation if format == "chatgpt" else exports_claude.read_conversation
    yield Progress("check", 0, None, f"checking the {FORMAT_NAMES[format]} {path.name}")
    scan = exports.scan(path, format, read)
    lock = services.import_lock(scan.content_hash)
    held = yield from lock.wait(cancel, "wait", f"another import of {scan.name} is running; waiting for it")
    if not held:
        yield ImportResult(None, 0, 0, scan.messages, 0, 0, "cancelled", scan.name, format, scan.conversations)
        return
    steps = None
    try:
        yield Progress("check", 0, None, "loading place names and dates")
        _warm_learning(services)
        steps = import_export(services.deps(), scan, read, services.paths.chat_images_dir, cancel)
        for step in steps:
            if isinstance(step, Progress):
                yield step
            else:
                yield ImportResult(step.conversation_id, step.turns, step.memories, step.messages, step.saved,
                                   step.known, step.state, step.name, format, step.conversations,
                                   step.new_conversations, step.imported_memories, step.missing_images)
    finally:
        if steps is not None:
            steps.close()
        lock.release()


def _warm_learning(services: Services) -> None:
    """Load what learning a turn needs (the gazetteer, dateparser's data, MiniLM) before the first batch,
    so its transaction is as short as every other one (the gazetteer alone takes seconds)."""
    from companion.core.memory import dates

    geocoder = services.optional.geocoder
    if geocoder is not None:
        geocoder.find_places("Paris")
    embedder = services.optional.text_embedder
    if embedder is not None:
        embedder.embed(["warm up"])
    dates.warm_up()


def import_chat(services: Services, path: Path | str, cancel: threading.Event | None = None) -> ImportResult:
    """:func:`import_steps` without the progress: the run's ``ImportResult``."""
    result = None
    for step in import_steps(services, path, cancel):
        if isinstance(step, ImportResult):
            result = step
    assert result is not None
    return result


def describe_import(result: ImportResult) -> str:
    """One line a user can read about an import run (the command line and the window print it)."""
    name = result.name or "the file"
    if result.format != "jsonl":
        return _describe_export(result)
    if result.state == "already imported":
        return f"{name} was imported before (conversation {result.conversation_id}): nothing added."
    known = f"; {result.known:,} messages were already imported" if result.known else ""
    if result.state == "cancelled":
        return (f"Import stopped: {result.saved:,} of {result.messages:,} messages are saved{known}; "
                "import the same file again to continue.")
    resumed = " (resumed)" if result.state == "resumed" else ""
    return (f"Imported {result.turns:,} turns{resumed} (conversation {result.conversation_id}); "
            f"learned {result.memories:,} memories{known}.")


def _describe_export(result: ImportResult) -> str:
    kind = FORMAT_NAMES.get(result.format, result.format)
    if result.state == "already imported":
        return f"{result.name} ({kind}) was imported before: nothing added."
    if result.state == "cancelled":
        return (f"Import stopped: {result.saved:,} of {result.messages:,} messages of {result.name} are saved; "
                "import the same file again to continue.")
    parts = [f"Imported {result.turns:,} turns{' (resumed)' if result.state == 'resumed' else ''} into "
             f"{result.new_conversations:,} of {result.conversations:,} conversations from {result.name} ({kind})",
             f"learned {result.memories:,} memories"]
    if result.imported_memories:
        parts.append(f"{result.imported_memories:,} of them from your custom instructions")
    if result.known:
        parts.append(f"{result.known:,} messages were already imported")
    if result.missing_images:
        parts.append(f"{result.missing_images:,} images named in the messages are not in the export")
    return "; ".join(parts) + "."


def ask(services: Services, question: str, image: Path | str | None = None, *, model: str | None = None,
        temporary: bool = False, cancel: threading.Event | None = None) -> Iterator[AnswerEvent]:
    """Stream ``AnswerEvent``s for a question about an optional photo (see companion.core.answer.pipeline)."""
    from companion.core.answer.pipeline import ask

    return ask(services.deps(model), question, image, temporary=temporary, cancel=cancel)


def chat_session(services: Services, *, model: str | None = None, temporary: bool = False) -> ChatSession:
    """An interactive conversation; ``session.send(text, image)`` streams AnswerEvents."""
    from companion.core.answer.pipeline import ChatSession

    return ChatSession(services.deps(model), temporary=temporary)
