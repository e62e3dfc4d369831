"""The llama.cpp adapter on real files: Gemma 3 270M (text) and Gemma + a random mmproj (images)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from companion.core.errors import BadImageError, ModelError
from companion.core.protocols import ChatMessage, GenerationRequest, LanguageModel, complete

pytestmark = pytest.mark.models


def ask(text: str, **kw: object) -> GenerationRequest:
    return GenerationRequest([ChatMessage("user", text)], temperature=0.0, **kw)  # type: ignore[arg-type]


def test_is_a_language_model_with_a_sized_context(gemma: LanguageModel) -> None:
    assert isinstance(gemma, LanguageModel)
    assert gemma.supports_images is False
    assert gemma.context_length == 2048
    assert gemma.count_tokens("Monday, Tuesday") >= 3


def test_context_is_sized_from_the_model_and_capped(gemma_path: Path) -> None:
    from companion.backends.gguf_header import read_gguf
    from companion.backends.llama import choose_n_ctx

    meta = read_gguf(gemma_path).metadata
    assert meta["gemma3.context_length"] == 32768
    assert choose_n_ctx(meta) == 8192                      # trained 32k, capped at 8k
    assert choose_n_ctx(meta, max_ctx=4096) == 4096
    # 18 layers x 1 kv head x 256 x 2 (K,V) x 2 bytes = 18 KiB per token: 64 MiB of RAM -> 16 MiB budget
    assert choose_n_ctx(meta, ram_bytes=64 << 20) == 768


def test_streams_real_completions(gemma: LanguageModel) -> None:
    pieces = list(gemma.stream(ask("Monday, Tuesday, Wednesday,", max_tokens=6)))
    assert len(pieces) >= 3                                # streamed, not one blob
    assert "".join(pieces).startswith(" Thursday, Friday")
    berlin = complete(gemma, ask("The capital of France is Paris. The capital of Germany is", max_tokens=4))
    assert berlin.strip().startswith("Berlin")


def test_max_tokens_and_stop_strings(gemma: LanguageModel) -> None:
    complete(gemma, ask("1, 2, 3, 4, 5,", max_tokens=5))
    assert gemma.last_stats["generated"] == 5  # type: ignore[attr-defined]
    # The model continues " 6, 7, 8"; the stop string cuts before the first comma.
    assert complete(gemma, ask("1, 2, 3, 4, 5,", max_tokens=10, stop=[","])) == " 6"


def test_cancel_stops_generation(gemma: LanguageModel) -> None:
    cancel = threading.Event()
    cancel.set()
    assert list(gemma.stream(ask("1, 2, 3,", max_tokens=50), cancel)) == []
    cancel = threading.Event()
    out = []
    for piece in gemma.stream(ask("1, 2, 3,", max_tokens=200), cancel):
        out.append(piece)
        cancel.set()
    assert len(out) == 1
    assert gemma.last_stats["generated"] == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("seed", [1, 2])
def test_json_schema_output_always_parses(gemma: LanguageModel, seed: int) -> None:
    schema = {"type": "object",
              "properties": {"name": {"type": "string", "maxLength": 16}, "age": {"type": "integer"},
                             "pets": {"type": "array", "items": {"type": "string", "maxLength": 12},
                                      "maxItems": 2}},
              "required": ["name", "age", "pets"]}
    # A base model at temperature 1 would wander; the grammar keeps every token valid JSON.
    text = complete(gemma, GenerationRequest([ChatMessage("user", "Facts about Ann, 34, who owns a cat:\n")],
                                             max_tokens=100, temperature=1.0, seed=seed, json_schema=schema))
    data = json.loads(text)
    assert isinstance(data["name"], str) and isinstance(data["age"], int) and isinstance(data["pets"], list)


def test_prefix_reuse_gives_the_same_answer_as_a_fresh_model(gemma: LanguageModel, gemma_path: Path) -> None:
    from companion.backends.llama import LlamaModel

    shared = "Notes: Ann lives in Lyon. Ben lives in Oslo. Cid lives in Rome.\n"
    complete(gemma, ask(shared + "Ann lives in", max_tokens=3))
    reused = complete(gemma, ask(shared + "Ben lives in", max_tokens=3))
    stats = gemma.last_stats  # type: ignore[attr-defined]
    assert stats["reused_positions"] >= gemma.count_tokens(shared)
    with LlamaModel(gemma_path, chat_format="raw", n_ctx=2048) as fresh:
        assert complete(fresh, ask(shared + "Ben lives in", max_tokens=3)) == reused
        assert fresh.last_stats["reused_positions"] == 0


def test_simple_chat_template_for_base_models(gemma_path: Path) -> None:
    from companion.backends.llama import LlamaModel

    with LlamaModel(gemma_path, n_ctx=1024) as model:
        assert model.chat_format == "simple"              # the GGUF has no tokenizer.chat_template
        text, images, stops = model.render([ChatMessage("system", "Be brief."), ChatMessage("user", "Hi")])
        assert text == "Be brief.\n\nUser: Hi\nAssistant:" and images == [] and stops == ["\nUser:"]
        out = complete(model, GenerationRequest([ChatMessage("user", "Name a fruit.")], max_tokens=30))
        assert "User:" not in out


def test_jinja_chat_template_is_rendered_like_llama_cpp(gemma_path: Path) -> None:
    from companion.backends.llama import LlamaModel

    gemma_it_template = ("{{ bos_token }}{% for m in messages %}<start_of_turn>{{ 'model' if m['role'] == "
                         "'assistant' else m['role'] }}\n{{ m['content'] }}<end_of_turn>\n{% endfor %}"
                         "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}")
    with LlamaModel(gemma_path, n_ctx=1024, chat_format="jinja") as model:
        model._template = gemma_it_template
        text, _, _ = model.render([ChatMessage("user", "Hi")])
        # The template's <bos> is dropped: the tokenizer adds it (a double BOS hurts quality).
        assert text == "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n"
        assert complete(model, GenerationRequest([ChatMessage("user", "Hi")], max_tokens=3)) is not None


def test_text_only_model_refuses_images(gemma: LanguageModel, photo: Path) -> None:
    with pytest.raises(ModelError, match="cannot read images"):
        complete(gemma, GenerationRequest([ChatMessage("user", "What is this?", image=str(photo))]))


def test_image_question_runs_the_mtmd_path(gemma_vision: LanguageModel, photo: Path) -> None:
    assert gemma_vision.supports_images is True
    request = GenerationRequest([ChatMessage("user", "Describe the photo.", image=str(photo))],
                                max_tokens=8, temperature=0.0)
    complete(gemma_vision, request)
    stats = gemma_vision.last_stats  # type: ignore[attr-defined]
    text_only = gemma_vision.count_tokens("User: <start_of_image><end_of_image>\nDescribe the photo.\nAssistant:")
    assert stats["prompt_positions"] >= text_only + 16 - 4   # 16 image positions from the projector
    assert stats["generated"] >= 1


def test_follow_up_about_the_same_photo_reuses_the_encoded_image(gemma_vision: LanguageModel, photo: Path,
                                                                 gemma_path: Path, mmproj_path: Path) -> None:
    from companion.backends.llama import LlamaModel

    caption = GenerationRequest([ChatMessage("user", "Caption this photo.", image=str(photo))], max_tokens=6)
    answer = GenerationRequest([ChatMessage("user", "Caption this photo.", image=str(photo)),
                                ChatMessage("assistant", "A person."),
                                ChatMessage("user", "Where was it taken?")], max_tokens=6, temperature=0.0)
    complete(gemma_vision, caption)
    first = gemma_vision.last_stats["prompt_positions"]  # type: ignore[attr-defined]
    reused_answer = complete(gemma_vision, answer)
    stats = gemma_vision.last_stats  # type: ignore[attr-defined]
    assert stats["reused_positions"] >= first - 8         # image + shared text were not evaluated again
    with LlamaModel(gemma_path, mmproj_path, n_ctx=2048) as fresh:
        assert complete(fresh, answer) == reused_answer   # reuse does not change the answer


def test_a_different_photo_is_encoded_again(gemma_vision: LanguageModel, photo: Path, tmp_path: Path) -> None:
    from PIL import Image

    other = tmp_path / "other.png"
    Image.open(photo).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(other)
    complete(gemma_vision, GenerationRequest([ChatMessage("user", "What?", image=str(photo))], max_tokens=2))
    complete(gemma_vision, GenerationRequest([ChatMessage("user", "What?", image=str(other))], max_tokens=2))
    assert gemma_vision.last_stats["reused_positions"] < 8  # type: ignore[attr-defined]


def test_bad_image_is_a_clear_error(gemma_vision: LanguageModel, tmp_path: Path) -> None:
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not an image")
    with pytest.raises(BadImageError):
        complete(gemma_vision, GenerationRequest([ChatMessage("user", "?", image=str(junk))]))
    with pytest.raises(BadImageError):
        complete(gemma_vision, GenerationRequest([ChatMessage("user", "?", image=str(tmp_path / "gone.jpg"))]))


def test_mismatched_projector_is_a_model_error(gemma_path: Path, make_projector: Any) -> None:
    from companion.backends.llama import LlamaModel

    wrong = make_projector(576)                    # e.g. SmolVLM-256M's width
    with pytest.raises(ModelError, match="outputs 576-wide embeddings but the model expects 640"):
        LlamaModel(gemma_path, wrong)


def test_closed_model_refuses_work_and_close_is_idempotent(gemma_path: Path) -> None:
    from companion.backends.llama import LlamaModel

    model = LlamaModel(gemma_path, chat_format="raw", n_ctx=512)
    model.close()
    model.close()
    with pytest.raises(ModelError, match="closed"):
        complete(model, ask("1, 2,"))


def test_models_left_open_are_closed_cleanly_at_exit(gemma_path: Path, mmproj_path: Path) -> None:
    code = ("from companion.backends.llama import LlamaModel\n"
            f"m = LlamaModel({str(gemma_path)!r}, {str(mmproj_path)!r}, n_ctx=512)\n"
            "print(m.supports_images)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "True"
    assert "I/O operation on closed file" not in run.stderr
    assert "Traceback" not in run.stderr
