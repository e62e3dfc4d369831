"""``LanguageModel`` over llama-cpp-python: streaming, cancellation, images, JSON grammars.

Why not ``MTMDChatHandler``: it clears the KV cache on every call, so a photo
would be encoded again for the caption pass, the answer pass and every
follow-up question. Here the prompt is tokenized with ``llama_cpp.mtmd_cpp``
into text and image chunks, and the adapter remembers what the KV cache holds
(text tokens and image chunk ids). A request whose prefix matches (same image,
same context) only evaluates its new suffix.

Models must be closed explicitly (``close()``): letting a Llama with a
multimodal context be collected at interpreter exit fails ("I/O operation on
closed file"), so an atexit hook closes any model still open.
"""

from __future__ import annotations

import atexit
import codecs
import ctypes
import json
import os
import sys
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from typing import Any

from companion.backends import chat_template
from companion.backends.llama_limits import MAX_ANSWER_SECONDS, MAX_ANSWER_TOKENS, RepetitionGuard
from companion.core.errors import BadImageError, ModelError
from companion.core.protocols import ChatMessage, GenerationRequest

DEFAULT_MAX_CTX = 8192
# For base models (no tokenizer.chat_template), e.g. Gemma 3 270M.
SIMPLE_STOP = "\nUser:"
_LIVE: "weakref.WeakSet[LlamaModel]" = weakref.WeakSet()
_QUIET_LOG: Any = None  # keeps the ctypes log callback alive


def _close_all() -> None:
    for model in list(_LIVE):
        model.close()


atexit.register(_close_all)


def _memory_bytes() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # Windows has no sysconf
        return 8 << 30


def choose_n_ctx(metadata: dict[str, Any], max_ctx: int = DEFAULT_MAX_CTX, ram_bytes: int | None = None) -> int:
    """Context size: the trained length, capped by ``max_ctx`` and by a quarter of RAM for the KV cache."""
    arch = metadata.get("general.architecture", "")
    n_train = int(metadata.get(f"{arch}.context_length") or max_ctx)
    n_ctx = min(n_train, max_ctx)
    layers = int(metadata.get(f"{arch}.block_count") or 0)
    heads_kv = int(metadata.get(f"{arch}.attention.head_count_kv") or metadata.get(f"{arch}.attention.head_count") or 0)
    head_dim = int(metadata.get(f"{arch}.attention.key_length") or 0)
    if not head_dim and heads_kv:
        heads = int(metadata.get(f"{arch}.attention.head_count") or 1)
        head_dim = int(metadata.get(f"{arch}.embedding_length") or 0) // heads
    per_token = 2 * layers * heads_kv * head_dim * 2  # K and V, float16
    if per_token:
        n_ctx = min(n_ctx, (ram_bytes or _memory_bytes()) // 4 // per_token)
    return max(512, n_ctx // 256 * 256)


def _default_threads() -> int:
    cpus = os.cpu_count() or 2
    return cpus if cpus <= 4 else cpus // 2  # llama.cpp is fastest on physical cores


class LlamaModel:
    """A GGUF language model, optionally with a vision projector (mmproj)."""

    def __init__(self, model_path: str | Path, mmproj_path: str | Path | None = None, *, name: str = "",
                 n_ctx: int | None = None, max_ctx: int = DEFAULT_MAX_CTX, n_gpu_layers: int = 0,
                 n_threads: int | None = None, image_max_tokens: int | None = 256,
                 chat_format: str = "auto", verbose: bool = False, allow_amx: bool = False,
                 max_seconds: float = MAX_ANSWER_SECONDS) -> None:
        """``chat_format``: auto (GGUF template, else a simple one) | simple | raw (plain completion);
        a template that fails or loops is replaced by its family's built-in one (``chat_template``).

        ``allow_amx``: let llama.cpp use its AMX CPU code (off by default; see ``llama_backends``).
        ``max_seconds``: the longest one answer may generate (``llama_limits``).
        """
        from companion.backends.gguf_header import check_mmproj_compatible, read_gguf
        from companion.backends.llama_backends import ensure_loaded

        self.model_path = Path(model_path)
        self.mmproj_path = Path(mmproj_path) if mmproj_path else None
        for path in (self.model_path, self.mmproj_path):
            if path is not None and not path.is_file():
                raise ModelError(f"model file not found: {path}")
        info = read_gguf(self.model_path)
        if self.mmproj_path is not None:
            check_mmproj_compatible(self.model_path, self.mmproj_path)  # clear error instead of an abort
        self.name = name or self.model_path.stem
        self.verbose = verbose
        self._lock = threading.Lock()
        self._mtmd: Any = None
        self._bitmaps: OrderedDict[tuple[str, int, int], Any] = OrderedDict()
        self._cached: list[int | tuple[str, str, int]] = []  # what the KV cache holds, in order
        self.last_stats: dict[str, float] = {}
        self.last_stop = ""     # why the last generation ended: eos, stop, tokens, time, repetition, cancel
        self._closed = False

        import llama_cpp  # lazy: heavy native library
        self._lc = llama_cpp
        quiet_native_logs(verbose)
        self.backends = ensure_loaded(allow_amx)
        if self.backends.error:
            raise ModelError(f"llama.cpp cannot run here: {self.backends.error}")
        try:
            self._llm = llama_cpp.Llama(
                model_path=str(self.model_path), n_ctx=n_ctx or choose_n_ctx(info.metadata, max_ctx),
                n_gpu_layers=n_gpu_layers, n_threads=n_threads or _default_threads(),
                n_batch=512, verbose=verbose)
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"could not load {self.model_path.name}: {exc}") from exc
        self.context_length = int(self._llm.n_ctx())
        self.max_seconds = max_seconds
        template = self._llm.metadata.get("tokenizer.chat_template") or ""
        self.chat_format = chat_format if chat_format != "auto" else ("jinja" if template else "simple")
        self._template = template
        self.template_note: str | None = None     # why the model's own template is not used
        if self.chat_format == "jinja":
            problem = chat_template.problem(template, self.name)   # a broken or looping one: found now, once
            if problem is not None:
                self._fall_back(problem)
        if self.mmproj_path is not None:
            self._init_mtmd(n_threads or _default_threads(), n_gpu_layers != 0, image_max_tokens)
        self.supports_images = self._mtmd is not None
        _LIVE.add(self)

    def _init_mtmd(self, n_threads: int, use_gpu: bool, image_max_tokens: int | None) -> None:
        from llama_cpp import mtmd_cpp

        params = mtmd_cpp.mtmd_context_params_default()
        params.use_gpu = use_gpu
        params.n_threads = n_threads
        params.print_timings = self.verbose
        params.warmup = False
        if image_max_tokens:
            # Caps dynamic-resolution projectors (SmolVLM, Qwen-VL); fixed-size ones (Gemma 3: 256) ignore it.
            params.image_max_tokens = int(image_max_tokens)
        ctx = mtmd_cpp.mtmd_init_from_file(str(self.mmproj_path).encode(), self._llm.model, params)
        if not ctx:
            self._llm.close()
            raise ModelError(f"could not load the vision projector {self.mmproj_path}")
        self._mtmd = ctx
        self._m = mtmd_cpp
        self._marker = mtmd_cpp.mtmd_default_marker().decode()

    # --- LanguageModel ------------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        self._check_open()
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def describe(self) -> tuple[str, bool, int]:
        """``(name, supports_images, context_length)``: what a process host needs to know."""
        return self.name, self.supports_images, self.context_length

    def note(self) -> str | None:
        """Why the model's own chat template is not used (``template_note``), for a process host."""
        return self.template_note

    def stats(self) -> dict[str, float]:
        """Timings of the last generation (``last_stats``)."""
        return dict(self.last_stats)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for bitmap in self._bitmaps.values():
                self._m.mtmd_bitmap_free(bitmap)
            self._bitmaps.clear()
            if self._mtmd is not None:
                self._m.mtmd_free(self._mtmd)  # before the Llama: the projector references its model
                self._mtmd = None
            self._llm.close()
            _LIVE.discard(self)

    def __enter__(self) -> "LlamaModel":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stream(self, request: GenerationRequest, cancel: threading.Event | None = None) -> Iterator[str]:
        """Yield generated text; stops at EOS, a stop string, ``max_tokens`` or ``cancel``."""
        with self._lock:  # one generation at a time: they share the KV cache
            self._check_open()
            try:
                yield from self._stream_locked(request, cancel)
            except RuntimeError as exc:  # llama_decode failures surface as RuntimeError
                self._cached = []        # the KV cache state is unknown now: start over next time
                self._llm.reset()
                raise ModelError(f"{self.name} failed while generating: {exc}") from exc

    # --- prompt ---------------------------------------------------------------------------
    def render(self, messages: Sequence[ChatMessage]) -> tuple[str, list[str], list[str]]:
        """``(prompt text, image paths, extra stop strings)``; images are marked in the text."""
        images = [m.image for m in messages if m.image]
        if images and not self.supports_images:
            raise ModelError(f"{self.name} cannot read images (no vision projector)")
        marker = self._marker if images else ""

        def content(m: ChatMessage) -> str:
            return f"{marker}\n{m.text}" if m.image else m.text

        if self.chat_format == "raw":
            return "".join(content(m) for m in messages), images, []
        if self.chat_format == "jinja":
            try:
                return self._render_jinja(messages, content), images, []
            except chat_template.TemplateError as exc:     # fails on this conversation only
                self._fall_back(str(exc))
        if self.chat_format.startswith("builtin:"):
            family = self.chat_format.removeprefix("builtin:")
            return chat_template.render_builtin(family, [(m.role, content(m)) for m in messages]), images, []
        if self.chat_format == "simple":
            parts = []
            for m in messages:
                label = {"system": "", "user": "User: ", "assistant": "Assistant: "}.get(m.role, f"{m.role}: ")
                parts.append(f"{label}{content(m)}\n" + ("\n" if m.role == "system" else ""))
            return "".join(parts) + "Assistant:", images, [SIMPLE_STOP]
        raise ModelError(f"unknown chat format {self.chat_format!r}")

    def _render_jinja(self, messages: Sequence[ChatMessage], content: Any) -> str:
        """The model's own template, as llama-cpp-python renders it, within a time limit (``chat_template``)."""
        eos = self._llm.detokenize([self._llm.token_eos()]).decode("utf-8", errors="ignore")
        bos = self._llm.detokenize([self._llm.token_bos()]).decode("utf-8", errors="ignore")
        plain = [{"role": m.role, "content": content(m)} for m in messages]
        text = chat_template.render(self._template, plain, bos=bos, eos=eos, model=self.name)
        # The tokenizer adds BOS itself; a second one from the template hurts quality.
        return text[len(bos):] if bos and text.startswith(bos) else text

    def _fall_back(self, problem: str) -> None:
        """Use the built-in template of the model's family from now on, and say so once."""
        family = chat_template.builtin_family(self._template, self._is_special)
        self.chat_format = f"builtin:{family}" if family else "simple"
        self.template_note = chat_template.describe_fallback(problem, family)
        print(f"companion: {self.template_note}", file=sys.stderr, flush=True)

    def _is_special(self, marker: str) -> bool:
        """Whether ``marker`` is one special token of this model's vocabulary (a chat family's turn marker)."""
        return len(self._llm.tokenize(marker.encode(), add_bos=False, special=True)) == 1

    def _tokenize(self, text: str, images: list[str]) -> list[Any]:
        """Prompt units: ints (text tokens) and ("image", id, n_pos, chunk index) for image chunks."""
        if self._mtmd is None:
            return list(self._llm.tokenize(text.encode("utf-8"), add_bos=True, special=True))
        m = self._m
        bitmaps = [self._bitmap(path) for path in images]
        raw = text.encode("utf-8")
        inp = m.mtmd_input_text()
        inp.text, inp.text_len, inp.add_special, inp.parse_special = raw, len(raw), True, True
        chunks = m.mtmd_input_chunks_init()
        self._chunks = chunks  # freed after evaluation in _stream_locked
        array = (m.mtmd_bitmap_p_ctypes * max(1, len(bitmaps)))(*bitmaps)
        if m.mtmd_tokenize(self._mtmd, chunks, ctypes.byref(inp), array, len(bitmaps)) != 0:
            raise ModelError("the prompt's image markers do not match its images")
        units: list[Any] = []
        for i in range(m.mtmd_input_chunks_size(chunks)):
            chunk = m.mtmd_input_chunks_get(chunks, i)
            if m.mtmd_input_chunk_get_type(chunk) == m.MTMD_INPUT_CHUNK_TYPE_TEXT:
                n = ctypes.c_size_t()
                ptr = m.mtmd_input_chunk_get_tokens_text(chunk, ctypes.byref(n))
                # mtmd writes LLAMA_TOKEN_NULL (-1) for a projector's special token the text
                # vocabulary lacks (e.g. <global-img>); such a token cannot be evaluated.
                units.extend(t for t in (int(ptr[j]) for j in range(n.value)) if t >= 0)
            else:
                chunk_id = (m.mtmd_input_chunk_get_id(chunk) or b"").decode() or f"chunk{i}"
                units.append(("image", chunk_id, int(m.mtmd_input_chunk_get_n_pos(chunk)), i))
        return units

    def _bitmap(self, path: str) -> Any:
        # Decoding a 12-megapixel JPEG takes a while: keep the last few photos' bitmaps.
        try:
            st = os.stat(path)
        except OSError as exc:
            raise BadImageError(f"cannot read image {path}: {exc.strerror}") from exc
        key = (str(Path(path).resolve()), st.st_mtime_ns, st.st_size)
        if key in self._bitmaps:
            self._bitmaps.move_to_end(key)
            return self._bitmaps[key]
        bitmap = self._m.mtmd_helper_bitmap_init_from_file(self._mtmd, key[0].encode(), False)
        if not bitmap:
            raise BadImageError(f"{path} is not an image llama.cpp can decode")
        self._bitmaps[key] = bitmap
        while len(self._bitmaps) > 2:
            self._m.mtmd_bitmap_free(self._bitmaps.popitem(last=False)[1])
        return bitmap

    # --- evaluation ------------------------------------------------------------------------
    @staticmethod
    def _key(unit: Any) -> Any:
        return unit[:3] if isinstance(unit, tuple) else unit

    @staticmethod
    def _pos(units: Sequence[Any]) -> int:
        return sum(u[2] if isinstance(u, tuple) else 1 for u in units)

    def _reuse(self, units: list[Any]) -> int:
        """Keep the longest cached prefix (in units) and drop the rest of the KV cache."""
        keep = 0
        for cached, new in zip(self._cached, units, strict=False):   # a common prefix: lengths differ
            if cached != self._key(new):
                break
            keep += 1
        # The last token is always fed to generate() (fresh logits), even when it is cached.
        keep = min(keep, len(units) - 1)
        pos = self._pos(units[:keep])
        if keep == 0 or not self._llm._ctx.kv_cache_seq_rm(-1, pos, -1):
            self._llm.reset()
            self._llm._ctx.kv_cache_clear()
            keep, pos = 0, 0
        self._cached = self._cached[:keep]
        self._llm.n_tokens = pos
        return keep

    def _eval_units(self, units: list[Any], cancel: threading.Event | None) -> bool:
        """Evaluate ``units`` after the cached prefix; False when cancelled."""
        lc, llm = self._lc, self._llm
        i = 0
        while i < len(units):
            if cancel is not None and cancel.is_set():
                return False
            unit = units[i]
            if isinstance(unit, tuple):
                chunk = self._m.mtmd_input_chunks_get(self._chunks, unit[3])
                new_pos = lc.llama_pos(0)
                rc = self._m.mtmd_helper_eval_chunk_single(self._mtmd, llm._ctx.ctx, chunk, llm.n_tokens, 0,
                                                           llm.n_batch, False, ctypes.byref(new_pos))
                if rc != 0:
                    raise ModelError(f"could not encode the image (error {rc})")
                llm.n_tokens = new_pos.value
                self._cached.append(self._key(unit))
                i += 1
                continue
            j = i
            while j < len(units) and not isinstance(units[j], tuple) and j - i < llm.n_batch:
                j += 1
            llm.eval(units[i:j])
            self._cached.extend(units[i:j])
            i = j
        return True

    def _stream_locked(self, request: GenerationRequest, cancel: threading.Event | None) -> Iterator[str]:
        started = time.perf_counter()
        text, images, extra_stop = self.render(request.messages)
        self._chunks = None
        try:
            units = self._tokenize(text, images)
            if not units or isinstance(units[-1], tuple):
                raise ModelError("a prompt must end with text, not an image")
            if self._pos(units) + 1 > self.context_length:
                raise ModelError(f"the prompt ({self._pos(units)} tokens) does not fit the model's context "
                                 f"({self.context_length}); ask about less at once")
            reused = self._reuse(units)
            # Evaluate everything but the last text token; generate() evaluates that one and samples.
            if not self._eval_units(units[reused:-1], cancel):
                return
        finally:
            if self._chunks is not None:
                self._m.mtmd_input_chunks_free(self._chunks)
                self._chunks = None
        prompt_pos = self._pos(units)
        self.last_stats = {"prompt_positions": prompt_pos, "reused_positions": self._pos(units[:reused]),
                           "prompt_eval_s": time.perf_counter() - started}
        yield from self._generate(units[-1], request, cancel, extra_stop, prompt_pos, started)

    def _generate(self, last: int, request: GenerationRequest, cancel: threading.Event | None,
                  extra_stop: list[str], prompt_pos: int, started: float) -> Iterator[str]:
        llm, lc = self._llm, self._lc
        llm.set_seed(request.seed)
        stops = [s for s in (*request.stop, *extra_stop) if s]
        budget = min(request.max_tokens, MAX_ANSWER_TOKENS, self.context_length - prompt_pos)
        deadline = time.perf_counter() + self.max_seconds
        guard = RepetitionGuard()
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        vocab = llm._model.vocab
        pending, generated, first, evaluated, stopped = "", 0, None, last, "tokens"
        gen = self._tokens(last, request)
        try:
            for token in gen:
                # generate() evaluated the previous token before sampling this one.
                self._cached.append(evaluated)
                evaluated = token
                if lc.llama_vocab_is_eog(vocab, token) or (cancel is not None and cancel.is_set()):
                    stopped = "eos" if lc.llama_vocab_is_eog(vocab, token) else "cancel"
                    break
                if guard.looping(token):
                    stopped = "repetition"      # the rest would be the same words again
                    break
                if time.perf_counter() > deadline:
                    stopped = "time"
                    break
                generated += 1
                if first is None:
                    first = time.perf_counter()
                    self.last_stats["ttft_s"] = first - started
                pending += decoder.decode(llm.detokenize([token]))
                cut = min((pending.find(s) for s in stops if s in pending), default=-1)
                if cut >= 0:
                    if pending[:cut]:
                        yield pending[:cut]
                    pending, stopped = "", "stop"
                    break
                hold = max((k for s in stops for k in range(1, len(s)) if pending.endswith(s[:k])), default=0)
                if len(pending) > hold:
                    yield pending[:len(pending) - hold]
                    pending = pending[len(pending) - hold:]
                if generated >= budget:
                    break
            else:
                pending += decoder.decode(b"", final=True)
            if pending and not any(s in pending for s in stops):
                yield pending
        finally:
            gen.close()
            # The cache holds the prompt plus every generated token that was fed back.
            self._cached = self._cached[:self._units_for_pos(llm.n_tokens)]
            self.last_stats.update(generated=generated, total_s=time.perf_counter() - started,
                                   gen_s=time.perf_counter() - (first or time.perf_counter()))
            self.last_stop = stopped

    def _tokens(self, last: int, request: GenerationRequest) -> Generator[int, None, None]:
        """Sampled tokens; each is evaluated (fed back) before the next is sampled, the last one is not."""
        llm = self._llm
        if request.json_schema is None:
            yield from llm.generate([last], reset=False, temp=request.temperature, top_k=40, top_p=0.95,
                                    min_p=0.05, repeat_penalty=1.0)
            return
        from llama_cpp.llama_grammar import LlamaGrammar

        from companion.backends.llama_sampling import ConstrainedSampler, strict_strings

        try:
            grammar = LlamaGrammar.from_json_schema(json.dumps(request.json_schema), verbose=self.verbose)
        except Exception as exc:  # the converter raises plain Exceptions on unsupported schemas
            raise ModelError(f"cannot build a grammar from the JSON schema: {exc}") from exc
        sampler = ConstrainedSampler(llm, strict_strings(grammar._grammar), grammar._root,
                                     temperature=request.temperature, seed=request.seed)
        try:
            token = last
            while True:
                llm.eval([token])
                token = sampler.sample(llm._ctx.ctx)
                yield token
        finally:
            sampler.close()

    def _units_for_pos(self, n_pos: int) -> int:
        pos = 0
        for index, unit in enumerate(self._cached):
            pos += unit[2] if isinstance(unit, tuple) else 1
            if pos > n_pos:
                return index
        return len(self._cached)

    def _check_open(self) -> None:
        if self._closed:
            raise ModelError(f"model {self.name} is closed")


def quiet_native_logs(verbose: bool = False) -> None:
    """Silence llama.cpp / mtmd's stderr chatter unless verbose (GUI users never see it)."""
    global _QUIET_LOG
    if verbose or _QUIET_LOG is not None:
        return
    import llama_cpp
    from llama_cpp import mtmd_cpp

    _QUIET_LOG = llama_cpp.llama_log_callback(lambda level, text, data: None)
    for setter in (llama_cpp.llama_log_set, getattr(mtmd_cpp, "mtmd_log_set", None),
                   getattr(mtmd_cpp, "mtmd_helper_log_set", None)):
        if setter is not None:
            setter(_QUIET_LOG, None)
