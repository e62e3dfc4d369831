"""Reading LoCoMo (snap-research/locomo) in its own format, and writing a conversation as Companion's import file.

A LoCoMo sample is one long conversation between two speakers: ``speaker_a``,
``speaker_b``, sessions ``session_N`` (turns with ``dia_id`` "D<session>:<turn>",
``speaker``, ``text`` and, for a shared photo, ``blip_caption``) dated by
``session_N_date_time`` ("1:56 pm on 8 May, 2023"), and ``qa``: ``question``,
``answer`` (``adversarial_answer`` for category 5), ``evidence`` (dia_ids) and
``category`` (1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop, 5 adversarial).
The release is one JSON list of samples with the conversation under
``conversation``; a sample may also be stored flat, one file each. Both are read.

A few evidence ids are malformed in the release ("D8:6; D9:17", "D:11:26", "D"):
they are split, repaired where the session and turn are readable, and dropped
where they are not (:func:`evidence_ids`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cached_property
from pathlib import Path
from typing import Any

CATEGORIES = {1: "multi_hop", 2: "temporal", 3: "open_domain", 4: "single_hop", 5: "adversarial"}
ANSWERABLE = (1, 2, 3, 4)
TURN_SPACING = timedelta(minutes=1)   # turns of a session, one minute apart from the session's time
_DIA = re.compile(r"D\s*:?\s*(\d+)\s*:\s*(\d+)")
_SESSION = re.compile(r"session_(\d+)")


@dataclass(frozen=True)
class LocomoTurn:
    dia_id: str
    speaker: str
    text: str
    caption: str          # the shared photo's BLIP caption ("" when none)
    time: datetime        # the session's time plus the turn's position

    def content(self) -> str:
        """What the turn says, with its photo's caption (the words an evidence turn is judged by)."""
        return f"{self.text} {self.caption}".strip()


@dataclass(frozen=True)
class LocomoQuestion:
    question: str
    answer: str           # "" for adversarial questions (their answer is not in the conversation)
    evidence: tuple[str, ...]
    category: int


@dataclass(frozen=True)
class LocomoConversation:
    sample_id: str
    speakers: tuple[str, str]
    turns: tuple[LocomoTurn, ...]
    questions: tuple[LocomoQuestion, ...]

    @cached_property
    def by_id(self) -> dict[str, LocomoTurn]:
        return {t.dia_id: t for t in self.turns}


def session_time(text: str) -> datetime:
    """"1:56 pm on 8 May, 2023" -> 2023-05-08 13:56 UTC."""
    return datetime.strptime(" ".join(text.replace(",", " ").split()), "%I:%M %p on %d %B %Y").replace(
        tzinfo=timezone.utc)


def evidence_ids(raw: list[Any]) -> tuple[str, ...]:
    """The release's evidence strings as "D<session>:<turn>" ids; "D8:6; D9:17" is two, "D" is none."""
    out: list[str] = []
    for item in raw:
        for part in re.split(r"[;,]", str(item)):
            match = _DIA.fullmatch(part.strip())
            if match:
                out.append(f"D{int(match[1])}:{int(match[2])}")
    return tuple(dict.fromkeys(out))


def _sample(raw: dict[str, Any], fallback_id: str) -> LocomoConversation:
    conv = raw.get("conversation", raw)
    numbers = sorted(int(m[1]) for key in conv for m in [_SESSION.fullmatch(key)] if m and isinstance(conv[key], list))
    turns: list[LocomoTurn] = []
    for number in numbers:
        start = session_time(conv[f"session_{number}_date_time"])
        for position, turn in enumerate(conv[f"session_{number}"]):
            turns.append(LocomoTurn(str(turn["dia_id"]), str(turn["speaker"]), str(turn.get("text", "")).strip(),
                                    str(turn.get("blip_caption") or "").strip(), start + position * TURN_SPACING))
    questions = tuple(LocomoQuestion(str(q["question"]), str(q.get("answer", "")) if q.get("category") != 5 else "",
                                     evidence_ids(list(q.get("evidence") or [])), int(q["category"]))
                      for q in raw.get("qa", []))
    return LocomoConversation(str(raw.get("sample_id", fallback_id)), (str(conv["speaker_a"]), str(conv["speaker_b"])),
                              tuple(turns), questions)


def load(path: Path) -> list[LocomoConversation]:
    """Every conversation in a LoCoMo file (the release's list, or one flat sample), or in a folder of them."""
    if path.is_dir():
        return [c for file in sorted(path.glob("*.json")) for c in load(file)]
    raw = json.loads(path.read_text(encoding="utf-8"))
    samples = raw if isinstance(raw, list) else [raw]
    return [_sample(s, path.stem if len(samples) == 1 else f"{path.stem}-{i}") for i, s in enumerate(samples)]


def turn_text(turn: LocomoTurn, *, prefix: bool) -> str:
    """A turn as an imported line: "Caroline: text [Caroline shared a photo: caption]" (``prefix``), or
    "text [Caroline shared a photo: caption]" with the speaker in the import's own field."""
    text = turn.text
    if turn.caption:
        text += f" [{turn.speaker} shared a photo: {turn.caption}]"
    return f"{turn.speaker}: {text}" if prefix else text


def write_import(conversation: LocomoConversation, path: Path, *, speaker_field: bool) -> None:
    """The conversation as Companion's JSON Lines import: every turn a user turn at its session's time."""
    with path.open("w", encoding="utf-8") as out:
        for turn in conversation.turns:
            line: dict[str, Any] = {"time": turn.time.isoformat(), "role": "user",
                                    "text": turn_text(turn, prefix=not speaker_field)}
            if speaker_field:
                line["speaker"] = turn.speaker
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
