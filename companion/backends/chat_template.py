"""A model's chat template, rendered so that a broken or hostile one cannot hang or crash a question.

A GGUF carries its chat template as Jinja2 code, which runs in Jinja's sandbox (as in
llama-cpp-python's ``Jinja2ChatFormatter``, whose environment this mirrors): it cannot reach
Python, but it can loop for hours (nested ``range`` loops), build a string of gigabytes
(``"x" * 10**10``) or fail with a traceback. Here a render

- runs under a time limit (:data:`RENDER_SECONDS`), enforced by a trace function on the
  template's own frames (SQLite-style cooperative interruption is not available in Jinja),
- may not multiply sequences or raise numbers beyond small bounds (the sandbox's
  ``intercepted_binops``), so no single operation runs for long inside C code,
- fails with :class:`TemplateError`, one line that names the model.

The caller then uses the built-in template of the model's family (:func:`builtin_family`,
:func:`render_builtin`): llama.cpp's own C++ implementations of the common formats, which
it recognises from the template's text, or from the special tokens of the vocabulary.
"""

from __future__ import annotations

import ctypes
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from types import FrameType
from typing import Any

from companion.core.errors import ModelError

RENDER_SECONDS = 2.0        # a real template renders in about a millisecond
MAX_REPEAT = 100_000        # "ab" * n, [x] * n: at most this many items
MAX_EXPONENT = 256          # 2 ** n
# A conversation to try a template on when the model is added or loaded.
SAMPLE = (("system", "You are helpful."), ("user", "Hello"), ("assistant", "Hi!"), ("user", "Who is this?"))
# Special tokens that name a family when llama.cpp cannot tell it from the template's text.
FAMILY_TOKENS = (("gemma", "<start_of_turn>"), ("chatml", "<|im_start|>"), ("llama3", "<|start_header_id|>"),
                 ("phi3", "<|assistant|>"))


class TemplateError(ModelError):
    """A chat template that failed, looped or asked for too much; the message names the model."""


class _Deadline(BaseException):
    """Raised inside the template's frames: a BaseException, so no ``except Exception`` in Jinja catches it."""


def _environment() -> Any:
    import jinja2
    import jinja2.ext
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    class Bounded(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset(["*", "**"])

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "**" and isinstance(right, (int, float)) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"the exponent {right} is too large")
            if operator == "*":
                for items, count in ((left, right), (right, left)):
                    if isinstance(items, (str, list, tuple)) and isinstance(count, int) \
                            and len(items) * count > MAX_REPEAT:
                        raise SecurityError("the template builds a sequence that is too long")
            return super().call_binop(context, operator, left, right)

    environment = Bounded(loader=jinja2.BaseLoader(), trim_blocks=True, lstrip_blocks=True,
                          extensions=[Jinja2ChatFormatter.IgnoreGenerationTags, jinja2.ext.loopcontrols])
    environment.filters["tojson"] = Jinja2ChatFormatter.tojson
    return environment


def _raise(message: str) -> None:
    raise ValueError(message)


def render(template: str, messages: Sequence[dict[str, Any]], *, bos: str, eos: str, model: str,
           seconds: float = RENDER_SECONDS) -> str:
    """The prompt ``template`` makes of ``messages`` (with the generation prompt), or ``TemplateError``."""
    try:
        compiled = _environment().from_string(template)
    except Exception as exc:   # TemplateSyntaxError, and anything else a broken template trips over
        raise TemplateError(f"the chat template of {model} is broken ({_one_line(exc)})") from exc
    variables = dict(messages=list(messages), bos_token=bos, eos_token=eos, add_generation_prompt=True,
                     raise_exception=_raise, strftime_now=lambda f: datetime.now().strftime(f))
    try:
        return str(_within(seconds, lambda: compiled.render(**variables)))
    except _Deadline as exc:
        raise TemplateError(f"the chat template of {model} did not finish within {seconds:g} s") from exc
    except (Exception, RecursionError) as exc:
        raise TemplateError(f"the chat template of {model} failed ({_one_line(exc)})") from exc


def problem(template: str, model: str) -> str | None:
    """Why ``template`` cannot be used (one line), or None when it renders :data:`SAMPLE`."""
    try:
        render(template, [{"role": r, "content": c} for r, c in SAMPLE], bos="<s>", eos="</s>", model=model)
    except TemplateError as exc:
        return str(exc)
    return None


def _within(seconds: float, work: Callable[[], Any]) -> Any:
    """Run ``work``, raising ``_Deadline`` in a template frame once ``seconds`` have passed.

    Compiled templates are Python code (filename "<template>"): their line events carry the check;
    calls into Jinja's runtime (a loop's iterator, a filter) are checked as they are entered.
    """
    deadline = time.monotonic() + seconds

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        if time.monotonic() > deadline:
            raise _Deadline
        return local

    def calls(frame: FrameType, event: str, arg: Any) -> Any:
        if time.monotonic() > deadline:
            raise _Deadline
        return local if frame.f_code.co_filename == "<template>" else None

    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        return work()
    finally:
        sys.settrace(previous)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


# ---- the family's built-in template (llama.cpp) -------------------------------------------------------


def _apply(template: str, messages: Sequence[tuple[str, str]]) -> str | None:
    """llama.cpp's built-in rendering for ``template`` (a family name, or a template it recognises)."""
    import llama_cpp

    chat = (llama_cpp.llama_chat_message * len(messages))()
    keep = []
    for i, (role, content) in enumerate(messages):
        keep += [role.encode(), content.encode("utf-8", errors="replace")]
        chat[i].role, chat[i].content = keep[-2], keep[-1]
    size = 4096 + sum(len(k) for k in keep) * 2
    buffer = ctypes.create_string_buffer(size)
    written = llama_cpp.llama_chat_apply_template(template.encode("utf-8", errors="replace"), chat, len(messages),
                                                  True, buffer, size)
    if written < 0:
        return None
    if written > size:
        buffer = ctypes.create_string_buffer(written)
        written = llama_cpp.llama_chat_apply_template(template.encode("utf-8", errors="replace"), chat,
                                                      len(messages), True, buffer, written)
    return buffer.raw[:written].decode("utf-8", errors="replace")


def builtin_names() -> list[str]:
    import llama_cpp

    count = llama_cpp.llama_chat_builtin_templates(None, 0)
    names = (ctypes.c_char_p * count)()
    llama_cpp.llama_chat_builtin_templates(names, count)
    return [n.decode() for n in names if n]


def builtin_family(template: str, is_special: Callable[[str], bool] | None = None) -> str | None:
    """The name of llama.cpp's built-in template for this model: recognised from ``template``'s text,
    else from the vocabulary (``is_special(marker)``: the marker is one special token); None if neither."""
    if template:
        detected = _apply(template, SAMPLE)
        if detected is not None:
            return next((n for n in builtin_names() if _apply(n, SAMPLE) == detected), None)
    if is_special is not None:
        return next((family for family, marker in FAMILY_TOKENS if is_special(marker)), None)
    return None


def render_builtin(family: str, messages: Sequence[tuple[str, str]]) -> str:
    """The prompt llama.cpp's built-in ``family`` template makes of (role, content) messages."""
    text = _apply(family, messages)
    if text is None:
        raise ModelError(f"llama.cpp has no built-in chat template called {family!r}")
    return text


def describe_fallback(problem_text: str, family: str | None, *, loaded: bool = True) -> str:
    """What the user reads: the problem, and what Companion does instead (``loaded``: the vocabulary
    was looked at too, so no family means none)."""
    if family:
        instead = f"Companion uses llama.cpp's built-in {family!r} template instead"
    elif loaded:
        instead = "Companion uses a plain User:/Assistant: format instead"
    else:
        instead = "Companion will use the built-in template of the model's family instead"
    return f"{problem_text}; {instead}"

