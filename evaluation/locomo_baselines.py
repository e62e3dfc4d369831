"""What the LoCoMo suite compares Companion with, all over the same raw turns in the same run.

- ``bm25@k``: BM25 (bm25s, Lucene's variant, k1 = 1.5, b = 0.75) over the turns as imported,
  NLTK's English stopwords left out, Porter stems; the k best turns.
- ``minilm@k``: the product's all-MiniLM-L6-v2 ONNX export, cosine similarity between the
  question and each turn; the k best turns.
- ``full_history``: every turn, in order.
- ``memory_search@k``: Companion's own hybrid memory search (FTS5 + MiniLM, fused), alone.

A baseline's block is one line per turn ("Monday 8 May 2023, Caroline: text [Caroline shared a
photo: caption]"); its records-only "answer" is the text of its best turn (full history has
none).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import bm25s
import numpy as np

from companion.core.protocols import GenerationRequest, TextEmbedder
from evaluation.locomo_data import LocomoConversation, LocomoTurn, turn_text
from evaluation.locomo_metrics import STOPWORDS, stem


def turn_line(turn: LocomoTurn) -> str:
    return f"{turn.time:%A %-d %B %Y}, {turn_text(turn, prefix=True)}"


@dataclass
class Retrieved:
    lines: list[str]
    answer: str | None


def _tokens(texts: list[str]) -> list[list[str]]:
    tokenized = bm25s.tokenize(texts, stopwords=sorted(STOPWORDS), stemmer=lambda words: [stem(w) for w in words],
                               return_ids=False, show_progress=False)
    return [list(t) for t in tokenized]


class Bm25:
    def __init__(self, conversation: LocomoConversation) -> None:
        self.turns = list(conversation.turns)
        self.index = bm25s.BM25()
        self.index.index(_tokens([turn_text(t, prefix=True) for t in self.turns]), show_progress=False)

    def top(self, question: str, k: int) -> list[LocomoTurn]:
        query = _tokens([question])
        if not query[0]:
            return []
        ids, _ = self.index.retrieve(query, k=min(k, len(self.turns)), show_progress=False)
        return [self.turns[int(i)] for i in ids[0]]


class MiniLm:
    def __init__(self, conversation: LocomoConversation, embedder: TextEmbedder) -> None:
        self.turns = list(conversation.turns)
        self.embedder = embedder
        texts = [turn_text(t, prefix=True) for t in self.turns]
        self.vectors = np.concatenate([embedder.embed(texts[i:i + 64]) for i in range(0, len(texts), 64)])

    def top(self, question: str, k: int) -> list[LocomoTurn]:
        scores = self.vectors @ self.embedder.embed([question])[0]
        return [self.turns[int(i)] for i in np.argsort(-scores)[:k]]


def ranked(turns: list[LocomoTurn]) -> Retrieved:
    return Retrieved([turn_line(t) for t in turns], turns[0].text if turns else "")


@dataclass
class RecordingModel:
    """A LanguageModel that answers nothing and keeps the records block of the answer prompt it was given.

    With it, the pipeline runs its model path up to generation; the empty answer leaves the
    records' own answer in place. The block is what a real model would have been shown.
    """

    name: str = "recorder"
    supports_images: bool = False
    context_length: int = 32_768
    prompts: list[str] = field(default_factory=list)
    tokens: Callable[[str], int] = field(default=lambda text: len(text.split()))   # Gemma 3's, in the suite

    def stream(self, request: GenerationRequest, cancel: threading.Event | None = None) -> Iterator[str]:
        self.prompts.extend(m.text for m in request.messages if m.role == "system")
        return iter(())

    def count_tokens(self, text: str) -> int:
        return self.tokens(text)

    def close(self) -> None:
        pass

    def records_block(self) -> str:
        """The last answer prompt's records (between the fences), "" when no answer prompt was made."""
        for prompt in reversed(self.prompts):
            start = prompt.find("<<<RECORDS")
            if start >= 0:
                body = prompt[prompt.index("\n", start) + 1:]
                return body[:body.rfind("\n>>>")] if "\n>>>" in body else body
        return ""


Baseline = Callable[[str], Retrieved]
