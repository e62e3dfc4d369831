"""A LanguageModel wrapper that counts prompt tokens (with the model's own tokenizer) and calls.

Every baseline talks to the same model through one of these, so "prompt
tokens per question" is measured the same way for all of them, including the
several calls our pipeline may make (caption, answer, retrieval steps).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from companion.core.protocols import GenerationRequest, LanguageModel


class MeteredModel:
    def __init__(self, inner: LanguageModel) -> None:
        self.inner = inner
        self.name = inner.name
        self.supports_images = inner.supports_images
        self.context_length = inner.context_length
        self.prompt_tokens = 0
        self.calls = 0

    def reset(self) -> tuple[int, int]:
        """(prompt tokens, calls) since the last reset."""
        used = (self.prompt_tokens, self.calls)
        self.prompt_tokens, self.calls = 0, 0
        return used

    def stream(self, request: GenerationRequest, cancel: threading.Event | None = None) -> Iterator[str]:
        self.calls += 1
        self.prompt_tokens += sum(self.inner.count_tokens(m.text) for m in request.messages)
        yield from self.inner.stream(request, cancel)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def close(self) -> None:
        self.inner.close()
