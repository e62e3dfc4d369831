"""Big-Five persona estimate (PersonaVLM's momentum-based evolution), shaping tone.

Each turn yields inferred traits as integers 1..5 (3 = neutral, skipped). The
stored estimate moves as an EMA, new = f*old + (1-f)*inferred, where f rises
from 0.5 at the first interaction to 0.9 after 50 (cosine schedule): early
turns move it a lot, a long history makes it stable.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone

from companion.core.store import Store
from companion.core.types import BIG_FIVE, Persona

WARMUP = 50
F_START, F_END = 0.5, 0.9

# Cue words -> (trait, score). Deliberately small and transparent; a model may add to it.
_CUES: dict[str, tuple[str, int]] = {}
for _words, _trait, _score in (
    ("love trying new|curious|art|museum|travel|explore|novel|ideas|creative|painting", "openness", 5),
    ("boring|same as always|routine is best|don't like change", "openness", 2),
    ("plan|planned|schedule|organized|organised|list|on time|deadline|tidy|prepared", "conscientiousness", 4),
    ("forgot|messy|procrastinat|late again|whatever", "conscientiousness", 2),
    ("party|friends|together|met|hang out|fun|dinner with|team|crowd", "extraversion", 4),
    ("alone|quiet|stayed home|introvert|tired of people", "extraversion", 2),
    ("thank|thanks|kind|help|helped|love|sweet|grateful|please", "agreeableness", 4),
    ("hate|annoying|stupid|angry at|idiot", "agreeableness", 2),
    ("worried|anxious|nervous|stressed|afraid|scared|upset|sad|panic", "neuroticism", 4),
    ("relaxed|calm|no worries|fine|peaceful|chill", "neuroticism", 2),
):
    for _w in _words.split("|"):
        _CUES[_w] = (_trait, _score)


def momentum(interactions: int) -> float:
    """Weight on the past, f: 0.5 at the first interaction, 0.9 from the 50th on (cosine)."""
    n = min(max(interactions, 0), WARMUP)
    decay = (1 - F_END) + ((1 - F_START) - (1 - F_END)) * 0.5 * (1 + math.cos(math.pi * n / WARMUP))
    return 1 - decay


def infer_traits(text: str) -> dict[str, int]:
    """Traits a turn hints at, as integers 1..5; traits without cues are left out (neutral)."""
    lowered = text.lower()
    votes: dict[str, list[int]] = {}
    for cue, (trait, score) in _CUES.items():
        if re.search(r"(?<!\w)" + re.escape(cue), lowered):
            votes.setdefault(trait, []).append(score)
    return {t: int(round(sum(v) / len(v))) for t, v in votes.items()}


def update(persona: Persona, inferred: dict[str, int], when: datetime | None = None) -> Persona:
    """The persona after one interaction; neutral (3) and unknown traits keep their value."""
    f = momentum(persona.interactions)
    scores = persona.scores()
    for trait, value in inferred.items():
        if trait in BIG_FIVE and value != 3 and 1 <= value <= 5:
            scores[trait] = f * scores[trait] + (1 - f) * value
    return Persona(**scores, interactions=persona.interactions + 1, updated_at=when or datetime.now(timezone.utc))


def observe(store: Store, text: str, turn_id: int | None = None, extra: dict[str, int] | None = None) -> Persona:
    """Update the stored persona from one user turn (lexicon cues, plus model scores when given)."""
    inferred = infer_traits(text)
    for trait, value in (extra or {}).items():
        inferred.setdefault(trait, value)
    persona = update(store.persona.get(), inferred)
    store.persona.save(persona, turn_id)
    return persona


_TONE = {
    ("openness", True): "suggest new ideas and connections",
    ("openness", False): "be practical and concrete",
    ("conscientiousness", True): "be precise and well organised",
    ("extraversion", True): "be warm and lively",
    ("extraversion", False): "be calm and brief",
    ("agreeableness", True): "be friendly",
    ("neuroticism", True): "be reassuring",
}


def tone(persona: Persona) -> str:
    """A one-line style instruction from the persona (empty when everything is near neutral)."""
    hints = []
    for trait, value in persona.scores().items():
        if abs(value - 3) >= 0.5:
            hint = _TONE.get((trait, value > 3))
            if hint:
                hints.append(hint)
    return "; ".join(hints)


def describe(persona: Persona) -> str:
    return ", ".join(f"{t} {v:.1f}" for t, v in persona.scores().items()) + f" ({persona.interactions} interactions)"
