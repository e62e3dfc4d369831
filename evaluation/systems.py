"""The five systems compared, all answering with the same model through the same ``Deps``.

``no_memory``, ``full_history`` and ``rap_topk`` build one completion prompt
(see ``prompts``); ``ours_no_caption`` and ``ours`` run the real pipeline with
the shared perception injected, without and with CoViP's caption pass.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from companion.core.answer.perceive import Perception, Recognized
from companion.core.answer.pipeline import run
from companion.core.deps import Deps
from companion.core.protocols import ChatMessage, GenerationRequest, complete
from evaluation import prompts
from evaluation.life import Life, history_lines
from evaluation.simulate import Seen
from evaluation.tasks import CAPTION_REQUEST, Item

BASELINES = ("no_memory", "full_history", "rap_topk", "ours_no_caption", "ours")
RAP_TOP_K = 2          # RAP's captioning / chat setting
MAX_TOKENS = 96        # baselines' answer length; the pipeline uses its own (160)
# A base model continues the pattern it reads (more dated lines, more questions): stop there.
STOP = ("<end_of_turn>", "\nQuestion:", "\n[", "\nNew photo")


@dataclass(frozen=True)
class PhotoInput:
    """A query photo as every system receives it."""

    path: str | None                 # the file (real perception), None in annotated mode
    taken_at: datetime
    seen: Seen                       # what perception found (shared by all memory baselines)
    categories: tuple[str, ...]      # what a model with no memory can tell: "a person", "a dog"
    ranked: tuple[str, ...]          # every concept by similarity, no threshold (RAP's retriever)


class Systems:
    def __init__(self, deps: Deps, life: Life, *, temperature: float = 0.2) -> None:
        assert deps.model is not None, "the baselines need a language model"
        self.deps, self.life, self.model = deps, life, deps.model
        self.temperature = temperature
        self._history = [line for _, line in history_lines(life)]
        self._cards = {c.name: (c.name, c.info) for c in life.concepts}
        self.kept_lines: list[int] = []

    # ---- shared ----------------------------------------------------------------------

    def _generate(self, prompt: str) -> str:
        request = GenerationRequest([ChatMessage("user", prompt)], max_tokens=MAX_TOKENS,
                                    temperature=self.temperature, stop=STOP)
        # The first paragraph is the answer (a leading blank line must not end it empty).
        return complete(self.model, request).strip().split("\n\n")[0].strip()

    def _perception(self, photo: PhotoInput) -> Perception:
        """Our pipeline's view of the photo: the shared perception, as concept rows of this store."""
        recognized = []
        for name in photo.seen.present:
            concept = self.deps.store.concepts.by_name(name)
            if concept is not None:
                source = "face" if concept.category == "person" else "clip"
                recognized.append(Recognized(concept.id, concept.name, concept.category, 1.0, source))
        return Perception(recognized=recognized, unknown_faces=photo.seen.unknown_faces,
                          faces=len(recognized) + photo.seen.unknown_faces, taken_at=photo.taken_at,
                          photo_path=photo.path)

    def answer(self, baseline: str, item: Item, photo: PhotoInput | None) -> str:
        """The text a system answers ``item`` with (for caption QA: the caption it writes)."""
        question = CAPTION_REQUEST if item.caption_of else item.question
        if baseline in ("ours", "ours_no_caption"):
            return self._ours(question, photo, caption=baseline == "ours", want_caption=bool(item.caption_of))
        if baseline == "no_memory":
            line = prompts.photo_line(photo.taken_at, list(photo.categories)) if photo else ""
            return self._generate(prompts.no_memory(line, question))
        if baseline == "full_history":
            line = (prompts.photo_line(photo.taken_at, list(photo.seen.present), photo.seen.unknown_faces)
                    if photo else "")
            budget = self.model.context_length - MAX_TOKENS - 8
            prompt, kept = prompts.full_history(self._history, line, question, self.model.count_tokens, budget)
            self.kept_lines.append(kept)
            return self._generate(prompt)
        if baseline == "rap_topk":
            cards = [self._cards[n] for n in (photo.ranked[:RAP_TOP_K] if photo else ())]
            line = prompts.photo_line(photo.taken_at, list(photo.categories)) if photo else ""
            # RAP also adds any concept the user names in the text (at distance 0).
            cards = [self._cards[n] for n in self._cards if n in question and self._cards[n] not in cards] + cards
            return self._generate(prompts.rap_cards(cards, line, question))
        raise ValueError(f"unknown baseline {baseline!r}")

    def _ours(self, question: str, photo: PhotoInput | None, *, caption: bool, want_caption: bool) -> str:
        perception = self._perception(photo) if photo else None
        if perception is not None:
            perception = dataclasses.replace(perception, recognized=list(perception.recognized))
        answer = run(self.deps, question, photo.path if photo else None, temporary=True, perception=perception,
                     caption_pass=caption)
        if want_caption and caption and answer.caption:
            return answer.caption
        return answer.answer


def history_tokens(life: Life, count: Callable[[str], int]) -> int:
    """Tokens of the whole history as the full-history baseline would read it (before truncation)."""
    return sum(count(line) + 1 for _, line in history_lines(life))
