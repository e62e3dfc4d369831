"""The Big-Five EMA (PersonaVLM): momentum schedule, neutral skipping, reset."""

from __future__ import annotations

import pytest

from companion.core.memory import persona
from companion.core.types import Persona
from tests.unit._personal import deps


def test_momentum_rises_from_half_to_nine_tenths() -> None:
    assert persona.momentum(0) == pytest.approx(0.5)
    assert persona.momentum(25) == pytest.approx(0.7)
    assert persona.momentum(50) == pytest.approx(0.9)
    assert persona.momentum(500) == pytest.approx(0.9)


def test_update_is_an_ema_and_skips_neutral() -> None:
    first = persona.update(Persona(), {"neuroticism": 5, "openness": 3})
    assert first.neuroticism == pytest.approx(0.5 * 3 + 0.5 * 5)
    assert first.openness == 3.0 and first.interactions == 1
    late = persona.update(Persona(interactions=60), {"neuroticism": 5})
    assert late.neuroticism == pytest.approx(0.9 * 3 + 0.1 * 5)


def test_lexicon_cues_and_tone() -> None:
    assert persona.infer_traits("I'm so worried and anxious about tomorrow")["neuroticism"] == 4
    assert persona.infer_traits("the sky is blue") == {}
    assert "reassuring" in persona.tone(Persona(neuroticism=4.2))
    assert persona.tone(Persona()) == ""


def test_observe_saves_and_reset_forgets(tmp_path) -> None:
    d = deps(tmp_path)
    persona.observe(d.store, "I am stressed and worried")
    assert d.store.persona.get().neuroticism > 3
    assert d.store.persona.history()
    d.store.persona.reset()
    assert d.store.persona.get().neuroticism == 3 and not d.store.persona.history()
