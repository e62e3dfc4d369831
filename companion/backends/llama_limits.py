"""Limits on one generation: a time budget, a token cap, and a stop when the model starts to loop.

A small or broken model can repeat one phrase until ``max_tokens`` ("I don't know. I don't
know. ..."), or a slow machine can take minutes on a long answer. The answer is cut, not
the app: the adapter (``llama.py``) ends the generation and records why
(``last_stop``: eos, stop, tokens, time, repetition, cancel).
"""

from __future__ import annotations

MAX_ANSWER_SECONDS = 300.0   # generation time of one answer, after its prompt has been read
MAX_ANSWER_TOKENS = 4096     # whatever a request asks for
LOOP_SPAN = 32               # tokens of exact repetition that count as a loop...
LOOP_REPEATS = 3             # ...and at least this many copies of the repeated run
LOOP_PERIOD = 64             # the longest repeated run looked for, in tokens


class RepetitionGuard:
    """Says when the tokens generated so far end in a loop: one run of up to :data:`LOOP_PERIOD`
    tokens repeated back to back over at least :data:`LOOP_SPAN` tokens and :data:`LOOP_REPEATS` times."""

    def __init__(self) -> None:
        self.tokens: list[int] = []

    def looping(self, token: int) -> bool:
        """Add the next token; True once the generation has started to loop."""
        tokens = self.tokens
        tokens.append(token)
        count = len(tokens)
        for period in range(1, LOOP_PERIOD + 1):
            span = max(LOOP_SPAN, period * LOOP_REPEATS)
            if span > count:
                break
            if tokens[-1] != tokens[-1 - period]:
                continue           # cheap test first: most periods fail here
            tail = tokens[-span:]
            if tail[period:] == tail[:-period]:
                return True
        return False
