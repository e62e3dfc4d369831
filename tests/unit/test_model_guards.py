"""Hostile or broken model files without loading a model: the GGUF tensor index, chat templates, loops."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from companion.backends import chat_template, gguf_header
from companion.backends.llama_limits import LOOP_SPAN, RepetitionGuard
from companion.cli import main
from companion.core.errors import BadModelFileError
from tests.unit.test_model_manager import write_gguf

LOOPING = "{% for i in range(100000) %}{% for j in range(100000) %}{{ i }}{% endfor %}{% endfor %}"
CHATML = ("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
          "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
USER = [{"role": "user", "content": "hi"}]


def test_the_tensor_sizes_are_ggml_s() -> None:
    from gguf.constants import GGML_QUANT_SIZES

    assert gguf_header.GGML_BLOCKS == {int(kind): size for kind, size in GGML_QUANT_SIZES.items()}


def tiny_model(path: Path, template: str | None = None) -> Path:
    kv: dict[str, object] = {"llama.embedding_length": 64}
    if template is not None:
        kv["tokenizer.chat_template"] = template
    return write_gguf(path, "llama", kv, {"a.weight": np.ones((64, 64), np.float32),
                                          "b.weight": np.ones((16, 64), np.float32)})


def test_a_gguf_cut_short_is_refused_with_what_to_do(tmp_path: Path) -> None:
    whole = tiny_model(tmp_path / "tiny.gguf")
    assert set(gguf_header.read_gguf(whole).tensors) == {"a.weight", "b.weight"}
    for keep in (whole.stat().st_size - 1, whole.stat().st_size // 2):
        cut = tmp_path / f"cut-{keep}.gguf"
        cut.write_bytes(whole.read_bytes()[:keep])
        with pytest.raises(BadModelFileError, match=r"is incomplete: tensor .* ends at byte .*get the file again"):
            gguf_header.read_gguf(cut)


@pytest.mark.parametrize("template, problem", [
    (LOOPING, "did not finish within"),
    ("{% for %}", "is broken (Expected an expression"),
    ("{{ raise_exception('roles must alternate') }}", "failed (roles must alternate)"),
    ("{{ 'x' * 10000000000 }}", "a sequence that is too long"),
    ("{{ 2 ** 100000000 }}", "exponent 100000000 is too large"),
    ("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "maximum recursion depth"),
    ("{{ ''.__class__.__mro__ }}", "unsafe"),
])
def test_a_bad_template_is_one_line_naming_the_model(template: str, problem: str) -> None:
    with pytest.raises(chat_template.TemplateError) as caught:
        chat_template.render(template, USER, bos="", eos="", model="evil-7b", seconds=0.5)
    message = str(caught.value)
    assert message.startswith("the chat template of evil-7b ") and problem in message and "\n" not in message


def test_a_good_template_renders_and_its_family_is_known() -> None:
    assert chat_template.render(CHATML, USER, bos="", eos="", model="m") == \
        "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    assert chat_template.problem(CHATML, "m") is None
    assert chat_template.builtin_family(CHATML) == "chatml"
    assert chat_template.builtin_family(LOOPING, lambda marker: marker == "<start_of_turn>") == "gemma"
    assert chat_template.render_builtin("gemma", [("user", "hi")]) == \
        "<start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n"


def test_models_add_says_when_it_will_replace_the_template(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tiny_model(tmp_path / "looping.gguf", LOOPING.replace("{{ i }}", "<|im_start|>"))
    assert main(["models", "add", "looping", str(model), "--json"]) == 0
    note = json.loads(capsys.readouterr().out)["note"]
    assert "the chat template of looping did not finish within 2 s" in note and "built-in" in note
    assert main(["models", "add", "fine", str(tiny_model(tmp_path / "fine.gguf", CHATML)), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["note"] == ""


def test_a_loop_is_found_and_a_varied_answer_is_not() -> None:
    guard = RepetitionGuard()
    sentence = [5, 17, 23, 8, 99, 4, 61]                       # "I don't know what to say." again and again
    looped = [guard.looping(t) for t in [1, 2, 3] + sentence * 10]
    assert any(looped) and looped.index(True) < 3 + max(LOOP_SPAN, 3 * len(sentence)) + len(sentence)
    guard = RepetitionGuard()
    varied = np.random.default_rng(0).integers(0, 1000, size=2000).tolist()
    assert not any(guard.looping(t) for t in varied)
    counting = RepetitionGuard()                               # "1, 2, 3, ..." repeats its comma, not itself
    assert not any(counting.looping(t) for n in range(300) for t in (1000 + n, 11))
