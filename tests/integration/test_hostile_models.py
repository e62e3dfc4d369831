"""Broken or hostile models on the real Gemma 3 270M: a cut-short file is refused, a looping or failing chat
template cannot hang or crash a question, and a generation that loops or runs long is cut."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from companion.cli import main
from companion.core.protocols import ChatMessage, GenerationRequest, complete

pytestmark = pytest.mark.models

LOOPING = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
FAILING = "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"


def test_models_add_refuses_a_gguf_cut_short(gemma_path: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    half = tmp_path / "gemma-half.gguf"
    with open(gemma_path, "rb") as source:
        half.write_bytes(source.read(gemma_path.stat().st_size // 2))
    assert main(["models", "add", "half", str(half)]) == 2
    err = capsys.readouterr().err
    assert "gemma-half.gguf is incomplete" in err and "get the file again" in err and err.count("\n") == 1
    assert main(["models", "list", "--json"]) == 0
    assert "half" not in [row["name"] for row in json.loads(capsys.readouterr().out)]
    assert main(["models", "add", "whole", str(gemma_path), "--json"]) == 0       # every tensor is there


@pytest.fixture(scope="module")
def hostile(gemma_path: Path) -> Iterator[Any]:
    """Gemma with a chat template of our choosing (as if the GGUF shipped it): set ``_template`` and
    ``chat_format = "jinja"`` before use."""
    from companion.backends.llama import LlamaModel

    model = LlamaModel(gemma_path, n_ctx=2048, name="gemma-hostile")
    yield model
    model.close()


@pytest.mark.parametrize("template, problem", [(LOOPING, "did not finish within 2 s"),
                                               (FAILING, "Conversation roles must alternate")])
def test_a_broken_chat_template_falls_back_to_its_family(hostile: Any, template: str, problem: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    hostile._template, hostile.chat_format = template, "jinja"
    answer = complete(hostile, GenerationRequest([ChatMessage("user", "Say hello.")], max_tokens=4,
                                                 temperature=0.0))
    assert isinstance(answer, str)
    assert hostile.chat_format == "builtin:gemma"
    assert hostile.template_note is not None and "gemma-hostile" in hostile.template_note
    assert problem in hostile.template_note and "built-in 'gemma' template" in hostile.template_note
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.slow
def test_a_looping_template_cannot_hang_ask(hostile: Any, tmp_path: Path) -> None:
    from companion.app.services import Services
    from companion.core.answer.pipeline import run
    from companion.core.deps import Deps

    services = Services.open(tmp_path / "home")
    services.store.concepts.add("Anna", "person")
    hostile._template, hostile.chat_format = LOOPING, "jinja"
    try:
        answer = run(Deps(services.store, services.settings, model=hostile), "Who is Anna?", temporary=True)
        assert answer.answer and answer.model == "gemma-hostile"
        assert hostile.chat_format == "builtin:gemma"
    finally:
        services.close()


def test_a_generation_that_loops_is_cut(gemma: object) -> None:
    request = GenerationRequest([ChatMessage("user", "ha " * 40)], max_tokens=200, temperature=0.0)
    text = complete(gemma, request)  # type: ignore[arg-type]
    assert gemma.last_stop == "repetition"                      # type: ignore[attr-defined]
    assert gemma.last_stats["generated"] < 60                   # type: ignore[attr-defined]
    assert text.strip()


def test_a_generation_past_its_time_is_cut(gemma: object) -> None:
    limit = gemma.max_seconds                                   # type: ignore[attr-defined]
    gemma.max_seconds = 0.0                                     # type: ignore[attr-defined]
    try:
        request = GenerationRequest([ChatMessage("user", "Once upon a time")], max_tokens=50)
        complete(gemma, request)                                # type: ignore[arg-type]
        assert gemma.last_stop == "time"                        # type: ignore[attr-defined]
        assert gemma.last_stats["generated"] == 0               # type: ignore[attr-defined]
    finally:
        gemma.max_seconds = limit                               # type: ignore[attr-defined]
