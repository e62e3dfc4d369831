"""ask(): perceive -> retrieve -> caption (CoViP pass 1) -> answer (pass 2, streamed) -> check -> remember.

Events (``AnswerEvent.kind``), in order:
  "recognized" (``recognized``: list of Recognized), "reminder" (``text``; one per fired trigger),
  "caption" (``text``), "notice" (``text``; e.g. which model to install), "token" (``text``; streamed),
  "fix" (``text``; appended to the answer, or the whole answer when ``replace``), "done" (``answer``).
Reminders fire for every concept present in the photo, whatever the caption says.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from companion.core.answer.check import check
from companion.core.answer.perceive import Perception, Recognized, named_in_text, perceive
from companion.core.answer.records import Records, gather, record_sources, records_lines
from companion.core.answer.retrieve import MAX_STEPS, Context, more, retrieve
from companion.core.answer.statements import city, statements, structured_answer
from companion.core.answer.understand import Plan, understand
from companion.core.deps import Deps
from companion.core.memory import dates, persona
from companion.core.memory.consolidate import consolidate
from companion.core.memory.remember import remember_turn
from companion.core.prompts import data_block, render_prompt
from companion.core.protocols import ChatMessage, GenerationRequest, complete
from companion.core.types import Box, Reminder

_RETRIEVE = re.compile(r"<retrieve>(.*?)(?:</retrieve>|$)", re.S)


@dataclass
class Answer:
    answer: str
    caption: str
    recognized: list[dict[str, Any]]
    last_seen: list[dict[str, Any]]
    last_action: list[dict[str, Any]]
    reminders: list[str]
    sources: list[dict[str, Any]]
    unknown_faces: int = 0
    model: str | None = None
    notice: str = ""
    retrieval_steps: int = 0
    plan: dict[str, Any] = field(default_factory=dict)   # how the question was understood (understand.Plan)


@dataclass
class AnswerEvent:
    kind: str                       # recognized | reminder | caption | notice | token | fix | done
    text: str = ""
    recognized: list[Recognized] = field(default_factory=list)
    replace: bool = False
    answer: Answer | None = None
    unknown_boxes: list[Box] = field(default_factory=list)   # "recognized": faces nobody has named


def _now() -> datetime:
    return datetime.now().astimezone()


def structured_caption(perception: Perception, context: Context) -> str:
    """Pass 1 without pixels: who, where and when, from perception and records only."""
    who = [r.name for r in perception.recognized if r.source in ("face", "clip")]
    parts = ["A photo"]
    if perception.taken_at:
        parts.append(f"taken on {dates.describe(perception.taken_at)}")
    if perception.place:
        parts.append(f"in {perception.place}")
    text = " ".join(parts)
    if who:
        text += " showing " + " and ".join(who)
    if perception.unknown_faces:
        text += (" and " if who else " showing ") + f"{perception.unknown_faces} person(s) I don't recognize"
    text += "."
    for item in context.concepts:
        if item.recognized.source in ("face", "clip") and item.concept.info:
            text += f" {item.concept.name}: {item.concept.info}"
    return text


def records_text(context: Context, reminders: list[Reminder], records: Records | None = None,
                 plan: Plan | None = None) -> str:
    lines = records_lines(records, plan) if records is not None and plan is not None else []
    for item in context.concepts:
        c = item.concept
        lines.append(f"[card] {c.name} ({c.category}, {item.recognized.source} "
                     f"{item.recognized.confidence:.2f}): {c.info}")
        if item.last_seen:
            s = item.last_seen
            lines.append(f"[last seen] {c.name}: {dates.describe(s.time)}, {s.place or 'place unknown'} "
                         f"({s.source_type} {s.source_id})")
        if item.last_action:
            a = item.last_action
            lines.append(f"[last told] {c.name}: {a.action} ({dates.describe(a.time)}, turn {a.turn_id})")
    for reminder in reminders:
        lines.append(f"[reminder] {reminder.text()}")
    for memory in context.memories:
        lines.append(f"[memory {memory.id}] {dates.describe(memory.time)}: {memory.content}")
    return "\n".join(lines) or "(no records)"


def _stream_answer(deps: Deps, context: Context, question: str, caption: str, reminders: list[Reminder],
                   cancel: threading.Event | None, plan: Plan, records: Records) -> Iterator[str]:
    """Pass 2, with the bounded retrieval loop: a leading <retrieve>{...}</retrieve> asks for more."""
    assert deps.model is not None
    while True:
        system = render_prompt("answer", persona=persona.tone(deps.store.persona.get()) or "neutral",
                               plan=plan.prompt_line(), caption=data_block("caption", caption),
                               records=data_block("records", records_text(context, reminders, records, plan)))
        request = GenerationRequest([ChatMessage("system", system), ChatMessage("user", question)],
                                    max_tokens=160, temperature=0.2, stop=("\n\n\n", "<end_of_turn>"))
        pieces = deps.model.stream(request, cancel)
        head = ""
        for piece in pieces:
            head += piece
            if len(head.lstrip()) >= 10 or not "<retrieve>".startswith(head.lstrip()[:10]):
                break
        if head.lstrip().startswith("<retrieve>") and context.steps < MAX_STEPS:
            body = head + "".join(pieces)
            match = _RETRIEVE.search(body)
            try:
                ask_for = json.loads(match[1]) if match else {}
            except ValueError:
                ask_for = {}
            new = more(deps.store, context, str(ask_for.get("keywords", question)),
                       dates.parse_bound(ask_for.get("start_time")), dates.parse_bound(ask_for.get("end_time")),
                       deps.text_embedder)
            if new:
                continue
            context.steps = MAX_STEPS   # nothing more to find: answer now
            continue
        yield head
        yield from pieces
        return


def ask(deps: Deps, question: str, image: Path | str | None = None, *, temporary: bool = False,
        conversation_id: int | None = None, cancel: threading.Event | None = None,
        perception: Perception | None = None, caption_pass: bool = True) -> Iterator[AnswerEvent]:
    """Answer a question about an optional photo, streaming events; remembers the turn unless temporary.

    ``perception`` replaces perceiving ``image`` (the evaluation injects ground truth or a shared result);
    ``caption_pass=False`` skips CoViP's pass 1 (an evaluation baseline).
    """
    has_photo = image is not None or perception is not None
    perception = perceive(deps, image) if perception is None else perception
    perception.recognized += named_in_text(deps, question, perception.recognized)
    yield AnswerEvent("recognized", recognized=list(perception.recognized),
                      unknown_boxes=list(perception.unknown_boxes))
    now = _now()
    plan = understand(deps, question, perception, now=now, has_photo=has_photo, cancel=cancel)
    context = retrieve(deps.store, question, perception.recognized, deps.text_embedder,
                       exclude_photo=perception.photo_id)
    records = gather(deps.store, plan)
    reminders = []
    for item in context.concepts:
        if item.recognized.source in ("face", "clip"):   # present in the photo: always fire
            for trigger in item.triggers:
                reminders.append(Reminder(item.concept.name, trigger.instruction, trigger.keyword, trigger.id))
                deps.store.triggers.mark_fired(trigger.id)
    for reminder in reminders:
        yield AnswerEvent("reminder", reminder.text())
    caption = structured_caption(perception, context) if has_photo and caption_pass else ""
    if caption_pass and perception.photo_path and deps.model is not None and deps.model.supports_images:
        prompt = render_prompt("caption", records=data_block("records", records_text(context, reminders)),
                               perception=data_block("perception", caption))
        model_caption = complete(deps.model, GenerationRequest(
            [ChatMessage("user", prompt, image=perception.photo_path)], max_tokens=120, temperature=0.0), cancel)
        caption = model_caption.strip() or caption
    if caption:
        yield AnswerEvent("caption", caption)
    items = statements(plan, context, records, perception, reminders, has_photo=has_photo)
    notice = ""
    if deps.model is None:
        notice = "No chat model is installed, so this answer comes straight from your records. " + deps.model_hint
        yield AnswerEvent("notice", notice.strip())
        text = structured_answer(items)
        yield AnswerEvent("token", text)
    else:
        generated = ""
        for piece in _stream_answer(deps, context, question, caption, reminders, cancel, plan, records):
            generated += piece
            yield AnswerEvent("token", piece)
        known = [c.name for c in deps.store.concepts.list()]
        allowed = [r.name for r in perception.recognized] + [s.name for s in records.shown()]
        places = [c.last_seen.place for c in context.concepts if c.last_seen] + [perception.place]
        if plan.place is not None:
            places.append(plan.place.label())
        places += [s.place for s in records.sightings] + [m.place for m in records.memories] + [
            p.place.label() for p in records.photos if p.place] + [
            p.place for rows in records.places.values() for p in rows]
        if not ("where" in plan.asks and plan.last):   # "where did I last see X": only that sighting's place
            places += [c.last_action.place for c in context.concepts if c.last_action] + [
                m.place for m in context.memories] + [m.place for ms in records.facts.values() for m in ms]
        text, fix, replaced = check(generated, items, known_names=known, allowed_names=allowed,
                                    geocoder=deps.geocoder, allowed_places=[city(p) for p in places if p],
                                    lang=plan.language, now=now)
        if fix:
            yield AnswerEvent("fix", fix, replace=replaced)
    answer = Answer(
        answer=text, caption=caption,
        recognized=[{"name": r.name, "category": r.category, "confidence": r.confidence, "source": r.source}
                    for r in perception.recognized],
        last_seen=[asdict(c.last_seen) for c in context.concepts if c.last_seen],
        last_action=[asdict(c.last_action) for c in context.concepts if c.last_action],
        reminders=[r.text() for r in reminders],
        sources=[asdict(s) for s in _dedup(record_sources(deps.store, records) + context.sources(deps.store))],
        unknown_faces=perception.unknown_faces, model=deps.model.name if deps.model else None, notice=notice,
        retrieval_steps=context.steps, plan=plan.to_json() | {"queries": records.queries})
    if not temporary and deps.settings.remember_conversations:
        _remember(deps, question, text, perception, conversation_id)
    yield AnswerEvent("done", answer=answer)


def _dedup(sources: list[Any]) -> list[Any]:
    seen: dict[tuple[str, int], Any] = {}
    for source in sources:
        seen.setdefault((source.type, source.id), source)
    return list(seen.values())


def _remember(deps: Deps, question: str, answer: str, perception: Perception, conversation_id: int | None) -> int:
    store, now = deps.store, _now()
    if conversation_id is None:
        conversation_id = store.conversations.start(title=question[:60], started_at=now).id
    images = [perception.photo_path] if perception.photo_path else []
    gap = deps.settings.session_gap_minutes
    turn = store.conversations.add_turn(conversation_id, "user", question, now, images, session_gap_minutes=gap)
    in_photo = [c for c in (store.concepts.get(r.concept_id) for r in perception.recognized
                            if r.source in ("face", "clip")) if c is not None]
    remember_turn(deps, turn, recent=in_photo, image_concepts=None)
    store.conversations.add_turn(conversation_id, "assistant", answer, _now(), session_gap_minutes=gap)
    consolidate(deps, now)
    return conversation_id


def run(deps: Deps, question: str, image: Path | str | None = None, **options: Any) -> Answer:
    """ask() to completion (for scripts and tests)."""
    for event in ask(deps, question, image, **options):
        if event.kind == "done" and event.answer is not None:
            return event.answer
    raise RuntimeError("ask() ended without an answer")


class ChatSession:
    """An interactive conversation: one conversation row, an optional photo and a temporary mode."""

    def __init__(self, deps: Deps, temporary: bool = False) -> None:
        self.deps = deps
        self.temporary = temporary
        self.image: str | None = None
        self.conversation_id: int | None = None

    def send(self, text: str, image: str | None = None,
             cancel: threading.Event | None = None) -> Iterator[AnswerEvent]:
        if self.conversation_id is None and not self.temporary:
            self.conversation_id = self.deps.store.conversations.start(title=text[:60], started_at=_now()).id
        yield from ask(self.deps, text, image or self.image, temporary=self.temporary,
                       conversation_id=self.conversation_id, cancel=cancel)

    def forget(self, name: str) -> Any:
        concept = self.deps.store.concepts.resolve(name)
        return self.deps.store.forget_concept(concept.id)
