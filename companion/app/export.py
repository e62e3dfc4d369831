"""``companion export``: memories and people as plain files any program (or person) can read.

Two formats, both documented in docs/backup.md ("Export"):

- ``jsonl``: ``people.jsonl`` (one card per line, with its sightings: when, where, in which
  photo or said in which turn), ``memories.jsonl`` (one memory per line, with whom it is about
  and the turns it came from), and ``export.json`` naming the format version;
- ``markdown``: ``people.md`` and ``memories.md``, the same content for reading.

Each file is written to a temporary name and renamed when complete: an interrupted export
leaves the earlier files, never half of one. Nothing is read from outside the profile.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from companion import __version__
from companion.app.services import Services
from companion.core.errors import DiskFullError, InvalidInputError, StoreError
from companion.core.types import Concept, Memory, Observation

ExportFormat = Literal["jsonl", "markdown"]
EXPORT_FORMAT_VERSION = 1
# Sightings per card in the export: every one (a card's timeline is what the export is for).
_ALL = 1_000_000


@dataclass(frozen=True)
class ExportReport:
    folder: Path
    files: tuple[Path, ...]
    people: int
    sightings: int
    memories: int


@dataclass(frozen=True)
class _Card:
    concept: Concept
    sightings: list[dict[str, object]]


def export(services: Services, folder: Path, fmt: str) -> ExportReport:
    """Write the profile's cards (with sightings) and memories (with sources) into ``folder``."""
    if fmt not in ("jsonl", "markdown"):
        raise InvalidInputError(f"unknown export format {fmt!r}: use jsonl or markdown")
    folder = Path(folder).expanduser().absolute()
    if folder.exists() and not folder.is_dir():
        raise InvalidInputError(f"not a folder: {folder}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        cards = list(_cards(services))
        memories = list(_memories(services))
        if fmt == "jsonl":
            files = [_write(folder / "people.jsonl", (_line(_card_json(c)) for c in cards)),
                     _write(folder / "memories.jsonl", (_line(m) for m in memories)),
                     _write(folder / "export.json", [json.dumps(_header(len(cards), len(memories)), indent=2) + "\n"])]
        else:
            files = [_write(folder / "people.md", _people_markdown(cards)),
                     _write(folder / "memories.md", _memories_markdown(memories))]
    except OSError as exc:
        if exc.errno in (28, 122):
            raise DiskFullError(f"the disk is full: the export to {folder} is incomplete (files already there "
                                "are as they were)") from exc
        raise StoreError(f"could not write the export to {folder}: {exc}") from exc
    return ExportReport(folder, tuple(files), len(cards), sum(len(c.sightings) for c in cards), len(memories))


def _header(people: int, memories: int) -> dict[str, object]:
    return {"format": "companion-export", "format_version": EXPORT_FORMAT_VERSION, "companion_version": __version__,
            "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "files": {"people.jsonl": people, "memories.jsonl": memories}}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _cards(services: Services) -> Iterator[_Card]:
    store = services.store
    for concept in sorted(store.concepts.list(), key=lambda c: (c.category, c.name.lower())):
        sightings = [_sighting(services, o) for o in store.observations.timeline(concept.id, limit=_ALL)]
        sightings.sort(key=lambda s: (s["time"] is None, str(s["time"] or "")))
        yield _Card(concept, sightings)


def _sighting(services: Services, observation: Observation) -> dict[str, object]:
    photo = services.store.photos.get(observation.photo_id) if observation.photo_id is not None else None
    turn = services.store.conversations.get_turn(observation.turn_id) if observation.turn_id is not None else None
    return {"time": _iso(observation.time), "place": observation.place or None, "how": observation.source,
            "kind": observation.kind, "photo": photo.path if photo else None,
            "said": turn.text if turn else None, "doing": observation.action or None}


def _card_json(card: _Card) -> dict[str, object]:
    c = card.concept
    return {"id": c.id, "name": c.name, "category": c.category, "info": c.info,
            "created_at": _iso(c.created_at), "updated_at": _iso(c.updated_at), "sightings": card.sightings}


def _memories(services: Services) -> Iterator[dict[str, object]]:
    store = services.store
    names = {c.id: c.name for c in store.concepts.list()}
    found: list[Memory] = store.memories.list(limit=_ALL)
    for memory in sorted(found, key=lambda m: m.id):
        turns = store.conversations.get_turns(memory.source_turn_ids)
        yield {"id": memory.id, "kind": memory.kind, "content": memory.content, "keywords": memory.keywords,
               "time": _iso(memory.time), "place": memory.place or None, "doing": memory.action or None,
               "about": [names[i] for i in memory.concept_ids if i in names],
               "speaker": memory.speaker or None, "subject": memory.subject or None,
               "created_at": _iso(memory.created_at), "updated_at": _iso(memory.updated_at),
               "sources": [{"turn": t.id, "conversation": t.conversation_id, "role": t.role, "time": _iso(t.time),
                            "speaker": t.speaker or None, "text": t.text}
                           for t in (turns[i] for i in memory.source_turn_ids if i in turns)]}


def _line(value: dict[str, object]) -> str:
    return json.dumps(value, ensure_ascii=False) + "\n"


def _people_markdown(cards: list[_Card]) -> Iterator[str]:
    yield f"# People, pets and things\n\nExported by Companion {__version__}.\n"
    for card in cards:
        c = card.concept
        yield f"\n## {_md(c.name)} ({c.category})\n\n"
        if c.info:
            yield f"{_md(c.info)}\n\n"
        if not card.sightings:
            yield "No sightings.\n"
        for s in card.sightings:
            where = f" at {_md(str(s['place']))}" if s["place"] else ""
            what = f" in photo `{s['photo']}`" if s["photo"] else ""
            what += f": \"{_md(str(s['said']))}\"" if s["said"] else ""
            doing = f" ({_md(str(s['doing']))})" if s["doing"] else ""
            yield f"- {s['time'] or 'undated'}{where}{what}{doing}\n"


def _memories_markdown(memories: list[dict[str, object]]) -> Iterator[str]:
    yield f"# Memories\n\nExported by Companion {__version__}.\n"
    for m in memories:
        about = m["about"]
        yield f"\n## Memory {m['id']} ({m['kind']})\n\n{_md(str(m['content']))}\n\n"
        facts = [("When", m["time"]), ("Where", m["place"]),
                 ("About", ", ".join(about) if isinstance(about, list) else ""), ("Said by", m["speaker"])]
        for label, value in facts:
            if value:
                yield f"- {label}: {_md(str(value))}\n"
        sources = m["sources"]
        if isinstance(sources, list) and sources:
            yield "- From:\n"
            for source in sources:
                yield f"  - {source['time']} ({source['role']}): {_md(str(source['text']))}\n"


def _md(text: str) -> str:
    """One line of text, safe inside Markdown (no heading or HTML from the user's words)."""
    line = " ".join(text.split())
    return line.replace("<", "&lt;").replace(">", "&gt;")


def _write(target: Path, parts: Iterable[str]) -> Path:
    """Write ``parts`` to ``target`` through a temporary file, renamed when complete."""
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as writer:
            for part in parts:
                writer.write(part)
            writer.flush()
            os.fsync(writer.fileno())
        os.replace(name, target)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)
    return target
