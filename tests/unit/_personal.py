"""Shared helpers for the personalization unit tests: a real store, real geocoder, scripted turns."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

from companion.app.services import Services
from companion.core.deps import Deps
from companion.core.memory.learn import learn

T0 = datetime(2026, 5, 4, 18, 0, tzinfo=timezone.utc)


def deps(tmp_path, *, geocoder: bool = True) -> Deps:  # type: ignore[no-untyped-def]
    services = Services.open(tmp_path / "home")
    return Deps(services.store, services.settings, geocoder=services.optional.geocoder if geocoder else None,
                model_hint="Install a chat model with: companion models download gemma-3-4b")


def say(d: Deps, *lines: tuple[float, str]) -> list:  # type: ignore[type-arg]
    """Store user turns at T0 + days and learn from them."""
    conversation = d.store.conversations.start("test", T0)
    turns = [d.store.conversations.add_turn(conversation.id, "user", text, T0 + timedelta(days=day))
             for day, text in lines]
    learn(d, turns, typed_now=True)   # the user said these in the chat
    return turns


class ScriptedModel:
    """A LanguageModel test double whose every generation is the given text (pins checker behaviour)."""

    name = "scripted"
    supports_images = False
    context_length = 2048

    def __init__(self, *outputs: str) -> None:
        self.outputs = list(outputs)
        self.requests: list = []  # type: ignore[type-arg]

    def stream(self, request, cancel=None) -> Iterator[str]:  # type: ignore[no-untyped-def]
        self.requests.append(request)
        text = self.outputs.pop(0) if len(self.outputs) > 1 else self.outputs[0]
        for i in range(0, len(text), 4):
            yield text[i:i + 4]

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def close(self) -> None:
        pass
