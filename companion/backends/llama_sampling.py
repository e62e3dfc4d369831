"""Grammar-constrained sampling that asks the grammar only when the free choice breaks it.

llama-cpp-python puts the grammar first in its sampler chain, so every token
checks the whole vocabulary against the grammar: with Gemma 3's 262k-token
vocabulary that is about a second per token on a laptop CPU, which makes a JSON
answer of 100 tokens take minutes. llama.cpp's own ``common_sampler`` does it
the other way round, and so does this: sample as if unconstrained (top-k,
top-p, min-p, temperature), check that one token against the grammar, and only
when it is rejected apply the grammar to the whole vocabulary and sample
again. The output follows the same grammar; most steps cost one check.
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from companion.core.errors import ModelError

_TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)], align=True)


# llama-cpp-python 0.3.36's schema converter lets any character but a quote or backslash into a string,
# raw newlines included; json.loads rejects those, so a "constrained" reply could still fail to parse.
# JSON (RFC 8259) excludes control characters; llama.cpp's own converter writes this class.
_LOOSE_CHAR = 'char ::= [^"\\\\]'
_STRICT_CHAR = 'char ::= [^"\\\\\\x7F\\x00-\\x1F]'


def strict_strings(grammar_text: str) -> str:
    """The converter's GBNF with JSON's own string characters: no raw control characters."""
    return grammar_text.replace(_LOOSE_CHAR, _STRICT_CHAR)


class ConstrainedSampler:
    """One generation's sampler: ``sample(ctx)`` picks the next token and tells the grammar."""

    def __init__(self, llm: Any, grammar_text: str, root: str, *, temperature: float, seed: int,
                 top_k: int = 40, top_p: float = 0.95, min_p: float = 0.05) -> None:
        import llama_cpp as lc  # lazy: heavy native library

        self._lc = lc
        vocab = llm._model.vocab
        self._n_vocab = int(lc.llama_vocab_n_tokens(vocab))
        self._grammar = lc.llama_sampler_init_grammar(vocab, grammar_text.encode(), root.encode())
        if not self._grammar:
            raise ModelError("llama.cpp could not parse the grammar for this JSON schema")
        self._chain = lc.llama_sampler_chain_init(lc.llama_sampler_chain_default_params())
        if temperature <= 0:
            steps = [lc.llama_sampler_init_greedy()]
        else:
            steps = [lc.llama_sampler_init_top_k(top_k), lc.llama_sampler_init_top_p(top_p, 1),
                     lc.llama_sampler_init_min_p(min_p, 1), lc.llama_sampler_init_temp(temperature),
                     lc.llama_sampler_init_dist(seed)]
        for step in steps:
            lc.llama_sampler_chain_add(self._chain, step)   # the chain owns them now
        self._one = (lc.llama_token_data * 1)()
        self._full = (lc.llama_token_data * self._n_vocab)()
        self._full_view = np.frombuffer(memoryview(self._full), dtype=_TOKEN_DATA)   # shares its memory
        self._full_view["id"] = np.arange(self._n_vocab, dtype=np.int32)

    def sample(self, ctx: Any) -> int:
        """The next token after the last evaluated position of ``ctx``."""
        lc = self._lc
        token = int(lc.llama_sampler_sample(self._chain, ctx, -1))   # as if unconstrained
        if not self._allowed(token):
            token = self._resample(ctx)
        lc.llama_sampler_accept(self._grammar, token)
        return token

    def close(self) -> None:
        lc = self._lc
        if self._chain:
            lc.llama_sampler_free(self._chain)
            self._chain = None
        if self._grammar:
            lc.llama_sampler_free(self._grammar)
            self._grammar = None

    def _allowed(self, token: int) -> bool:
        lc = self._lc
        # ctypes converts the ints and floats; llama_cpp's hints type the fields as c_int32/c_float.
        self._one[0].id, self._one[0].logit, self._one[0].p = token, 1.0, 0.0  # type: ignore[assignment]
        array = lc.llama_token_data_array(self._one, 1, -1, False)
        lc.llama_sampler_apply(self._grammar, ctypes.byref(array))
        return bool(np.isfinite(self._one[0].logit))

    def _resample(self, ctx: Any) -> int:
        """The grammar over the whole vocabulary, then the same chain: what grammar-first would pick."""
        lc = self._lc
        logits = np.ctypeslib.as_array(lc.llama_get_logits_ith(ctx, -1), shape=(self._n_vocab,))
        self._full_view["id"] = np.arange(self._n_vocab, dtype=np.int32)   # earlier sorts reorder the array
        self._full_view["logit"] = logits
        self._full_view["p"] = 0.0
        array = lc.llama_token_data_array(self._full, self._n_vocab, -1, False)
        lc.llama_sampler_apply(self._grammar, ctypes.byref(array))
        lc.llama_sampler_apply(self._chain, ctypes.byref(array))
        if not 0 <= array.selected < array.size:
            raise ModelError("no token fits the JSON grammar here")
        return int(array.data[array.selected].id)
