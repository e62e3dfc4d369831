"""The LoCoMo suite's measures, applied identically to Companion and to every baseline.

- **Evidence recall of the block**: an evidence turn counts as shown when *one line* of the
  block holds at least half of that turn's distinct content words (its text and its photo's
  caption; lowercased, Porter-stemmed, NLTK's English stopwords left out). A question's recall
  is the share of its evidence turns shown; the suite's is the mean over questions. One line,
  so that words scattered over unrelated lines never add up to a turn.
- **Gold-answer word coverage**: the share of the gold answer's content words (same
  normalisation) that occur anywhere in the block.
- **Answer F1**: LoCoMo's own (``task_eval/evaluation.py``): lowercased, punctuation, commas and
  articles removed, Porter stems, token-count F1; a multi-hop gold with commas is scored per
  part (the mean of each part's best match), an open-domain gold up to its first ";".
- **Abstention**: the answer says it does not know (:data:`ABSTAINS`).
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from functools import cache

from nltk.stem import PorterStemmer

# NLTK's English stopword list (nltk.corpus.stopwords.words("english"), which needs a data download).
STOPWORDS = frozenset("""
i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself yourselves he him his
himself she she's her hers herself it it's its itself they them their theirs themselves what which who whom this
that that'll these those am is are was were be been being have has had having do does did doing a an the and but
if or because as until while of at by for with about against between into through during before after above
below to from up down in out on off over under again further then once here there when where why how all any
both each few more most other some such no nor not only own same so than too very s t can will just don don't
should should've now d ll m o re ve y ain aren aren't couldn couldn't didn didn't doesn doesn't hadn hadn't hasn
hasn't haven haven't isn isn't ma mightn mightn't mustn mustn't needn needn't shan shan't shouldn shouldn't wasn
wasn't weren weren't won won't wouldn wouldn't
""".split())
ABSTAINS = re.compile(r"\b(?:i don'?t know|i do not know|no record|no information|not mentioned|"
                      r"haven'?t told me|don'?t have any (?:memories|record|notes)|nothing (?:about|on) )", re.I)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_STEMMER = PorterStemmer()


@cache
def stem(word: str) -> str:
    return _STEMMER.stem(word)


def content_words(text: str) -> set[str]:
    """Distinct content words of ``text``, stemmed: what "shows a turn" and "covers an answer" are judged by."""
    words = _WORD.findall(text.lower().replace("’", "'"))
    return {stem(w.split("'")[0]) for w in words if w not in STOPWORDS and w.split("'")[0] not in STOPWORDS}


def lines_words(block: str) -> list[set[str]]:
    return [content_words(line) for line in block.splitlines() if line.strip()]


def shown(turn_words: set[str], block_lines: list[set[str]], share: float = 0.5) -> bool:
    """Whether one line of the block holds at least ``share`` of a turn's content words."""
    if not turn_words:
        return False
    need = math.ceil(share * len(turn_words))
    return any(len(turn_words & line) >= need for line in block_lines)


def coverage(gold: str, block_words: set[str]) -> float | None:
    """Share of the gold answer's content words in the block (None for a gold with none)."""
    words = content_words(gold)
    return len(words & block_words) / len(words) if words else None


# ---- LoCoMo's answer F1 ------------------------------------------------------------------


def normalize_answer(text: str) -> str:
    text = text.replace(",", "").lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the|and)\b", " ", text)
    return " ".join(text.split())


def f1_score(prediction: str, gold: str) -> float:
    predicted = [stem(w) for w in normalize_answer(prediction).split()]
    wanted = [stem(w) for w in normalize_answer(gold).split()]
    same = sum((Counter(predicted) & Counter(wanted)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(predicted), same / len(wanted)
    return 2 * precision * recall / (precision + recall)


def f1_multi(prediction: str, gold: str) -> float:
    """Multi-hop: each comma-separated part of the gold against the best comma-separated part of the answer."""
    predictions = [p.strip() for p in prediction.split(",")]
    golds = [g.strip() for g in gold.split(",")]
    return sum(max(f1_score(p, g) for p in predictions) for g in golds) / len(golds)


def answer_f1(prediction: str, gold: str, category: int) -> float:
    if category == 1:
        return f1_multi(prediction, gold)
    if category == 3:
        gold = gold.split(";")[0].strip()
    return f1_score(prediction, gold)


def abstains(answer: str) -> bool:
    return bool(ABSTAINS.search(answer))


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (a real observation, no interpolation)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]
