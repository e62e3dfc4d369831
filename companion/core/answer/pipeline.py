"""ask(): perceive -> understand -> evidence -> caption (CoViP pass 1) -> answer (pass 2) -> check -> remember.

It only orchestrates: the Evidence (``evidence.py``) holds what the answer may use and say,
the statements (``statements.py``) what the records answer, the checker (``check.py``) what a
model's answer may keep. Events (``events.py``), in order: ``Recognition``, one
``ReminderFired`` per fired trigger, ``Caption``, ``Notice``, ``Token``s, ``Fix``, ``Done``.
Reminders fire for every concept present in the photo, whatever the caption says.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Generator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from companion.core import language, model_json
from companion.core.answer import evidence as evidence_
from companion.core.answer.check import Allowed, check
from companion.core.answer.events import (
    Answer,
    AnswerEvent,
    Caption,
    Done,
    Fix,
    Notice,
    Recognition,
    ReminderFired,
    Token,
)
from companion.core.answer.evidence import Evidence
from companion.core.answer.perceive import Perception, named_in_text, perceive
from companion.core.answer.retrieve import MAX_STEPS, more
from companion.core.answer.statements import Statement, statements, structured_answer
from companion.core.answer.understand import Plan, understand
from companion.core.deps import Deps
from companion.core.memory import dates, persona
from companion.core.memory.consolidate import consolidate
from companion.core.memory.remember import read_turn, write_turn
from companion.core.prompts import data_block, render_prompt
from companion.core.protocols import ChatMessage, GenerationRequest, complete
from companion.core.types import city

_RETRIEVE = re.compile(r"<retrieve>(.*?)(?:</retrieve>|$)", re.S)
RETRIEVE_SCHEMA: dict[str, Any] = {"type": "object", "properties": {
    "keywords": {"type": "string"}, "start_time": {"type": "string"}, "end_time": {"type": "string"}}}


def _now() -> datetime:
    return datetime.now().astimezone()


def structured_caption(perception: Perception, evidence: Evidence) -> str:
    """Pass 1 without pixels: who, where and when, from perception and records only."""
    who = [r.name for r in perception.recognized if r.source in ("face", "clip")]
    english = language.get("en")   # the caption is English for the model, and shown as "I see: …"
    parts = ["A photo"]
    if perception.taken_at:
        guess = english.date_source(perception.taken_at_source)
        parts.append(f"taken on {dates.describe(perception.taken_at)}" + (f" ({guess})" if guess else ""))
    if perception.place:
        parts.append(f"in {perception.place}")
    text = " ".join(parts)
    if who:
        text += " showing " + " and ".join(who)
    if perception.unknown_faces:
        text += (" and " if who else " showing ") + english.plural("people_unknown", perception.unknown_faces)
    text += "."
    for item in evidence.context.concepts:
        if item.recognized.source in ("face", "clip") and item.concept.info:
            text += f" {item.concept.name}: {item.concept.info}"
    return text


def _answer_request(deps: Deps, plan: Plan, evidence: Evidence, question: str, caption: str) -> GenerationRequest:
    system = render_prompt("answer", persona=persona.tone(deps.store.persona.get()) or "neutral",
                           plan=plan.prompt_line(), caption=data_block("caption", caption),
                           records=data_block("records", evidence.text()))
    return GenerationRequest([ChatMessage("system", system), ChatMessage("user", question)],
                             max_tokens=160, temperature=0.2, stop=("\n\n\n", "<end_of_turn>"))


def _stream_answer(deps: Deps, plan: Plan, evidence: Evidence, question: str, caption: str,
                   cancel: threading.Event | None) -> Iterator[str]:
    """Pass 2, with the bounded retrieval loop: a leading <retrieve>{...}</retrieve> asks for more."""
    assert deps.model is not None
    while True:
        pieces = deps.model.stream(_answer_request(deps, plan, evidence, question, caption), cancel)
        head = ""
        for piece in pieces:
            head += piece
            if len(head.lstrip()) >= 10 or not "<retrieve>".startswith(head.lstrip()[:10]):
                break
        if head.lstrip().startswith("<retrieve>") and evidence.context.steps < MAX_STEPS:
            _retrieve_more(deps, evidence, head + "".join(pieces), question)
            continue
        yield head
        yield from pieces
        return


def _retrieve_more(deps: Deps, evidence: Evidence, body: str, question: str) -> None:
    """One step of PersonaVLM's loop: the model's keywords and window, searched; nothing new ends the loop."""
    match = _RETRIEVE.search(body)
    values = model_json.read(match[1], RETRIEVE_SCHEMA) if match else None
    keywords = model_json.text(values, "keywords") if values else ""
    start = dates.parse_bound(model_json.text(values, "start_time")) if values else None
    end = dates.parse_bound(model_json.text(values, "end_time")) if values else None
    context = evidence.context
    if not more(deps.store, context, keywords or question, start, end, deps.text_embedder):
        context.steps = MAX_STEPS   # nothing more to find: answer now
        return
    evidence.ranked = [*evidence.ranked, *(evidence_.from_memory(m, 1.0) for m in context.memories
                                           if ("memory", m.id) not in {(i.kind, i.id) for i in evidence.ranked})]
    evidence.ranked.sort(key=lambda i: -i.score)


def _caption(deps: Deps, perception: Perception, evidence: Evidence, caption_pass: bool, has_photo: bool,
             cancel: threading.Event | None) -> str:
    caption = structured_caption(perception, evidence) if has_photo and caption_pass else ""
    if caption_pass and perception.photo_path and deps.model is not None and deps.model.supports_images:
        prompt = render_prompt("caption", records=data_block("records", "\n".join(evidence.record_lines())),
                               perception=data_block("perception", caption))
        model_caption = complete(deps.model, GenerationRequest(
            [ChatMessage("user", prompt, image=perception.photo_path)], max_tokens=120, temperature=0.0), cancel)
        caption = model_caption.strip() or caption
    return caption


def _generate(deps: Deps, plan: Plan, evidence: Evidence, items: list[Statement], perception: Perception,
              caption: str, now: datetime, cancel: threading.Event | None) -> Generator[AnswerEvent, None, str]:
    """The model's answer, streamed, then checked against the records."""
    generated = ""
    for piece in _stream_answer(deps, plan, evidence, plan.question, caption, cancel):
        generated += piece
        yield Token(piece)
    allowed = Allowed(names=[r.name for r in perception.recognized] + sorted(evidence.names()),
                      known_names=deps.store.concepts.names(),
                      places=[*evidence.places(), *([city(perception.place)] if perception.place else [])],
                      evidence=evidence.text(), question=plan.question,
                      places_in_evidence=not ("where" in plan.asks and plan.last))
    verdict = check(generated, items, allowed, geocoder=deps.geocoder, lang=plan.language, now=now)
    if verdict.fix:
        yield Fix(verdict.fix, replace=verdict.replaced)
    return verdict.text


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
    yield Recognition(tuple(perception.recognized), tuple(perception.unknown_boxes))
    now = _now()
    plan = understand(deps, question, perception, now=now, has_photo=has_photo, cancel=cancel)
    evidence = evidence_.build(deps, plan, perception)
    for reminder in evidence.reminders:
        deps.store.triggers.mark_fired(reminder.trigger_id)
        yield ReminderFired(reminder.text())
    caption = _caption(deps, perception, evidence, caption_pass, has_photo, cancel)
    if caption:
        yield Caption(caption)
    items = statements(plan, evidence, perception, has_photo=has_photo)
    notice = ""
    if deps.model is None:
        said = "No chat model is installed, so this answer comes straight from your records."
        notice = f"{said} {deps.model_hint}".strip()
        yield Notice(said, hint=deps.model_hint, action="get_chat_model")
        text = structured_answer(items)
        yield Token(text)
    else:
        text = yield from _generate(deps, plan, evidence, items, perception, caption, now, cancel)
    answer = Answer(
        answer=text, caption=caption, recognized=tuple(perception.recognized),
        last_seen=tuple(c.last_seen for c in evidence.context.concepts if c.last_seen),
        last_action=tuple(c.last_action for c in evidence.context.concepts if c.last_action),
        reminders=tuple(r.text() for r in evidence.reminders), sources=tuple(evidence.sources(deps.store)),
        plan=plan, queries=tuple(evidence.records.queries), unknown_faces=perception.unknown_faces,
        model=deps.model.name if deps.model else None, notice=notice, retrieval_steps=evidence.context.steps,
        evidence_lines=tuple(evidence.lines()))
    if not temporary and deps.settings.remember_conversations:
        _remember(deps, question, text, perception, conversation_id)
    yield Done(answer)


def _remember(deps: Deps, question: str, answer: str, perception: Perception, conversation_id: int | None) -> int:
    store, now = deps.store, _now()
    images = [perception.photo_path] if perception.photo_path else []
    gap = deps.settings.session_gap_minutes
    in_photo = [c for c in (store.concepts.get(r.concept_id) for r in perception.recognized
                            if r.source in ("face", "clip")) if c is not None]
    # Read the turn first (the model may take seconds, and must not hold the write lock), then store the
    # question, what it taught and the answer in one transaction: never half a remembered turn.
    facts = read_turn(deps, question, now, recent=in_photo, image_concepts=None)
    with store.db.transaction():
        if conversation_id is None:
            conversation_id = store.conversations.start(title=question[:60], started_at=now).id
        turn = store.conversations.add_turn(conversation_id, "user", question, now, images, session_gap_minutes=gap)
        write_turn(deps, turn, facts, typed_now=True)
        store.conversations.add_turn(conversation_id, "assistant", answer, _now(), session_gap_minutes=gap)
    consolidate(deps, now)
    return conversation_id


def run(deps: Deps, question: str, image: Path | str | None = None, **options: Any) -> Answer:
    """ask() to completion (for scripts and tests)."""
    for event in ask(deps, question, image, **options):
        match event:
            case Done(answer=answer):
                return answer
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
        from companion.core.library.recognition import forget_concept

        concept = self.deps.store.concepts.resolve(name)
        return forget_concept(self.deps.store, self.deps.settings, concept.id)
